// GET /sync, and presence (off by default, as in Tchap).
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { authenticate, requireSelf } from "../auth.js";
import { intParam, strParam, type Query } from "./params.js";
import { invalidParam } from "../errors.js";
import { optionalBody } from "../body.js";
import { gate } from "../gate.js";
import { replyJson } from "../fast-reply.js";
import type { RoomRead } from "../../security/read-gate.js";
import type { SyncResponse } from "../../sync/sync.js";
import type { ClientEvent } from "../../rooms/serialize.js";

export function registerSyncRoutes(http: FastifyInstance, app: App): void {
  const v3 = "/_matrix/client/v3";

  http.get(`${v3}/sync`, async (req, reply) => {
    const who = await authenticate(app, req);
    const q = req.query as Query;
    const fullState = strParam(q, "full_state");
    if (fullState !== undefined && fullState !== "true" && fullState !== "false") throw invalidParam("full_state must be true or false");
    const setPresence = strParam(q, "set_presence");
    if (setPresence !== undefined && !["online", "offline", "unavailable"].includes(setPresence)) throw invalidParam("Invalid set_presence");
    const res = await app.sync.sync(who, {
      since: strParam(q, "since"),
      timeoutMs: intParam(q, "timeout", 0, 0),
      filter: await app.filters.resolve(who.userId, strParam(q, "filter")),
      fullState: fullState === "true",
    });
    await gate(app, req, who, "sync", { sync: true, rooms: syncReads(res, app.config.read_gate.initial_sync_free_events) });
    // Written straight to node:http (fast-reply.ts): one message wakes thousands of these at once.
    return replyJson(req, reply, res);
  });

  // Presence is not tracked (config presence off): the spec lets servers answer "offline" and
  // accept updates without storing them.
  http.get<{ Params: { userId: string } }>(`${v3}/presence/:userId/status`, async (req) => {
    await authenticate(app, req);
    return { presence: "offline" };
  });
  http.put<{ Params: { userId: string } }>(`${v3}/presence/:userId/status`, async (req) => {
    const who = await authenticate(app, req);
    requireSelf(who, req.params.userId);
    optionalBody(z.looseObject({ presence: z.enum(["online", "offline", "unavailable"]), status_msg: z.string().max(1024).optional() }), req.body ?? { presence: "offline" });
    return {};
  });
}

type Section = { timeline?: { events?: ClientEvent[] }; state?: { events?: unknown[] }; invite_state?: { events?: unknown[] }; knock_state?: { events?: unknown[] } };

/** What a sync response returns per room, for the read gate. The newest `free` events of each room
 * are a client's ordinary timeline, never history (a new device's initial sync is not an attack). */
function syncReads(res: SyncResponse, free: number): RoomRead[] {
  const out: RoomRead[] = [];
  for (const part of ["join", "leave", "invite", "knock"] as const) {
    for (const [roomId, v] of Object.entries(res.rooms[part])) {
      const sec = v as Section;
      const state = (sec.state?.events?.length ?? 0) + (sec.invite_state?.events?.length ?? 0) + (sec.knock_state?.events?.length ?? 0);
      out.push({ roomId, events: sec.timeline?.events ?? [], state: state || undefined, free });
    }
  }
  return out;
}
