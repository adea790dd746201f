// Drops the `events_thread` index (room_id, thread_root, stream_ordering): no query reads
// `thread_root` through SQL (threads are found by `relates_to`, indexed by `events_relates`), yet
// every event, a plain message included, paid one more B-tree insert and one more page written at
// commit for it (bench/rooms.ts). The column stays: the receipts code reads it from the row.
import type { Kysely } from "kysely";
import type { Dialect } from "../database.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.dropIndex("events_thread").ifExists().execute();
}
