// Server-side key backups (client-server API "Server-side key backups"): versions and keys at
// three levels (all rooms, one room, one session).
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { optionalBody, parseBody, text } from "../body.js";
import { authenticate } from "../auth.js";
import { gate } from "../gate.js";
import type { Requester } from "../../accounts/sessions.js";

/** Sessions in a key-backup answer, at any of its three levels. */
function countSessions(res: unknown): number {
  const o = res as { rooms?: Record<string, { sessions?: object }>; sessions?: object; session_data?: unknown };
  if (o.rooms) return Object.values(o.rooms).reduce((n, r) => n + Object.keys(r.sessions ?? {}).length, 0);
  if (o.sessions) return Object.keys(o.sessions).length;
  return o.session_data === undefined ? 0 : 1;
}
import { strParam, type Query } from "./params.js";
import type { RoomsKeys } from "../../e2ee/key-backup.js";

const C = "/_matrix/client/v3/room_keys";
const keyData = z.looseObject({
  first_message_index: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  forwarded_count: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  is_verified: z.boolean(),
  session_data: z.record(text(), z.unknown()),
});
const roomKeys = z.looseObject({ sessions: z.record(text(), keyData) });
const allKeys = z.looseObject({ rooms: z.record(text(), roomKeys) });
const versionBody = z.looseObject({ algorithm: text().min(1).max(255), auth_data: z.record(text(), z.unknown()) });
const updateBody = z.looseObject({ algorithm: text().min(1).max(255), auth_data: z.record(text(), z.unknown()), version: z.string().optional() });

type P = { Params: { version?: string; roomId?: string; sessionId?: string } };
const version = (req: FastifyRequest) => strParam(req.query as Query, "version");

export function registerRoomKeyRoutes(http: FastifyInstance, app: App): void {
  const kb = app.e2ee.keyBackup;

  http.post(`${C}/version`, async (req) => {
    const who = await authenticate(app, req);
    const b = parseBody(versionBody, req.body);
    return kb.createVersion(who.userId, b.algorithm, b.auth_data);
  });
  http.get(`${C}/version`, async (req) => {
    const who = await authenticate(app, req);
    return kb.getVersion(who.userId);
  });
  http.get<P>(`${C}/version/:version`, async (req) => {
    const who = await authenticate(app, req);
    return kb.getVersion(who.userId, req.params.version!);
  });
  http.put<P>(`${C}/version/:version`, async (req) => {
    const who = await authenticate(app, req);
    const b = parseBody(updateBody, req.body);
    await kb.updateVersion(who.userId, req.params.version!, b);
    return {};
  });
  http.delete<P>(`${C}/version/:version`, async (req) => {
    const who = await authenticate(app, req);
    await kb.deleteVersion(who.userId, req.params.version!);
    return {};
  });

  http.put(`${C}/keys`, async (req) => {
    const who = await authenticate(app, req);
    const b = parseBody(allKeys, req.body);
    return kb.putKeys(who.userId, version(req), b.rooms as RoomsKeys);
  });
  http.put<P>(`${C}/keys/:roomId`, async (req) => {
    const who = await authenticate(app, req);
    const b = parseBody(roomKeys, req.body);
    return kb.putKeys(who.userId, version(req), { [req.params.roomId!]: b } as RoomsKeys);
  });
  http.put<P>(`${C}/keys/:roomId/:sessionId`, async (req) => {
    const who = await authenticate(app, req);
    const b = parseBody(keyData, req.body);
    return kb.putKeys(who.userId, version(req), { [req.params.roomId!]: { sessions: { [req.params.sessionId!]: b } } } as RoomsKeys);
  });

  // Key-backup downloads pass the read gate: a taken-over account could carry the (encrypted)
  // keys away for offline attack, and the forensic report must say so.
  const downloaded = async (req: FastifyRequest, who: Requester, keys: Promise<unknown>) => {
    const res = await keys;
    await gate(app, req, who, "room_keys", { keyBackup: { sessions: countSessions(res) } });
    return res;
  };
  http.get(`${C}/keys`, async (req) => {
    const who = await authenticate(app, req);
    return downloaded(req, who, kb.getKeys(who.userId, version(req)));
  });
  http.get<P>(`${C}/keys/:roomId`, async (req) => {
    const who = await authenticate(app, req);
    return downloaded(req, who, kb.getKeys(who.userId, version(req), req.params.roomId));
  });
  http.get<P>(`${C}/keys/:roomId/:sessionId`, async (req) => {
    const who = await authenticate(app, req);
    return downloaded(req, who, kb.getKeys(who.userId, version(req), req.params.roomId, req.params.sessionId));
  });

  http.delete(`${C}/keys`, async (req) => {
    const who = await authenticate(app, req);
    return kb.deleteKeys(who.userId, version(req));
  });
  http.delete<P>(`${C}/keys/:roomId`, async (req) => {
    const who = await authenticate(app, req);
    return kb.deleteKeys(who.userId, version(req), req.params.roomId);
  });
  http.delete<P>(`${C}/keys/:roomId/:sessionId`, async (req) => {
    const who = await authenticate(app, req);
    return kb.deleteKeys(who.userId, version(req), req.params.roomId, req.params.sessionId);
  });
}
