// Rooms, continued: two indexes of `events` become partial. Most events are messages with no state
// key and no relation; indexing their NULLs cost two B-tree inserts per message for nothing
// (bench/rooms.ts). Every query on these columns compares them with `=` (or joins on them), which
// implies IS NOT NULL, so SQLite and PostgreSQL still use the indexes.
import { sql, type Kysely } from "kysely";
import type { Dialect } from "../database.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.dropIndex("events_member_of").execute();
  await db.schema.createIndex("events_member_of").on("events").columns(["state_key", "type", "stream_ordering"]).where(sql.ref("state_key"), "is not", null).execute();
  await db.schema.dropIndex("events_relates").execute();
  await db.schema.createIndex("events_relates").on("events").columns(["relates_to", "rel_type"]).where(sql.ref("relates_to"), "is not", null).execute();
}
