// Receipts (client-server API "Receipts"): the latest receipt per room, type, user and thread.
import type { Kysely } from "kysely";
import type { Dialect } from "../database.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable("receipts")
    .addColumn("room_id", "text", (c) => c.notNull())
    .addColumn("receipt_type", "text", (c) => c.notNull())
    .addColumn("user_id", "text", (c) => c.notNull())
    /** "" for an unthreaded receipt, "main" or a thread root id for threaded ones. */
    .addColumn("thread_id", "text", (c) => c.notNull())
    .addColumn("event_id", "text", (c) => c.notNull())
    .addColumn("event_stream_ordering", "bigint", (c) => c.notNull())
    .addColumn("ts", "bigint", (c) => c.notNull())
    .addColumn("stream_id", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("receipts_pk", ["room_id", "receipt_type", "user_id", "thread_id"])
    .execute();
  await db.schema.createIndex("receipts_stream").on("receipts").columns(["room_id", "stream_id"]).execute();
  await db.schema.createIndex("receipts_user").on("receipts").columns(["user_id", "room_id"]).execute();
}
