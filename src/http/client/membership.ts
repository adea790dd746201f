// Membership endpoints (client-server API "Room membership").
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { authenticate } from "../auth.js";
import { optionalBody, parseBody } from "../body.js";
import { gateJoin } from "../gate.js";
import type { Requester } from "../../accounts/sessions.js";
import type { FastifyRequest } from "fastify";

const reasonBody = z.looseObject({ reason: z.string().max(1024).optional() });
const targetBody = z.looseObject({ user_id: z.string().min(1), reason: z.string().max(1024).optional() });

export function registerMembershipRoutes(http: FastifyInstance, app: App): void {
  const v3 = "/_matrix/client/v3";
  type R = { Params: { roomId: string } };

  const join = async (req: FastifyRequest, who: Requester, roomIdOrAlias: string) => {
    const body = optionalBody(reasonBody, req.body);
    // Joins are metered (rooms_joined) before they happen: bulk joining is how bulk reading starts.
    await gateJoin(app, req, who, roomIdOrAlias);
    const roomId = await app.membership.join(who.userId, roomIdOrAlias, { reason: body.reason });
    app.readGate.joined(roomId, who.userId);
    return { room_id: roomId };
  };
  http.post<{ Params: { roomIdOrAlias: string } }>(`${v3}/join/:roomIdOrAlias`, async (req) => join(req, await authenticate(app, req), req.params.roomIdOrAlias));
  http.post<R>(`${v3}/rooms/:roomId/join`, async (req) => join(req, await authenticate(app, req), req.params.roomId));

  http.post<{ Params: { roomIdOrAlias: string } }>(`${v3}/knock/:roomIdOrAlias`, async (req) => {
    const who = await authenticate(app, req);
    const body = optionalBody(reasonBody, req.body);
    return { room_id: await app.membership.knock(who.userId, req.params.roomIdOrAlias, { reason: body.reason }) };
  });

  const thirdPartyBody = z.looseObject({ id_server: z.string().optional(), medium: z.string().min(1), address: z.string().min(1).max(254) });
  http.post<R>(`${v3}/rooms/:roomId/invite`, async (req) => {
    const who = await authenticate(app, req);
    // Third-party (email) invite: served by src/policy, which is this deployment's identity service.
    const b = req.body as Record<string, unknown> | undefined;
    if (b && typeof b === "object" && !Array.isArray(b) && b.user_id === undefined && b.medium !== undefined) {
      const t = parseBody(thirdPartyBody, req.body);
      // Each invitation mails someone: limited per inviter like registration mails are per IP.
      app.rateLimiter.take("email_invite", who.userId, app.config.rate_limiting.register_per_second, app.config.rate_limiting.register_burst);
      await app.policy.inviteByEmail(who.userId, req.params.roomId, t.medium, t.address);
      return {};
    }
    const body = parseBody(targetBody, req.body);
    await app.membership.invite(who.userId, req.params.roomId, body.user_id, { reason: body.reason });
    return {};
  });

  http.post<R>(`${v3}/rooms/:roomId/leave`, async (req) => {
    const who = await authenticate(app, req);
    await app.membership.leave(who.userId, req.params.roomId, { reason: optionalBody(reasonBody, req.body).reason });
    return {};
  });

  http.post<R>(`${v3}/rooms/:roomId/forget`, async (req) => {
    const who = await authenticate(app, req);
    await app.membership.forget(who.userId, req.params.roomId);
    return {};
  });

  for (const action of ["kick", "ban", "unban"] as const) {
    http.post<R>(`${v3}/rooms/:roomId/${action}`, async (req) => {
      const who = await authenticate(app, req);
      const body = parseBody(targetBody, req.body);
      await app.membership[action](who.userId, req.params.roomId, body.user_id, { reason: body.reason });
      return {};
    });
  }
}
