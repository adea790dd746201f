// Push actions shared by a room's members instead of one row per notified member.
// Why: a message wrote one event_push_actions row per notified member, each on its own page of a
// table keyed by user, so a send cost grew with the room: 64 members, ~60 % of a send's CPU; 300
// members, 12 ms; 1,001 members, 25–45 ms (bench/rooms.ts, bench/sync.ts). Most members run the
// server's default rules, on which every member who is not named by the event gets the same
// outcome (push/shared-defaults.ts). That outcome is now stored once per event
// (event_push_shared), and a member counts it if they were joined when it was sent
// (push_member_spans) and have no row of their own for it. event_push_actions keeps only the
// exceptions: members whose outcome differs from the shared one (named by the event, or with rules
// of their own), including "does not notify" (notify = 0) where the shared outcome notifies.
// Rows written before this migration are all per-member and notifying: exactly what they meant.
import { sql, type Kysely } from "kysely";
import type { Dialect } from "../database.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema.alterTable("event_push_actions").addColumn("notify", "integer", (c) => c.notNull().defaultTo(1)).execute();

  // One row per event whose shared outcome notifies.
  let shared = db.schema
    .createTable("event_push_shared")
    .addColumn("room_id", "text", (c) => c.notNull())
    .addColumn("stream_ordering", "bigint", (c) => c.notNull())
    .addColumn("event_id", "text", (c) => c.notNull())
    /** "main" or the thread root's event id. */
    .addColumn("thread_id", "text", (c) => c.notNull())
    /** Never notified of their own event. */
    .addColumn("sender", "text", (c) => c.notNull())
    .addColumn("highlight", "integer", (c) => c.notNull())
    .addColumn("actions", "text", (c) => c.notNull())
    .addColumn("ts", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("event_push_shared_pk", ["room_id", "stream_ordering"]);
  if (dialect === "sqlite") shared = shared.modifyEnd(sql`without rowid`);
  await shared.execute();
  // /notifications walks a user's rooms newest first.
  await db.schema.createIndex("event_push_shared_by_order").on("event_push_shared").columns(["stream_ordering"]).execute();

  // The stretches of stream during which a local user was joined to a room: from the position of
  // the join (exclusive: the state before the join has no such member) to the position of the
  // membership event that ended it (inclusive: the state before that event still had them joined),
  // open while they are joined.
  let spans = db.schema
    .createTable("push_member_spans")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("room_id", "text", (c) => c.notNull())
    .addColumn("from_ordering", "bigint", (c) => c.notNull())
    .addColumn("to_ordering", "bigint")
    .addPrimaryKeyConstraint("push_member_spans_pk", ["user_id", "room_id", "from_ordering"]);
  if (dialect === "sqlite") spans = spans.modifyEnd(sql`without rowid`);
  await spans.execute();
  // Members joined now: their span starts at their current membership event, which is early
  // enough (no shared row predates this migration).
  await sql`insert into push_member_spans (user_id, room_id, from_ordering, to_ordering)
    select state_key, room_id, stream_ordering, null from current_state where type = 'm.room.member' and membership = 'join'`.execute(db);
}
