// Per-room features beyond events: reports (client-server API "Reporting Content"), tags
// ("Room Tagging") and upgrades ("Room Upgrades").
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { authenticate, requireSelf } from "../auth.js";
import { optionalBody, parseBody, text } from "../body.js";

// `score` was removed in v1.18; older clients send it, in [-100, 0].
const reportBody = z.looseObject({ reason: text().max(4096).optional(), score: z.number().int().min(-100).max(0).optional() });

export function registerRoomExtraRoutes(http: FastifyInstance, app: App): void {
  const v3 = "/_matrix/client/v3";

  http.post<{ Params: { roomId: string; eventId: string } }>(`${v3}/rooms/:roomId/report/:eventId`, async (req) => {
    const who = await authenticate(app, req);
    const body = optionalBody(reportBody, req.body);
    await app.reports.reportEvent(who.userId, req.params.roomId, req.params.eventId, body);
    return {};
  });

  http.post<{ Params: { roomId: string } }>(`${v3}/rooms/:roomId/report`, async (req) => {
    const who = await authenticate(app, req);
    // `reason` is required for room reports ("May be blank").
    const body = parseBody(reportBody.extend({ reason: text().max(4096) }), req.body);
    await app.reports.reportRoom(who.userId, req.params.roomId, body);
    return {};
  });

  type T = { Params: { userId: string; roomId: string; tag: string } };
  http.get<{ Params: { userId: string; roomId: string } }>(`${v3}/user/:userId/rooms/:roomId/tags`, async (req) => {
    const who = await authenticate(app, req);
    requireSelf(who, req.params.userId);
    return app.tags.get(who.userId, req.params.roomId);
  });

  http.put<T>(`${v3}/user/:userId/rooms/:roomId/tags/:tag`, async (req) => {
    const who = await authenticate(app, req);
    requireSelf(who, req.params.userId);
    const body = parseBody(z.looseObject({ order: z.number().optional() }), req.body);
    await app.tags.put(who.userId, req.params.roomId, req.params.tag, body);
    return {};
  });

  http.delete<T>(`${v3}/user/:userId/rooms/:roomId/tags/:tag`, async (req) => {
    const who = await authenticate(app, req);
    requireSelf(who, req.params.userId);
    await app.tags.delete(who.userId, req.params.roomId, req.params.tag);
    return {};
  });

  http.post<{ Params: { roomId: string } }>(`${v3}/rooms/:roomId/upgrade`, async (req) => {
    const who = await authenticate(app, req);
    const body = parseBody(z.looseObject({ new_version: z.string().max(64), additional_creators: z.array(z.string().max(255)).max(100).optional() }), req.body);
    return app.upgrades.upgrade(who.userId, req.params.roomId, body);
  });
}
