// Who is asking: the access token from `Authorization: Bearer` or (when allowed) `?access_token=`
// (client-server API "Using access tokens").
import type { FastifyRequest } from "fastify";
import type { App } from "../app.js";
import type { Requester } from "../accounts/sessions.js";
import { forbidden, missingToken, unknownToken } from "./errors.js";

export function extractAccessToken(req: FastifyRequest, allowQuery: boolean): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) throw unknownToken(false, "Malformed Authorization header");
    return m[1];
  }
  const q = (req.query as Record<string, unknown> | undefined)?.access_token;
  if (typeof q === "string" && q !== "") {
    if (!allowQuery) throw missingToken();
    return q;
  }
  return undefined;
}

export async function authenticate(app: App, req: FastifyRequest, opts: { allowLocked?: boolean } = {}): Promise<Requester> {
  const token = extractAccessToken(req, app.config.allow_access_token_in_query);
  if (token === undefined) throw missingToken();
  const requester = await app.sessions.authenticate(token, opts);
  // Government model: expired accounts get 403 ORG_MATRIX_EXPIRED_ACCOUNT (src/policy/account-validity.ts).
  await app.accountValidity.check(requester.userId, req.url);
  const touched = app.devices.touch(requester.userId, requester.deviceId, req.ip, req.headers["user-agent"] ?? null);
  touched?.catch((e: unknown) => req.log.warn({ err: e }, "could not record device last-seen"));
  return requester;
}

export async function authenticateAdmin(app: App, req: FastifyRequest): Promise<Requester> {
  const requester = await authenticate(app, req);
  if (!requester.isAdmin) throw forbidden("You are not a server admin");
  return requester;
}

/** Refuses acting on another user's data (e.g. /user/{userId}/filter with someone else's id). */
export function requireSelf(requester: Requester, userId: string): void {
  if (requester.userId !== userId) throw forbidden("Cannot access another user's data");
}
