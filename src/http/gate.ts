// The route side of the read gate: gate() hands what a route is about to return to the read gate
// (src/security/read-gate.ts) and marks the request as gated; the hooks below refuse any gated
// route that answers without having passed it, end stepped-up sessions with soft_logout, and record
// security decisions (login, logout, refresh, registration, password, device deletion, admin API).
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { App } from "../app.js";
import type { Requester } from "../accounts/sessions.js";
import type { ClientEvent } from "../rooms/serialize.js";
import type { ReadDescriptor, RoomRead } from "../security/read-gate.js";
import { extractAccessToken } from "./auth.js";
import { unknownToken } from "./errors.js";
import { routeClass } from "./read-routes.js";

const passed = new WeakSet<FastifyRequest>();
const requesters = new WeakMap<FastifyRequest, Requester>();

/** Hands a read to the gate before it is returned; throws the error to answer with when contained. */
export async function gate(app: App, req: FastifyRequest, who: Requester, endpoint: string, read: ReadDescriptor): Promise<void> {
  passed.add(req);
  await app.readGate.release({ who, ip: req.ip, userAgent: req.headers["user-agent"], endpoint }, read);
}

/** Whether gate() was called for this request (a route answering outside fastify's onSend hooks
 * must check it: the fail-closed check below is one of them). */
export function passedGate(req: FastifyRequest): boolean {
  return passed.has(req);
}

/** A read by nobody in particular (legacy unauthenticated media): recorded by IP, not metered. */
export function gateAnonymous(app: App, req: FastifyRequest, endpoint: string, read: ReadDescriptor): void {
  passed.add(req);
  app.readGate.anonymous({ ip: req.ip, userAgent: req.headers["user-agent"], endpoint }, read);
}

/** A join, metered as rooms_joined (joins return no content, but bulk joining precedes bulk reading). */
export async function gateJoin(app: App, req: FastifyRequest, who: Requester, roomId: string): Promise<void> {
  await app.readGate.noteJoin({ who, ip: req.ip, userAgent: req.headers["user-agent"], endpoint: "join" }, roomId);
}

/** The events of one room as the gate needs them. */
export const roomRead = (roomId: string, events: readonly ClientEvent[], extra: Omit<RoomRead, "roomId" | "events"> = {}): RoomRead => ({ roomId, events, ...extra });

type Sec = { kind: "auth" | "account"; e: string };
const SECURITY_ROUTES = new Map<string, Sec>([
  ["POST /_matrix/client/v3/login", { kind: "auth", e: "login" }],
  ["POST /_matrix/client/v3/logout", { kind: "auth", e: "logout" }],
  ["POST /_matrix/client/v3/logout/all", { kind: "auth", e: "logout_all" }],
  ["POST /_matrix/client/v3/refresh", { kind: "auth", e: "refresh" }],
  ["POST /_matrix/client/v3/register", { kind: "account", e: "register" }],
  ["POST /_matrix/client/v3/account/password", { kind: "account", e: "password" }],
  ["POST /_matrix/client/v3/account/deactivate", { kind: "account", e: "deactivate" }],
  ["DELETE /_matrix/client/v3/devices/:deviceId", { kind: "account", e: "delete_device" }],
  ["POST /_matrix/client/v3/delete_devices", { kind: "account", e: "delete_devices" }],
]);
const isAdminPath = (url: string) => url.startsWith("/_synapse/admin/") || url.startsWith("/_rempart/admin/");

function parsePayload(payload: unknown): Record<string, unknown> {
  if (typeof payload !== "string" || payload === "") return {};
  try {
    const v: unknown = JSON.parse(payload);
    return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function decision(status: number, body: Record<string, unknown>): string {
  if (status < 300) return "allow";
  if (status === 429) return "throttled";
  if (status === 401 && body.flows !== undefined && body.errcode === undefined) return "challenge";
  return "deny";
}

export function registerReadGateHooks(http: FastifyInstance, app: App): void {
  http.addHook("onRequest", async (req, reply) => {
    // A session ended by a step-up answers soft_logout: the client signs in again, keeping its device.
    let token: string | undefined;
    try {
      token = extractAccessToken(req, app.config.allow_access_token_in_query);
    } catch {
      token = undefined;
    }
    if (token !== undefined && app.steppedUp.isSteppedUp(token)) {
      const err = unknownToken(true, "Session ended for unusual reading activity: please sign in again");
      return reply.code(err.status).send(err.body());
    }
    const url = req.routeOptions.url;
    if (token !== undefined && url !== undefined && (SECURITY_ROUTES.has(`${req.method} ${url}`) || isAdminPath(url))) {
      // Who is acting, resolved before the handler (logout deletes the very token).
      try {
        requesters.set(req, await app.sessions.authenticate(token));
      } catch {
        // the handler answers 401 itself
      }
    }
  });

  http.addHook("onSend", async (req, reply, payload) => {
    const url = req.routeOptions.url;
    if (url === undefined) return payload;
    const status = reply.statusCode;
    if (status < 300 && routeClass(req.method, url) === "gated" && !passed.has(req)) {
      // Fail closed: room content must not leave without its audit record.
      req.log.error({ route: `${req.method} ${url}` }, "gated route answered without passing the read gate");
      reply.code(500);
      return JSON.stringify({ errcode: "M_UNKNOWN", error: "Internal server error" });
    }
    if ((status === 403 || status === 404) && routeClass(req.method, url) === "gated" && !passed.has(req)) await recordDenied(app, req, url, status);
    const sec = SECURITY_ROUTES.get(`${req.method} ${url}`);
    if (sec || isAdminPath(url)) await recordSecurity(app, req, status, payload, sec);
    return payload;
  });
}

async function recordSecurity(app: App, req: FastifyRequest, status: number, payload: unknown, sec: Sec | undefined): Promise<void> {
  const body = parsePayload(payload);
  const who = requesters.get(req);
  const rec: Record<string, unknown> = { e: sec?.e ?? req.routeOptions.url, x: decision(status, body), c: status, ip: req.ip, ua: (req.headers["user-agent"] ?? "").slice(0, 512) };
  if (typeof body.errcode === "string") rec.err = body.errcode;
  if (who) {
    rec.u = who.userId;
    rec.d = who.deviceId;
    rec.sid = who.tokenId;
  }
  if (sec?.e === "login" || sec?.e === "register") {
    if (typeof body.user_id === "string") rec.u = body.user_id;
    if (typeof body.device_id === "string") rec.d = body.device_id;
    if (rec.u === undefined) {
      // The account a failed attempt was aimed at (never the password).
      const b = (req.body ?? {}) as { identifier?: { user?: unknown }; user?: unknown; username?: unknown };
      const attempted = b.identifier?.user ?? b.user ?? b.username;
      if (typeof attempted === "string") rec.u = attempted.slice(0, 255);
    }
  }
  if (sec?.e === "refresh" && typeof body.access_token === "string") {
    try {
      const r = await app.sessions.authenticate(body.access_token);
      rec.u = r.userId;
      rec.d = r.deviceId;
      rec.sid = r.tokenId;
    } catch {
      // recorded without the user
    }
  }
  if (sec?.e === "delete_device") rec.target = (req.params as { deviceId?: string }).deviceId;
  if (!sec) rec.m = req.method;
  app.audit.append(sec?.kind ?? "admin", rec);
}

/** A read refused by access control (403, or 404 for what the reader may not know exists): probing
 * private rooms is itself a sign of a taken-over account. */
async function recordDenied(app: App, req: FastifyRequest, url: string, status: number): Promise<void> {
  let who: Requester;
  try {
    const token = extractAccessToken(req, app.config.allow_access_token_in_query);
    if (token === undefined) return;
    who = await app.sessions.authenticate(token);
  } catch {
    return;
  }
  const params = req.params as { roomId?: string; eventId?: string };
  const endpoint = url.split("/").filter((p) => p && !p.startsWith(":")).pop() ?? url;
  await app.readGate.denied({ who, ip: req.ip, userAgent: req.headers["user-agent"], endpoint }, { roomId: params.roomId, eventId: params.eventId, status });
}
