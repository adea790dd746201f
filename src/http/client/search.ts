// POST /search (client-server API "Server Side Search"): parses and validates the request; the
// search itself is rooms/search.ts.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { authenticate } from "../auth.js";
import { parseBody } from "../body.js";
import { invalidParam } from "../errors.js";
import { strParam, type Query } from "./params.js";
import { GROUP_KEYS, RoomSearch, isSearchKey, type GroupKey, type RoomEventsCriteria, type SearchKey } from "../../rooms/search.js";
import type { RoomEventFilter } from "../../rooms/event-filter.js";
import type { ClientEvent } from "../../rooms/serialize.js";
import { gate } from "../gate.js";

const stringList = z.array(z.string().max(1024)).max(1000);
const count = z.number().int();

// Types are checked by the schema (400 M_BAD_JSON naming the field); values outside what the spec
// allows (unknown keys, order or group) are 400 M_INVALID_PARAM below.
const roomEventsSchema = z.looseObject({
  search_term: z.string().max(4096),
  keys: z.array(z.string()).max(16).optional(),
  filter: z
    .looseObject({
      limit: count.optional(),
      types: stringList.optional(),
      not_types: stringList.optional(),
      senders: stringList.optional(),
      not_senders: stringList.optional(),
      rooms: stringList.optional(),
      not_rooms: stringList.optional(),
      contains_url: z.boolean().optional(),
    })
    .optional(),
  order_by: z.string().optional(),
  event_context: z
    .looseObject({
      before_limit: count.optional(),
      after_limit: count.optional(),
      include_profile: z.boolean().optional(),
    })
    .optional(),
  include_state: z.boolean().optional(),
  groupings: z.looseObject({ group_by: z.array(z.looseObject({ key: z.string() })).max(8).optional() }).optional(),
});

const searchSchema = z.looseObject({
  search_categories: z.looseObject({ room_events: roomEventsSchema.optional() }),
});

type RoomEventsBody = z.infer<typeof roomEventsSchema>;

function criteriaOf(b: RoomEventsBody): RoomEventsCriteria {
  const keys = b.keys?.map((k) => {
    if (!isSearchKey(k)) throw invalidParam(`keys: unknown key ${k}; expected content.body, content.name or content.topic`);
    return k as SearchKey;
  });
  const orderBy = b.order_by ?? "rank"; // spec "Ordering": the default is rank
  if (orderBy !== "rank" && orderBy !== "recent") throw invalidParam("order_by must be rank or recent");
  if (b.filter?.limit !== undefined && b.filter.limit < 0) throw invalidParam("filter.limit must not be negative");
  const groupBy: GroupKey[] = [];
  for (const g of b.groupings?.group_by ?? []) {
    if (!GROUP_KEYS.includes(g.key as GroupKey)) throw invalidParam("groupings: key must be room_id or sender");
    if (!groupBy.includes(g.key as GroupKey)) groupBy.push(g.key as GroupKey);
  }
  let eventContext: RoomEventsCriteria["eventContext"];
  if (b.event_context) {
    // Spec: 5 events on each side by default; profiles only when asked.
    const { before_limit = 5, after_limit = 5, include_profile = false } = b.event_context;
    if (before_limit < 0 || after_limit < 0) throw invalidParam("event_context limits must not be negative");
    eventContext = { beforeLimit: before_limit, afterLimit: after_limit, includeProfile: include_profile };
  }
  return {
    searchTerm: b.search_term,
    keys,
    filter: b.filter as RoomEventFilter | undefined,
    orderBy,
    eventContext,
    includeState: b.include_state === true,
    groupBy,
  };
}

export function registerSearchRoutes(http: FastifyInstance, app: App): void {
  const v3 = "/_matrix/client/v3";
  // Built here, once, rather than in app.ts: this route is its only user.
  const search = new RoomSearch(app.storage, app.roomWriter, app.roomReader, app.now);

  http.post(`${v3}/search`, async (req) => {
    const who = await authenticate(app, req);
    const body = parseBody(searchSchema, req.body);
    const nextBatch = strParam(req.query as Query, "next_batch");
    const roomEvents = body.search_categories.room_events;
    // room_events is the only category the spec defines; others are ignored.
    if (!roomEvents) {
      await gate(app, req, who, "search", { rooms: [] });
      return { search_categories: {} };
    }
    const criteria = criteriaOf(roomEvents);
    const res = await search.roomEvents(who, criteria, nextBatch === "" ? undefined : nextBatch);
    // Every hit, its context and returned state leave through the gate, counted per room.
    const byRoom = new Map<string, { events: ClientEvent[]; state: number }>();
    const of = (roomId: string) => byRoom.get(roomId) ?? byRoom.set(roomId, { events: [], state: 0 }).get(roomId)!;
    for (const r of res.results) {
      of(r.result.room_id).events.push(r.result, ...(r.context?.events_before ?? []), ...(r.context?.events_after ?? []));
    }
    for (const [roomId, st] of Object.entries(res.state ?? {})) of(roomId).state += st.length;
    await gate(app, req, who, "search", { rooms: [...byRoom].map(([roomId, v]) => ({ roomId, events: v.events, state: v.state || undefined })) });
    return { search_categories: { room_events: res } };
  });
}
