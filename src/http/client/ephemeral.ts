// Typing, receipts and read markers (client-server API "Typing Notifications", "Receipts",
// "Fully read markers").
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { authenticate, requireSelf } from "../auth.js";
import { optionalBody, parseBody } from "../body.js";
import { forbidden } from "../errors.js";

export function registerEphemeralRoutes(http: FastifyInstance, app: App): void {
  const v3 = "/_matrix/client/v3";

  http.put<{ Params: { roomId: string; userId: string } }>(`${v3}/rooms/:roomId/typing/:userId`, async (req) => {
    const who = await authenticate(app, req);
    requireSelf(who, req.params.userId);
    const body = parseBody(z.looseObject({ typing: z.boolean(), timeout: z.number().int().min(0).optional() }), req.body);
    const view = await app.roomReader.viewFor(who, req.params.roomId);
    if (view.currentMembership !== "join") throw forbidden("You are not in this room");
    app.typing.set(req.params.roomId, who.userId, body.typing, body.timeout);
    return {};
  });

  http.post<{ Params: { roomId: string; receiptType: string; eventId: string } }>(`${v3}/rooms/:roomId/receipt/:receiptType/:eventId`, async (req) => {
    const who = await authenticate(app, req);
    const body = optionalBody(z.looseObject({ thread_id: z.string().max(255).optional() }), req.body);
    await app.receipts.send(who, req.params.roomId, req.params.receiptType, req.params.eventId, body.thread_id);
    return {};
  });

  http.post<{ Params: { roomId: string } }>(`${v3}/rooms/:roomId/read_markers`, async (req) => {
    const who = await authenticate(app, req);
    const body = optionalBody(
      z.looseObject({ "m.fully_read": z.string().optional(), "m.read": z.string().optional(), "m.read.private": z.string().optional() }),
      req.body,
    );
    await app.receipts.readMarkers(who, req.params.roomId, { fullyRead: body["m.fully_read"], read: body["m.read"], readPrivate: body["m.read.private"] });
    return {};
  });
}
