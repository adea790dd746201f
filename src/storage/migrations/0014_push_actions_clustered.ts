// Push actions keyed by (user_id, room_id, stream_ordering) instead of (user_id, event_id).
// Why: every message writes one row per notified member, at a different place of every index
// (each is keyed by user first), so in a busy room these rows were most of a send's cost
// (bench/rooms.ts, 64 members: about 60% of the server's CPU per send, inserts plus the pages they
// dirty at commit). The old shape had four b-trees per row on SQLite (rowid table, primary key,
// two indexes); now there are two: the table itself, clustered on the key the unread counts read
// (SQLite WITHOUT ROWID), and the (user_id, stream_ordering) index that /notifications pages on.
// A stream position names one event, so the new key is as unique as the old one.
import { sql, type Kysely } from "kysely";
import type { Dialect } from "../database.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  let create = db.schema
    .createTable("event_push_actions_v2")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("room_id", "text", (c) => c.notNull())
    .addColumn("stream_ordering", "bigint", (c) => c.notNull())
    .addColumn("event_id", "text", (c) => c.notNull())
    /** "main" or the thread root's event id. */
    .addColumn("thread_id", "text", (c) => c.notNull())
    .addColumn("highlight", "integer", (c) => c.notNull())
    .addColumn("actions", "text", (c) => c.notNull())
    .addColumn("ts", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("event_push_actions_v2_pk", ["user_id", "room_id", "stream_ordering"]);
  if (dialect === "sqlite") create = create.modifyEnd(sql`without rowid`);
  await create.execute();
  await sql`insert into event_push_actions_v2 (user_id, room_id, stream_ordering, event_id, thread_id, highlight, actions, ts)
    select user_id, room_id, stream_ordering, event_id, thread_id, highlight, actions, ts from event_push_actions`.execute(db);
  await db.schema.dropTable("event_push_actions").execute();
  await db.schema.alterTable("event_push_actions_v2").renameTo("event_push_actions").execute();
  await db.schema.createIndex("event_push_actions_by_user_order").on("event_push_actions").columns(["user_id", "stream_ordering"]).execute();
}
