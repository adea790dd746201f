// Admin authentication for the admin API routes: authenticateAdmin, plus a record of refusals.
// A non-admin calling the admin API is a signal worth an alert (a taken-over account probing), so
// the refusal goes through the same seam as admin actions, under the caller's id.
import type { FastifyRequest } from "fastify";
import type { App } from "../../app.js";
import type { Requester } from "../../accounts/sessions.js";
import { authenticate } from "../auth.js";
import { forbidden } from "../errors.js";

export async function requireAdmin(app: App, req: FastifyRequest): Promise<Requester> {
  const who = await authenticate(app, req);
  if (!who.isAdmin) {
    app.adminActions.record({ admin: who.userId, action: "refused.not_admin", details: { method: req.method, route: req.routeOptions.url } });
    throw forbidden("You are not a server admin");
  }
  return who;
}
