// Room events, current state and transaction ids. All event SQL lives here (DESIGN.md invariant 3).
import { PostgresAdapter, sql, type SelectQueryBuilder } from "kysely";
import type { Db } from "./database.js";
import { runCompiled } from "./compiled.js";
import type { Database, EventsTable } from "./schema.js";

export type EventRow = EventsTable;

export interface StateRow {
  type: string;
  state_key: string;
  event_id: string;
  stream_ordering: number;
  json: string;
}

export interface RangeOptions {
  after?: number;
  upTo?: number;
  dir: "f" | "b";
  limit: number;
  types?: string[];
  notTypes?: string[];
  senders?: string[];
  notSenders?: string[];
  containsUrl?: boolean;
}

const RELATION_SUMMARY_COLUMNS = ["event_id", "room_id", "type", "state_key", "sender", "origin_server_ts", "stream_ordering", "membership", "rel_type", "relates_to"] as const;
export type RelationSummary = Pick<EventRow, (typeof RELATION_SUMMARY_COLUMNS)[number]>;
/** Up to this many parents, relationSummariesOf is compiled once per list length (storage/compiled.ts);
 * longer lists (an initial sync's) are built each time, so that the shapes kept stay few. */
const COMPILED_RELATION_PARENTS = 32;

function rangeQuery(db: Db, roomId: string, opts: RangeOptions) {
  let q = db.selectFrom("events").selectAll().where("room_id", "=", roomId);
  if (opts.after !== undefined) q = q.where("stream_ordering", ">", opts.after);
  if (opts.upTo !== undefined) q = q.where("stream_ordering", "<=", opts.upTo);
  return filteredRange(q, opts);
}

/** A range read's filters, order and limit (the bounds are the caller's). */
function filteredRange<Q extends SelectQueryBuilder<Database, "events", EventsTable>>(q: Q, opts: RangeOptions) {
  if (opts.types) q = q.where("type", "in", opts.types.length ? opts.types : [""]) as Q;
  if (opts.notTypes?.length) q = q.where("type", "not in", opts.notTypes) as Q;
  if (opts.senders) q = q.where("sender", "in", opts.senders.length ? opts.senders : [""]) as Q;
  if (opts.notSenders?.length) q = q.where("sender", "not in", opts.notSenders) as Q;
  return q.orderBy("stream_ordering", opts.dir === "f" ? "asc" : "desc").limit(opts.limit);
}

const makeEventsRepo = (db: Db, dialect = db.getExecutor().adapter instanceof PostgresAdapter ? "postgres" : "sqlite") => ({
  // The send path's statements are precompiled (compiled.ts).
  insert: (row: EventRow) => runCompiled(db, "events.insert", [row as unknown as Record<string, unknown>], ([v]) => db.insertInto("events").values(v as unknown as EventRow)),

  /** Many rows in few statements (the bulk importer); chunks stay under SQLite's parameter limit. */
  insertMany: async (rows: EventRow[]) => {
    for (let i = 0; i < rows.length; i += 100) await db.insertInto("events").values(rows.slice(i, i + 100)).execute();
  },

  get: (eventId: string) => db.selectFrom("events").selectAll().where("event_id", "=", eventId).executeTakeFirst(),

  getMany: (eventIds: string[]) =>
    eventIds.length === 0 ? Promise.resolve([] as EventRow[]) : db.selectFrom("events").selectAll().where("event_id", "in", eventIds).execute(),

  maxStreamOrdering: async () =>
    Number((await db.selectFrom("events").select((eb) => eb.fn.max("stream_ordering").as("m")).executeTakeFirst())?.m ?? 0),

  /** Events of every room after a stream position, oldest first (search index recovery). */
  after: (position: number, limit: number) =>
    db.selectFrom("events").select(["stream_ordering", "event_id", "room_id", "json"]).where("stream_ordering", ">", position).orderBy("stream_ordering").limit(limit).execute(),

  /** The newest event of a room: the forward extremity new events point at. */
  latest: (roomId: string) =>
    db.selectFrom("events").select(["event_id", "depth", "stream_ordering"]).where("room_id", "=", roomId).orderBy("stream_ordering", "desc").limit(1).executeTakeFirst(),

  currentState: (roomId: string): Promise<StateRow[]> =>
    db
      .selectFrom("current_state as cs")
      .innerJoin("events as e", "e.event_id", "cs.event_id")
      .select(["cs.type", "cs.state_key", "cs.event_id", "cs.stream_ordering", "e.json"])
      .where("cs.room_id", "=", roomId)
      .execute(),

  currentStateEvent: (roomId: string, type: string, stateKey: string) =>
    db
      .selectFrom("current_state as cs")
      .innerJoin("events as e", "e.event_id", "cs.event_id")
      .select(["cs.event_id", "cs.stream_ordering", "e.json"])
      .where("cs.room_id", "=", roomId)
      .where("cs.type", "=", type)
      .where("cs.state_key", "=", stateKey)
      .executeTakeFirst(),

  /** State after the event at `position` (inclusive): the latest state event per (type, state_key). */
  stateAt: (roomId: string, position: number, types?: string[]): Promise<StateRow[]> => {
    let q = db
      .selectFrom("events as e")
      .select(["e.type", "e.state_key", "e.event_id", "e.stream_ordering", "e.json"])
      .where("e.room_id", "=", roomId)
      .where("e.state_key", "is not", null)
      .where("e.stream_ordering", "<=", position)
      .where(({ eb, selectFrom }) =>
        eb(
          "e.stream_ordering",
          "=",
          selectFrom("events as e2")
            .select((x) => x.fn.max("e2.stream_ordering").as("m"))
            .whereRef("e2.room_id", "=", "e.room_id")
            .whereRef("e2.type", "=", "e.type")
            .whereRef("e2.state_key", "=", "e.state_key")
            .where("e2.stream_ordering", "<=", position),
        ),
      );
    if (types) q = q.where("e.type", "in", types.length ? types : [""]);
    return q.execute() as Promise<StateRow[]>;
  },

  upsertCurrentState: (row: { room_id: string; type: string; state_key: string; event_id: string; stream_ordering: number; membership: string | null }) =>
    db
      .insertInto("current_state")
      .values(row)
      .onConflict((oc) =>
        oc.columns(["room_id", "type", "state_key"]).doUpdateSet({ event_id: row.event_id, stream_ordering: row.stream_ordering, membership: row.membership }),
      )
      .execute(),

  /** Many current-state rows at once (the bulk importer); at most one row per (room, type, state_key). */
  upsertCurrentStateMany: async (rows: Array<{ room_id: string; type: string; state_key: string; event_id: string; stream_ordering: number; membership: string | null }>) => {
    for (let i = 0; i < rows.length; i += 200) {
      await db
        .insertInto("current_state")
        .values(rows.slice(i, i + 200))
        .onConflict((oc) =>
          oc.columns(["room_id", "type", "state_key"]).doUpdateSet((eb) => ({
            event_id: eb.ref("excluded.event_id"),
            stream_ordering: eb.ref("excluded.stream_ordering"),
            membership: eb.ref("excluded.membership"),
          })),
        )
        .execute();
    }
  },

  /** Events of a room in a stream range, in either direction. */
  range: (roomId: string, opts: RangeOptions) => rangeQuery(db, roomId, opts).execute(),

  /**
   * Several rooms' ranges (as `range`) in few statements: one `UNION ALL` of the per-room reads,
   * each still bounded by its own index range and limit. Rows per room, in each range's order.
   */
  rangeMany: async (items: Array<{ roomId: string; opts: RangeOptions }>): Promise<Map<string, EventRow[]>> => {
    const out = new Map<string, EventRow[]>(items.map((i) => [i.roomId, []]));
    const first = items[0]?.opts;
    const sameShape = first !== undefined && items.every((i) => JSON.stringify({ ...i.opts, after: 0, upTo: 0 }) === JSON.stringify({ ...first, after: 0, upTo: 0 }));
    if (dialect === "postgres" && sameShape) {
      // PostgreSQL plans a UNION of hundreds of reads slowly (~150 ms for 200): one LATERAL read
      // per (room, after, upTo) instead, the same statement whatever the number of rooms.
      for (let i = 0; i < items.length; i += 1000) {
        const chunk = items.slice(i, i + 1000);
        const rows = await db
          .selectFrom(
            sql<{ room_id: string; after: number; up_to: number }>`(select unnest(${chunk.map((c) => c.roomId)}::text[]) as room_id, unnest(${chunk.map((c) => c.opts.after ?? -1)}::bigint[]) as after, unnest(${chunk.map((c) => c.opts.upTo ?? Number.MAX_SAFE_INTEGER)}::bigint[]) as up_to)`.as("r"),
          )
          .innerJoinLateral(
            (eb) => filteredRange(eb.selectFrom("events").selectAll().where("events.room_id", "=", sql.ref<string>("r.room_id")).where("events.stream_ordering", ">", sql.ref<number>("r.after")).where("events.stream_ordering", "<=", sql.ref<number>("r.up_to")), first).as("e"),
            (join) => join.onTrue(),
          )
          .selectAll("e")
          .execute();
        for (const row of rows as EventRow[]) out.get(row.room_id)?.push(row);
      }
    } else {
      // Under SQLite's 500 terms of a compound statement, and both databases' bind limits.
      for (let i = 0; i < items.length; i += 200) {
        const arms = items.slice(i, i + 200).map((it, k) => db.selectFrom(rangeQuery(db, it.roomId, it.opts).as(`r${k}`)).selectAll());
        let q = arms[0]!;
        for (const arm of arms.slice(1)) q = q.unionAll(arm);
        for (const row of await q.execute()) out.get(row.room_id)?.push(row);
      }
    }
    for (const it of items) out.get(it.roomId)!.sort((a, b) => (it.opts.dir === "f" ? 1 : -1) * (Number(a.stream_ordering) - Number(b.stream_ordering)));
    return out;
  },

  /**
   * A range (as `range`), the unredacted children of its events with one of `relTypes` (as
   * `relationSummariesOf`, oldest first) and, given `reader`, their history visibility's inputs
   * (as `membershipAndStateHistory` for one room), in one query: on PostgreSQL a page of /messages took three
   * round trips, two of them one after the other.
   */
  rangeWithChildren: async (roomId: string, opts: RangeOptions, relTypes: string[], reader?: { userId: string; stateTypes: string[] }): Promise<{ rows: EventRow[]; children: EventRow[]; visibility: EventRow[] }> => {
    let q = db
      .with("page", () => rangeQuery(db, roomId, opts))
      .selectFrom("page")
      .selectAll()
      .select(sql<number>`0`.as("page_part"))
      .unionAll((eb) =>
        eb
          .selectFrom("events")
          .selectAll()
          .select(sql<number>`1`.as("page_part"))
          .where("relates_to", "in", eb.selectFrom("page").select("event_id"))
          .where("rel_type", "in", relTypes.length ? relTypes : [""])
          .where("redacted_by", "is", null),
      );
    if (reader) {
      q = q
        .unionAll((eb) => eb.selectFrom("events").selectAll().select(sql<number>`2`.as("page_part")).where("room_id", "=", roomId).where("type", "=", "m.room.member").where("state_key", "=", reader.userId))
        .unionAll((eb) =>
          eb
            .selectFrom("events")
            .selectAll()
            .select(sql<number>`2`.as("page_part"))
            .where("room_id", "=", roomId)
            .where("type", "in", reader.stateTypes.length ? reader.stateTypes : [""])
            .where("state_key", "=", ""),
        );
    }
    const all = await q.execute();
    // A union has no order of its own: the page in its direction, the others oldest first.
    const parts: EventRow[][] = [[], [], []];
    // The rows keep their page_part column (an object rest copy of 100 rows cost ~0.15 ms).
    for (const row of all) parts[Number(row.page_part)]!.push(row);
    const [rows, children, visibility] = parts as [EventRow[], EventRow[], EventRow[]];
    const so = (r: EventRow) => Number(r.stream_ordering);
    rows.sort(opts.dir === "f" ? (a, b) => so(a) - so(b) : (a, b) => so(b) - so(a));
    children.sort((a, b) => so(a) - so(b));
    visibility.sort((a, b) => so(a) - so(b));
    return { rows, children, visibility };
  },

  /** A user's membership events in a room, oldest first (history visibility needs the whole story). */
  membershipHistory: (roomId: string, userId: string) =>
    db
      .selectFrom("events")
      .select(["stream_ordering", "membership"])
      .where("room_id", "=", roomId)
      .where("type", "=", "m.room.member")
      .where("state_key", "=", userId)
      .orderBy("stream_ordering")
      .execute(),

  /**
   * History visibility's inputs for one user in some rooms, in one query per 500 rooms (one round
   * trip instead of two per room on PostgreSQL): the user's membership events (no json) and the
   * changes of the `""`-keyed state `types`, each with its room, oldest first.
   */
  membershipAndStateHistory: async (roomIds: string[], userId: string, types: string[]) => {
    const out: Array<{ room_id: string; type: string; stream_ordering: number; membership: string | null; json: string | null }> = [];
    for (let i = 0; i < roomIds.length; i += 500) {
      const chunk = roomIds.slice(i, i + 500);
      out.push(
        ...(await db
          .selectFrom("events")
          .select(["room_id", "type", "stream_ordering", "membership", sql<string | null>`null`.as("json")])
          .where("type", "=", "m.room.member")
          .where("state_key", "=", userId)
          .where("room_id", "in", chunk)
          .unionAll(
            db
              .selectFrom("events")
              .select(["room_id", "type", "stream_ordering", "membership", "json"])
              .where("room_id", "in", chunk)
              .where("type", "in", types.length ? types : [""])
              .where("state_key", "=", ""),
          )
          .orderBy("stream_ordering")
          .execute()),
      );
    }
    return out;
  },

  /** Changes of a state type in a room, oldest first. */
  stateHistory: (roomId: string, type: string) =>
    db.selectFrom("events").select(["stream_ordering", "json"]).where("room_id", "=", roomId).where("type", "=", type).where("state_key", "=", "").orderBy("stream_ordering").execute(),

  /** Rooms where the user's current membership is one of `memberships`. */
  roomsForUser: (userId: string, memberships: string[]) =>
    db
      .selectFrom("current_state")
      .select(["room_id", "membership", "event_id", "stream_ordering"])
      .where("type", "=", "m.room.member")
      .where("state_key", "=", userId)
      .where("membership", "in", memberships)
      .execute(),

  /** Current members of a room with a given membership. */
  members: (roomId: string, memberships?: string[]) => {
    let q = db
      .selectFrom("current_state")
      .select(["state_key as user_id", "membership", "event_id"])
      .where("room_id", "=", roomId)
      .where("type", "=", "m.room.member");
    if (memberships) q = q.where("membership", "in", memberships);
    return q.execute();
  },

  setRedacted: (eventId: string, redactedBy: string, json: string) =>
    db
      .updateTable("events")
      .set({ redacted_by: redactedBy, json, rel_type: null, relates_to: null })
      .where("event_id", "=", eventId)
      .execute(),

  // Transaction ids (client-server API "Transaction identifiers"): scoped to the device.
  /** A device's txnIds created at or after `since` (rooms/txn-ids.ts). */
  txnsOfDevice: (userId: string, deviceId: string, since: number) =>
    db.selectFrom("event_txns").select(["txn_id", "event_id"]).where("user_id", "=", userId).where("device_id", "=", deviceId).where("created_ts", ">=", since).execute(),

  /** Forgets txnIds created before `before`: a retry that late is a new send. */
  pruneTxns: (before: number) => db.deleteFrom("event_txns").where("created_ts", "<", before).execute(),

  insertTxn: (row: { user_id: string; device_id: string; txn_id: string; event_id: string; created_ts: number }) =>
    runCompiled(db, "events.insertTxn", [row], ([v]) =>
      db
        .insertInto("event_txns")
        .values(v as typeof row)
        .onConflict((oc) => oc.columns(["user_id", "device_id", "txn_id"]).doNothing()),
    ),

  // Relations (client-server API "Relationships").
  relations: (eventId: string, opts: { relType?: string; eventType?: string; after?: number; upTo?: number; dir: "f" | "b"; limit: number }) => {
    let q = db.selectFrom("events").selectAll().where("relates_to", "=", eventId);
    if (opts.relType) q = q.where("rel_type", "=", opts.relType);
    if (opts.eventType) q = q.where("type", "=", opts.eventType);
    if (opts.after !== undefined) q = q.where("stream_ordering", ">", opts.after);
    if (opts.upTo !== undefined) q = q.where("stream_ordering", "<=", opts.upTo);
    return q.orderBy("stream_ordering", opts.dir === "f" ? "asc" : "desc").limit(opts.limit).execute();
  },

  relationsOfMany: (eventIds: string[]) =>
    eventIds.length === 0
      ? Promise.resolve([] as EventRow[])
      : db.selectFrom("events").selectAll().where("relates_to", "in", eventIds).where("redacted_by", "is", null).orderBy("stream_ordering").execute(),

  /** The event closest to a timestamp in a direction (/timestamp_to_event). */
  closestToTs: (roomId: string, ts: number, dir: "f" | "b") =>
    db
      .selectFrom("events")
      .select(["event_id", "origin_server_ts", "stream_ordering"])
      .where("room_id", "=", roomId)
      .where("origin_server_ts", dir === "f" ? ">=" : "<=", ts)
      .orderBy("origin_server_ts", dir === "f" ? "asc" : "desc")
      .orderBy("stream_ordering", dir === "f" ? "asc" : "desc")
      .limit(1)
      .executeTakeFirst(),

  /** Rooms (of those given) with events in (after, upTo], and their newest position. */
  roomsWithEventsIn: (roomIds: string[], after: number, upTo: number) =>
    roomIds.length === 0 || after >= upTo
      ? Promise.resolve([] as Array<{ room_id: string; pos: number }>)
      : db
          .selectFrom("events")
          .select(["room_id", (eb) => eb.fn.max("stream_ordering").as("pos")])
          .where("room_id", "in", roomIds)
          .where("stream_ordering", ">", after)
          .where("stream_ordering", "<=", upTo)
          .groupBy("room_id")
          .execute()
          .then((rows) => rows.map((r) => ({ room_id: r.room_id, pos: Number(r.pos) }))),

  /** The user's membership events in (after, upTo]: rooms joined, left, invited… since a sync. */
  membershipChangesIn: (userId: string, after: number, upTo: number) =>
    db
      .selectFrom("events")
      .select(["room_id", "membership", "stream_ordering"])
      .where("state_key", "=", userId)
      .where("type", "=", "m.room.member")
      .where("stream_ordering", ">", after)
      .where("stream_ordering", "<=", upTo)
      .orderBy("stream_ordering")
      .execute(),

  countInRoom: async (roomId: string) =>
    Number((await db.selectFrom("events").select((eb) => eb.fn.countAll().as("n")).where("room_id", "=", roomId).executeTakeFirstOrThrow()).n),

  // --- /relations, /threads, /timestamp_to_event and bundled aggregations (rooms/relations.ts,
  // rooms/threads.ts, rooms/serialize.ts). A redacted child has no relation any more
  // (setRedacted clears it), so redacted children drop out of all of these.

  /**
   * Children of `parentId` in its room, following relations of relations down to `depth` levels
   * (1: direct children only). The rel_type and type filters apply at every level (spec
   * "Relationships API": an event reached only through a non-matching one is not included).
   */
  relationTree: (
    roomId: string,
    parentId: string,
    opts: { relType?: string; eventType?: string; depth: number; after?: number; upTo?: number; dir: "f" | "b"; limit: number },
  ) => {
    let q = db
      .withRecursive("tree(event_id, depth)", (qc) => {
        let first = qc.selectFrom("events").select(["event_id", sql<number>`1`.as("depth")]).where("relates_to", "=", parentId).where("room_id", "=", roomId);
        let next = qc
          .selectFrom("events as e")
          .innerJoin("tree as t", "t.event_id", "e.relates_to")
          .select(["e.event_id", sql<number>`t.depth + 1`.as("depth")])
          .where("e.room_id", "=", roomId)
          .where("t.depth", "<", opts.depth);
        if (opts.relType !== undefined) {
          first = first.where("rel_type", "=", opts.relType);
          next = next.where("e.rel_type", "=", opts.relType);
        }
        if (opts.eventType !== undefined) {
          first = first.where("type", "=", opts.eventType);
          next = next.where("e.type", "=", opts.eventType);
        }
        return first.unionAll(next);
      })
      .selectFrom("events as ev")
      .innerJoin("tree", "tree.event_id", "ev.event_id")
      .selectAll("ev");
    if (opts.after !== undefined) q = q.where("ev.stream_ordering", ">", opts.after);
    if (opts.upTo !== undefined) q = q.where("ev.stream_ordering", "<=", opts.upTo);
    return q.orderBy("ev.stream_ordering", opts.dir === "f" ? "asc" : "desc").limit(opts.limit).execute();
  },

  /** Unredacted children of the given events with one of `relTypes`, oldest first, without their JSON. */
  relationSummariesOf: async (eventIds: string[], relTypes: string[]): Promise<RelationSummary[]> => {
    const ids = eventIds.length ? eventIds : [""];
    const types = relTypes.length ? relTypes : [""];
    const query = (idList: string[], typeList: string[]) =>
      db
        .selectFrom("events")
        .select(RELATION_SUMMARY_COLUMNS)
        .where("relates_to", "in", idList)
        .where("rel_type", "in", typeList)
        .where("redacted_by", "is", null)
        .orderBy("stream_ordering");
    if (ids.length > COMPILED_RELATION_PARENTS) return query(ids, types).execute();
    // A sync of a few events (an idle client's, with news) makes one of these on its own, and
    // building the query cost more than running it: compiled once per list lengths instead.
    const values: Record<string, unknown> = {};
    ids.forEach((id, i) => (values[`e${i}`] = id));
    types.forEach((t, i) => (values[`t${i}`] = t));
    const r = await runCompiled<RelationSummary>(db, `events.relationSummariesOf/${ids.length}/${types.length}`, [values], ([v]) =>
      query(
        ids.map((_, i) => v![`e${i}`] as string),
        types.map((_, i) => v![`t${i}`] as string),
      ),
    );
    return r.rows;
  },

  /**
   * Thread roots of a room by latest activity, newest first: each root with the position of its
   * latest reply at or below `upTo`, keeping those whose latest reply is at or below `latestAtMost`.
   * A root must be in the room and not itself a relation (spec "Threading": a thread cannot start
   * from an event with a rel_type). `participant`: only threads whose root they sent or where they
   * replied.
   */
  threadRoots: (roomId: string, opts: { upTo: number; latestAtMost: number; participant?: string; limit: number }) => {
    let q = db
      .selectFrom("events as c")
      .innerJoin("events as r", "r.event_id", "c.relates_to")
      .select((eb) => ["c.relates_to as root_id", eb.fn.max("c.stream_ordering").as("latest")])
      .where("c.room_id", "=", roomId)
      .whereRef("r.room_id", "=", "c.room_id")
      .where("c.rel_type", "=", "m.thread")
      .where("r.rel_type", "is", null)
      .where("c.stream_ordering", "<=", opts.upTo);
    const who = opts.participant;
    if (who !== undefined) {
      q = q.where((eb) =>
        eb.or([
          eb("r.sender", "=", who),
          eb.exists(
            eb
              .selectFrom("events as p")
              .select("p.event_id")
              .whereRef("p.relates_to", "=", "c.relates_to")
              .where("p.rel_type", "=", "m.thread")
              .where("p.sender", "=", who)
              .where("p.stream_ordering", "<=", opts.upTo),
          ),
        ]),
      );
    }
    return q
      .groupBy("c.relates_to")
      .having((eb) => eb(eb.fn.max("c.stream_ordering"), "<=", opts.latestAtMost))
      .orderBy("latest", "desc")
      .limit(opts.limit)
      .execute()
      .then((rows) => rows.map((r) => ({ root_id: r.root_id as string, latest: Number(r.latest) })));
  },

  /**
   * Events of a room from a timestamp onwards (`f`) or backwards (`b`), closest first, at most
   * `upTo` in stream order; `afterKey` continues after the last row of a previous batch.
   */
  nearTimestamp: (roomId: string, ts: number, dir: "f" | "b", opts: { upTo: number; afterKey?: { ts: number; pos: number }; limit: number }) => {
    const cmp = dir === "f" ? ">" : "<";
    let q = db
      .selectFrom("events")
      .select(["event_id", "origin_server_ts", "stream_ordering", "type", "state_key", "membership"])
      .where("room_id", "=", roomId)
      .where("origin_server_ts", dir === "f" ? ">=" : "<=", ts)
      .where("stream_ordering", "<=", opts.upTo);
    const k = opts.afterKey;
    if (k) q = q.where((eb) => eb.or([eb("origin_server_ts", cmp, k.ts), eb.and([eb("origin_server_ts", "=", k.ts), eb("stream_ordering", cmp, k.pos)])]));
    return q
      .orderBy("origin_server_ts", dir === "f" ? "asc" : "desc")
      .orderBy("stream_ordering", dir === "f" ? "asc" : "desc")
      .limit(opts.limit)
      .execute();
  },

});

/** The events repository of a database (or transaction) handle: made once per handle, since
 * serialising an event for a /sync asked for it, and each made ~40 closures (a few KB of garbage
 * per woken long-poll). The repository holds no state of its own. */
const eventsRepos = new WeakMap<Db, ReturnType<typeof makeEventsRepo>>();
export function eventsRepo(db: Db): ReturnType<typeof makeEventsRepo> {
  let repo = eventsRepos.get(db);
  if (repo === undefined) eventsRepos.set(db, (repo = makeEventsRepo(db)));
  return repo;
}
