// Account locking by server admins (client-server API "Server administration", v1.18:
// GET/PUT /_matrix/client/v1/admin/lock/{userId}). Authorisation is checked before any lookup, so
// the endpoint cannot be used to enumerate accounts.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { parseBody, text } from "../body.js";
import { authenticateAdmin } from "../auth.js";
import { forbidden, invalidParam, notFound } from "../errors.js";

export function registerLockAdminRoutes(http: FastifyInstance, app: App): void {
  const target = async (userId: string) => {
    if (!userId.startsWith("@") || !userId.endsWith(`:${app.config.server_name}`)) throw invalidParam("User does not belong to the local server.");
    const user = await app.accounts.getUser(userId);
    if (!user || user.deactivated) throw notFound("User not found.");
    return user;
  };

  http.get<{ Params: { userId: string } }>("/_matrix/client/v1/admin/lock/:userId", async (req) => {
    await authenticateAdmin(app, req);
    await target(req.params.userId);
    return { locked: (await app.locks.status(req.params.userId)).locked };
  });

  http.put<{ Params: { userId: string } }>("/_matrix/client/v1/admin/lock/:userId", async (req) => {
    const who = await authenticateAdmin(app, req);
    const body = parseBody(z.object({ locked: z.boolean(), reason: text().max(1000).optional() }), req.body);
    const user = await target(req.params.userId);
    if (user.user_id === who.userId) throw forbidden("You cannot lock your own account.");
    if (user.admin) throw forbidden("Administrators cannot be locked through this endpoint.");
    if (body.locked) await app.locks.lock(user.user_id, body.reason ?? null, who.userId);
    else await app.locks.unlock(user.user_id, who.userId);
    req.log.info({ user_id: user.user_id, by: who.userId, locked: body.locked }, "account lock changed");
    return { locked: body.locked };
  });
}
