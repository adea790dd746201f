// Relationships, threads and jumping to a date (client-server API "Relationships API",
// "Querying threads in a room", timestamp_to_event). All three are v1 endpoints.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { App } from "../../app.js";
import { authenticate } from "../auth.js";
import { invalidParam, missingParam } from "../errors.js";
import { Relations, RELATIONS_DEFAULT_LIMIT, RELATIONS_MAX_LIMIT } from "../../rooms/relations.js";
import { Threads, THREADS_DEFAULT_LIMIT, THREADS_MAX_LIMIT } from "../../rooms/threads.js";
import { dirParam, intParam, strParam, type Query } from "./params.js";
import { gate, roomRead } from "../gate.js";
import type { Requester } from "../../accounts/sessions.js";

type RelParams = { roomId: string; eventId: string; relType?: string; eventType?: string };

function boolParam(q: Query, name: string): boolean | undefined {
  const v = strParam(q, name);
  if (v === undefined) return undefined;
  if (v !== "true" && v !== "false") throw invalidParam(`${name} must be true or false`);
  return v === "true";
}

export function registerRelationRoutes(http: FastifyInstance, app: App): void {
  const v1 = "/_matrix/client/v1";
  const relations = new Relations(app.storage, app.roomReader, app.roomWriter, app.now);
  const threads = new Threads(app.storage, app.roomReader, app.roomWriter, app.now);

  const getRelations = async (req: FastifyRequest<{ Params: RelParams }>, who: Requester) => {
    const q = req.query as Query;
    const res = await relations.children(who, req.params.roomId, req.params.eventId, {
      relType: req.params.relType,
      eventType: req.params.eventType,
      from: strParam(q, "from"),
      to: strParam(q, "to"),
      dir: dirParam(q),
      limit: intParam(q, "limit", RELATIONS_DEFAULT_LIMIT, 1, RELATIONS_MAX_LIMIT),
      recurse: boolParam(q, "recurse"),
    });
    await gate(app, req, who, "relations", { rooms: [roomRead(req.params.roomId, res.chunk)] });
    return res;
  };
  http.get<{ Params: RelParams }>(`${v1}/rooms/:roomId/relations/:eventId`, async (req) => getRelations(req, await authenticate(app, req)));
  http.get<{ Params: RelParams }>(`${v1}/rooms/:roomId/relations/:eventId/:relType`, async (req) => getRelations(req, await authenticate(app, req)));
  http.get<{ Params: RelParams }>(`${v1}/rooms/:roomId/relations/:eventId/:relType/:eventType`, async (req) => getRelations(req, await authenticate(app, req)));

  http.get<{ Params: { roomId: string } }>(`${v1}/rooms/:roomId/threads`, async (req) => {
    const who = await authenticate(app, req);
    const q = req.query as Query;
    const include = strParam(q, "include") ?? "all";
    if (include !== "all" && include !== "participated") throw invalidParam("include must be all or participated");
    const res = await threads.list(who, req.params.roomId, {
      include,
      from: strParam(q, "from"),
      limit: intParam(q, "limit", THREADS_DEFAULT_LIMIT, 1, THREADS_MAX_LIMIT),
    });
    await gate(app, req, who, "threads", { rooms: [roomRead(req.params.roomId, res.chunk)] });
    return res;
  });

  http.get<{ Params: { roomId: string } }>(`${v1}/rooms/:roomId/timestamp_to_event`, async (req) => {
    const who = await authenticate(app, req);
    const q = req.query as Query;
    if (q.ts === undefined || q.ts === "") throw missingParam("ts is required");
    if (q.dir === undefined) throw missingParam("dir is required");
    const res = await relations.timestampToEvent(who, req.params.roomId, intParam(q, "ts", 0, 0), dirParam(q));
    await gate(app, req, who, "timestamp_to_event", { rooms: [{ roomId: req.params.roomId, events: [res] }] });
    return res;
  });
}
