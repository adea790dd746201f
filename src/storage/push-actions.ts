// Push actions per (user, event): the source of unread notification counts and /notifications.
import { sql } from "kysely";
import type { Db } from "./database.js";
import { runCompiled } from "./compiled.js";
import type { EventPushActionsTable } from "./schema.js";

export type PushActionRow = EventPushActionsTable;

export interface UnreadRow {
  room_id: string;
  thread_id: string;
  notifications: number;
  highlights: number;
}

export const pushActionsRepo = (db: Db) => ({
  // Precompiled per row count (compiled.ts): compiling 63 rows cost more than inserting them.
  insertMany: async (rows: PushActionRow[]): Promise<void> => {
    if (rows.length === 0) return;
    await runCompiled(db, "push_actions.insertMany", rows as unknown as Record<string, unknown>[], (v) =>
      db
        .insertInto("event_push_actions")
        .values(v as unknown as PushActionRow[])
        .onConflict((oc) => oc.columns(["user_id", "room_id", "stream_ordering"]).doNothing()),
    );
  },

  /**
   * Unread notifications per room and thread: actions after the user's read position, where the
   * read position is the furthest m.read or m.read.private receipt that applies (an unthreaded one,
   * or one of the same thread) (spec "Marking notifications as read"). `roomIds` undefined: all rooms.
   */
  async unread(userId: string, roomIds?: string[]): Promise<UnreadRow[]> {
    if (roomIds && roomIds.length === 0) return [];
    const rows = await unreadQuery(db, [userId], roomIds).execute();
    return rows.map(toUnreadRow);
  },

  /**
   * The same counts for several users over the same rooms in one query (long-polls woken together,
   * push/unread-batch.ts): each row says whose it is, each user's read position is their own.
   */
  async unreadMany(userIds: string[], roomIds: string[]): Promise<Array<UnreadRow & { user_id: string }>> {
    if (userIds.length === 0 || roomIds.length === 0) return [];
    const rows = await unreadQuery(db, userIds, roomIds).select("a.user_id").groupBy("a.user_id").execute();
    return rows.map((r) => ({ ...toUnreadRow(r), user_id: r.user_id }));
  },

  /** Newest first, below a stream position. */
  page: (userId: string, opts: { before?: number; limit: number; onlyHighlight: boolean }) => {
    let q = db.selectFrom("event_push_actions").selectAll().where("user_id", "=", userId);
    if (opts.before !== undefined) q = q.where("stream_ordering", "<", opts.before);
    if (opts.onlyHighlight) q = q.where("highlight", "=", 1);
    return q.orderBy("stream_ordering", "desc").limit(opts.limit).execute();
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

/** Unread actions of `userIds` (in `roomIds`, or everywhere), grouped by room and thread. */
function unreadQuery(db: Db, userIds: string[], roomIds?: string[]) {
  let q = db
    .selectFrom("event_push_actions as a")
    .select((eb) => ["a.room_id", "a.thread_id", eb.fn.countAll<number>().as("notifications"), eb.fn.sum<number>("a.highlight").as("highlights")])
    .where("a.user_id", "in", userIds)
    .where((eb) =>
      eb(
        "a.stream_ordering",
        ">",
        eb.fn.coalesce(
          eb
            .selectFrom("receipts as r")
            .select((e2) => e2.fn.max("r.event_stream_ordering").as("m"))
            .whereRef("r.user_id", "=", "a.user_id")
            .whereRef("r.room_id", "=", "a.room_id")
            .where("r.receipt_type", "in", ["m.read", "m.read.private"])
            .where((e2) => e2.or([e2("r.thread_id", "=", ""), e2("r.thread_id", "=", e2.ref("a.thread_id"))])),
          sql<number>`0`,
        ),
      ),
    )
    .where((eb) =>
      eb("a.stream_ordering", ">", eb.fn.coalesce(eb.selectFrom("push_implicit_reads as i").select("i.stream_ordering").whereRef("i.user_id", "=", "a.user_id").whereRef("i.room_id", "=", "a.room_id"), sql<number>`0`)),
    )
    .groupBy(["a.room_id", "a.thread_id"]);
  if (roomIds) q = q.where("a.room_id", "in", roomIds);
  return q;
}

const toUnreadRow = (r: { room_id: string; thread_id: string; notifications: number | string; highlights: number | string | null }): UnreadRow => ({
  room_id: r.room_id,
  thread_id: r.thread_id,
  notifications: Number(r.notifications),
  highlights: Number(r.highlights ?? 0),
});
