// The web login session cookie of Rempart's pages: HttpOnly, SameSite=Strict, Secure when the
// server is reached over https, scoped to /; and the CSRF check of every state-changing request
// (a hidden form field, or the x-csrf-token header for the WebAuthn calls).
import type { FastifyReply, FastifyRequest } from "fastify";
import type { App } from "../../app.js";
import type { WebSession } from "../../security/web-sessions.js";
import { constantTimeEqual } from "../../accounts/secrets.js";
import { MatrixError } from "../errors.js";

export const COOKIE = "rempart_web";

export function readCookie(req: FastifyRequest, name: string): string | undefined {
  for (const part of String(req.headers.cookie ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
  }
  return undefined;
}

export function setSessionCookie(app: App, reply: FastifyReply, s: WebSession | null): void {
  const secure = app.config.public_baseurl.startsWith("https:") ? "; Secure" : "";
  const maxAge = s ? Math.floor(app.config.login_security.web_session_lifetime_ms / 1000) : 0;
  reply.header("set-cookie", `${COOKIE}=${s ? encodeURIComponent(s.id) : ""}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure}`);
}

export async function currentSession(app: App, req: FastifyRequest): Promise<WebSession | undefined> {
  const s = await app.webSessions.get(readCookie(req, COOKIE));
  // A session whose user got locked or deactivated since is over.
  if (s?.userId) {
    const u = await app.accounts.getUser(s.userId);
    if (!u || u.deactivated || u.locked) {
      await app.webSessions.end(s.id);
      return undefined;
    }
  }
  return s;
}

export function checkCsrf(s: WebSession, req: FastifyRequest): void {
  const body = (req.body ?? {}) as Record<string, unknown>;
  const given = typeof body.csrf === "string" ? body.csrf : String(req.headers["x-csrf-token"] ?? "");
  if (!given || !constantTimeEqual(given, s.csrf)) throw new MatrixError(403, "M_FORBIDDEN", "Invalid or missing CSRF token");
}

/** Where a session goes next in the login journey. */
export function nextStep(s: WebSession): string {
  if (s.state === "anon") return "/_rempart/login";
  if (s.state === "password") return "/_rempart/login/mfa";
  if (s.state === "enrol") return "/_rempart/account";
  if (s.data.redirect) return "/_rempart/login/continue";
  if (s.data.then) return s.data.then;
  return "/_rempart/account";
}

/** Only local pages of ours may be returned to (no open redirect through `then`). */
export function safeLocalPath(p: unknown): string | undefined {
  return typeof p === "string" && /^\/_(rempart|matrix)\/[\w\-./?=&%~]*$/.test(p) && !p.includes("//") ? p : undefined;
}
