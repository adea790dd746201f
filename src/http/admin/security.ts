// Rempart's security API (docs/security-console.md): alerts, meters, top readers, a user's access
// timeline, a room's readers, lock / unlock / end sessions, and the audit chain's status. Admins
// only, with a bearer token (like every admin API) or with the web login's session cookie from the
// security console; a state-changing call made with the cookie must carry the session's CSRF token
// in x-csrf-token (the cookie is also SameSite=Strict). Each call is recorded in the audit trail by
// the admin-path hook (src/http/gate.ts); actions add a record naming the admin and the target.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { parseBody, text } from "../body.js";
import { forbidden, invalidParam, missingToken } from "../errors.js";
import { requireAdmin } from "./guard.js";
import { checkCsrf, COOKIE, currentSession, readCookie } from "../web/web-session.js";

const P = "/_rempart/admin/v1/security";

/** The admin making a security API call: bearer token first, else the console's web session. */
export async function securityAdmin(app: App, req: FastifyRequest): Promise<string> {
  const hasBearer = req.headers.authorization !== undefined || (req.query as Record<string, unknown> | undefined)?.access_token !== undefined;
  if (hasBearer || readCookie(req, COOKIE) === undefined) return (await requireAdmin(app, req)).userId;
  const s = await currentSession(app, req);
  if (!s || s.state !== "full" || !s.userId) throw missingToken();
  const user = await app.accounts.getUser(s.userId);
  if (!user?.admin) {
    app.adminActions.record({ admin: s.userId, action: "refused.not_admin", details: { method: req.method, route: req.routeOptions.url } });
    throw forbidden("You are not a server admin");
  }
  if (req.method !== "GET" && req.method !== "HEAD") checkCsrf(s, req);
  return s.userId;
}

function intParam(q: unknown, name: string, def: number | undefined, min: number, max: number): number | undefined {
  const v = (q as Record<string, unknown>)[name];
  if (v === undefined || v === "") return def;
  if (typeof v !== "string" || !/^\d{1,15}$/.test(v)) throw invalidParam(`${name} must be a non-negative integer`);
  const n = Number(v);
  if (n < min || n > max) throw invalidParam(`${name} must be between ${min} and ${max}`);
  return n;
}

const reasonBody = z.object({ reason: text().min(1).max(1000) });

export function registerSecurityAdminRoutes(http: FastifyInstance, app: App): void {
  const sc = () => app.securityConsole;

  http.get(`${P}/alerts`, async (req) => {
    await securityAdmin(app, req);
    const since = intParam(req.query, "since", undefined, 0, Number.MAX_SAFE_INTEGER);
    const limit = intParam(req.query, "limit", 50, 1, 1000)!;
    return { alerts: await sc().alerts(since, limit) };
  });

  http.get<{ Params: { userId: string } }>(`${P}/meters/:userId`, async (req) => {
    await securityAdmin(app, req);
    return sc().meters(req.params.userId);
  });

  http.get(`${P}/readers`, async (req) => {
    await securityAdmin(app, req);
    return sc().readers(intParam(req.query, "limit", 20, 1, 500)!);
  });

  http.get<{ Params: { userId: string } }>(`${P}/timeline/:userId`, async (req) => {
    await securityAdmin(app, req);
    return sc().timeline(req.params.userId, intParam(req.query, "minutes", 60, 1, 1440)!);
  });

  http.get<{ Params: { roomId: string } }>(`${P}/rooms/:roomId/readers`, async (req) => {
    await securityAdmin(app, req);
    if (!req.params.roomId.startsWith("!")) throw invalidParam("Not a room id");
    return sc().roomReaders(req.params.roomId, intParam(req.query, "minutes", 1440, 1, 10080)!);
  });

  http.post<{ Params: { userId: string } }>(`${P}/users/:userId/lock`, async (req) => {
    const by = await securityAdmin(app, req);
    const body = parseBody(reasonBody, req.body);
    await sc().lock(req.params.userId, body.reason, by);
    app.adminActions.record({ admin: by, action: "security.lock", target: req.params.userId });
    return { locked: true };
  });

  http.post<{ Params: { userId: string } }>(`${P}/users/:userId/unlock`, async (req) => {
    const by = await securityAdmin(app, req);
    parseBody(z.object({ reason: text().max(1000).optional() }), req.body);
    await sc().unlock(req.params.userId, by);
    app.adminActions.record({ admin: by, action: "security.unlock", target: req.params.userId });
    return { locked: false };
  });

  http.post<{ Params: { userId: string } }>(`${P}/users/:userId/end_sessions`, async (req) => {
    const by = await securityAdmin(app, req);
    const body = parseBody(reasonBody, req.body);
    await sc().endSessions(req.params.userId, body.reason, by);
    app.adminActions.record({ admin: by, action: "security.end_sessions", target: req.params.userId });
    return { ended: true };
  });

  http.get(`${P}/audit/verify`, async (req) => {
    await securityAdmin(app, req);
    return sc().verifyAudit();
  });
}
