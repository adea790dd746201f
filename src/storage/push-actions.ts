// Push actions: the source of unread notification counts and /notifications (migration 0016).
// An event's outcome for the members it does not single out is stored once (event_push_shared);
// a local member counts it if they were joined when it was sent (push_member_spans) and have no
// row of their own for it in event_push_actions, which holds the exceptions (notify = 0 included).
import { sql, type Expression } from "kysely";
import type { Db } from "./database.js";
import { runCompiled } from "./compiled.js";
import type { EventPushActionsTable, EventPushSharedTable } from "./schema.js";

export type PushActionRow = EventPushActionsTable;
export type SharedPushRow = EventPushSharedTable;

export interface UnreadRow {
  room_id: string;
  thread_id: string;
  notifications: number;
  highlights: number;
}

/** A notification as /notifications lists it. */
export interface NotificationRow {
  room_id: string;
  stream_ordering: number;
  event_id: string;
  thread_id: string;
  highlight: number;
  actions: string;
  ts: number;
}

const READ_RECEIPTS = ["m.read", "m.read.private"];

export const pushActionsRepo = (db: Db) => ({
  /** Members' own outcomes. Precompiled per row count (compiled.ts): compiling 63 rows cost more than inserting them. */
  insertMany: async (rows: PushActionRow[]): Promise<void> => {
    if (rows.length === 0) return;
    await runCompiled(db, "push_actions.insertMany", rows as unknown as Record<string, unknown>[], (v) =>
      db
        .insertInto("event_push_actions")
        .values(v as unknown as PushActionRow[])
        .onConflict((oc) => oc.columns(["user_id", "room_id", "stream_ordering"]).doNothing()),
    );
  },

  /** The outcome shared by every member the event does not single out. */
  insertShared: (row: SharedPushRow) =>
    runCompiled(db, "push_actions.insertShared", [row as unknown as Record<string, unknown>], ([v]) =>
      db
        .insertInto("event_push_shared")
        .values(v as unknown as SharedPushRow)
        .onConflict((oc) => oc.columns(["room_id", "stream_ordering"]).doNothing()),
    ),

  /**
   * A local user's membership of a room changed at `pos` (from `prev` to `now`): a joined stretch
   * opens or closes. An insert when it opens, so that joins share the writer's combined
   * statements on PostgreSQL (deferred-writes.ts); closing is an update, rarer.
   */
  async membershipChanged(userId: string, roomId: string, prev: string | undefined | null, now: string, pos: number): Promise<void> {
    if (now === "join" && prev !== "join") {
      await runCompiled(db, "push_actions.openSpan", [{ user_id: userId, room_id: roomId, from_ordering: pos, to_ordering: null }], ([v]) =>
        db
          .insertInto("push_member_spans")
          .values(v as { user_id: string; room_id: string; from_ordering: number; to_ordering: null })
          .onConflict((oc) => oc.columns(["user_id", "room_id", "from_ordering"]).doNothing()),
      );
    } else if (prev === "join" && now !== "join") {
      await db.updateTable("push_member_spans").set({ to_ordering: pos }).where("user_id", "=", userId).where("room_id", "=", roomId).where("to_ordering", "is", null).execute();
    }
  },

  /**
   * Unread notifications per room and thread: notifying events after the user's read position,
   * where the read position is the furthest m.read or m.read.private receipt that applies (an
   * unthreaded one, or one of the same thread) or the user's own latest event (spec "Marking
   * notifications as read"). `roomIds` undefined: all rooms.
   */
  async unread(userId: string, roomIds?: string[]): Promise<UnreadRow[]> {
    if (roomIds && roomIds.length === 0) return [];
    return (await unreadRows(db, [userId], roomIds)).map(({ user_id: _u, ...r }) => r);
  },

  /**
   * The same counts for several users over the same rooms (long-polls woken together,
   * push/unread-batch.ts): each row says whose it is, each user's read position is their own.
   */
  unreadMany: (userIds: string[], roomIds: string[]): Promise<Array<UnreadRow & { user_id: string }>> =>
    userIds.length === 0 || roomIds.length === 0 ? Promise.resolve([]) : unreadRows(db, userIds, roomIds),

  /** The user's notifications, newest first, below a stream position. */
  async page(userId: string, opts: { before?: number; limit: number; onlyHighlight: boolean }): Promise<NotificationRow[]> {
    let own = db
      .selectFrom("event_push_actions")
      .select(["room_id", "stream_ordering", "event_id", "thread_id", "highlight", "actions", "ts"])
      .where("user_id", "=", userId)
      .where("notify", "=", 1);
    if (opts.before !== undefined) own = own.where("stream_ordering", "<", opts.before);
    if (opts.onlyHighlight) own = own.where("highlight", "=", 1);
    // Shared rows: per joined stretch, its newest `limit` rows below `before` (an index range read
    // backwards, whatever the length of the room's history), merged here; one statement for up to
    // 100 stretches.
    const spans = await db.selectFrom("push_member_spans").select(["room_id", "from_ordering", "to_ordering"]).where("user_id", "=", userId).execute();
    const sharedPages: Array<Promise<NotificationRow[]>> = [];
    for (let i = 0; i < spans.length; i += 100) {
      const parts = spans.slice(i, i + 100).map((sp) => {
        let q = db
          .selectFrom("event_push_shared as s")
          .select(["s.room_id", "s.stream_ordering", "s.event_id", "s.thread_id", "s.highlight", "s.actions", "s.ts"])
          .where("s.room_id", "=", sp.room_id)
          .where("s.stream_ordering", ">", sp.from_ordering)
          .where("s.sender", "<>", userId)
          .where((eb) => eb.not(eb.exists(ownRowFor(eb, sql.val(userId)))));
        if (sp.to_ordering !== null) q = q.where("s.stream_ordering", "<=", sp.to_ordering);
        if (opts.before !== undefined) q = q.where("s.stream_ordering", "<", opts.before);
        if (opts.onlyHighlight) q = q.where("s.highlight", "=", 1);
        return db.selectFrom(q.orderBy("s.stream_ordering", "desc").limit(opts.limit).as("t")).selectAll();
      });
      sharedPages.push(parts.reduce((u, q) => u.unionAll(q)).execute());
    }
    const [a, ...b] = await Promise.all([own.orderBy("stream_ordering", "desc").limit(opts.limit).execute(), ...sharedPages]);
    return [...a, ...b.flat()]
      .map((r) => ({ ...r, stream_ordering: Number(r.stream_ordering), ts: Number(r.ts) }))
      .sort((x, y) => y.stream_ordering - x.stream_ordering)
      .slice(0, opts.limit);
  },

  /** The user sent an event at `pos`: everything before it in the room counts as read. */
  markSent: (userId: string, roomId: string, pos: number) =>
    runCompiled(db, "push_actions.markSent", [{ user_id: userId, room_id: roomId, stream_ordering: pos }], ([v]) =>
      db
        .insertInto("push_implicit_reads")
        .values(v as { user_id: string; room_id: string; stream_ordering: number })
        .onConflict((oc) => oc.columns(["user_id", "room_id"]).doUpdateSet((eb) => ({ stream_ordering: eb.ref("excluded.stream_ordering") }))),
    ),

  implicitReads: (userId: string, roomIds: string[]) =>
    roomIds.length === 0 ? Promise.resolve([]) : db.selectFrom("push_implicit_reads").select(["room_id", "stream_ordering"]).where("user_id", "=", userId).where("room_id", "in", roomIds).execute(),
});

/** The member's own row for the shared event `s` (which then replaces the shared outcome). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const ownRowFor = (eb: any, user: Expression<string>) =>
  eb
    .selectFrom("event_push_actions as x")
    .select(sql`1`.as("one"))
    .where("x.user_id", "=", user)
    .whereRef("x.room_id", "=", "s.room_id")
    .whereRef("x.stream_ordering", "=", "s.stream_ordering");

/** The furthest read receipt of `user` in `room` for `thread` ("" = unthreaded), or 0. */
const readUpTo = (user: string, room: string, thread: string | null) =>
  sql<number>`coalesce((select max(r.event_stream_ordering) from receipts r
    where r.room_id = ${sql.ref(room)} and r.user_id = ${sql.ref(user)} and r.receipt_type in (${sql.join(READ_RECEIPTS)})
    and ${thread === null ? sql`r.thread_id = ''` : sql`(r.thread_id = '' or r.thread_id = ${sql.ref(thread)})`}), 0)`;

/** Unread counts of `userIds` in `roomIds` (or everywhere): shared outcomes plus their own rows. */
async function unreadRows(db: Db, userIds: string[], roomIds?: string[]): Promise<Array<UnreadRow & { user_id: string }>> {
  const rooms = (col: string) => (roomIds ? sql`and ${sql.ref(col)} in (${sql.join(roomIds)})` : sql``);
  // Shared outcomes: per joined stretch, the lowest position that can still be unread (its start,
  // the user's own latest event, their unthreaded receipt) bounds the scan of the room's rows
  // (an index range); a threaded receipt is then checked per row.
  const shared = sql<{ user_id: string; room_id: string; thread_id: string; notifications: number | string; highlights: number | string | null }>`
    select b.user_id, s.room_id, s.thread_id, count(*) as notifications, sum(s.highlight) as highlights
    from (
      select user_id, room_id, to_ordering,
        case when f >= i and f >= r then f when i >= r then i else r end as lo
      from (
        select sp.user_id, sp.room_id, sp.to_ordering, sp.from_ordering as f,
          coalesce(ir.stream_ordering, 0) as i, ${readUpTo("sp.user_id", "sp.room_id", null)} as r
        from push_member_spans sp
        left join push_implicit_reads ir on ir.user_id = sp.user_id and ir.room_id = sp.room_id
        where sp.user_id in (${sql.join(userIds)}) ${rooms("sp.room_id")}
      ) bounds
    ) b
    join event_push_shared s on s.room_id = b.room_id and s.stream_ordering > b.lo
    where (b.to_ordering is null or s.stream_ordering <= b.to_ordering)
      and s.sender <> b.user_id
      and s.stream_ordering > ${readUpTo("b.user_id", "s.room_id", "s.thread_id")}
      and not exists (select 1 from event_push_actions x where x.user_id = b.user_id and x.room_id = s.room_id and x.stream_ordering = s.stream_ordering)
    group by b.user_id, s.room_id, s.thread_id`;
  const own = sql<{ user_id: string; room_id: string; thread_id: string; notifications: number | string; highlights: number | string | null }>`
    select a.user_id, a.room_id, a.thread_id, count(*) as notifications, sum(a.highlight) as highlights
    from event_push_actions a
    left join push_implicit_reads ir on ir.user_id = a.user_id and ir.room_id = a.room_id
    where a.user_id in (${sql.join(userIds)}) ${rooms("a.room_id")} and a.notify = 1
      and a.stream_ordering > coalesce(ir.stream_ordering, 0)
      and a.stream_ordering > ${readUpTo("a.user_id", "a.room_id", "a.thread_id")}
    group by a.user_id, a.room_id, a.thread_id`;
  const [s, o] = await Promise.all([shared.execute(db), own.execute(db)]);
  // A room and thread can come from both: one row each, summed.
  const out = new Map<string, UnreadRow & { user_id: string }>();
  for (const r of [...s.rows, ...o.rows]) {
    const k = `${r.user_id}\u0000${r.room_id}\u0000${r.thread_id}`;
    const prev = out.get(k);
    const n = Number(r.notifications);
    const h = Number(r.highlights ?? 0);
    if (prev) {
      prev.notifications += n;
      prev.highlights += h;
    } else out.set(k, { user_id: r.user_id, room_id: r.room_id, thread_id: r.thread_id, notifications: n, highlights: h });
  }
  return [...out.values()];
}
