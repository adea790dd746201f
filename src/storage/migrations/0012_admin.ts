// Admin API state (Synapse-compatible admin API, docs/admin-api.md): blocked rooms (kept apart
// from `rooms` so that a block outlives a purge and can name a room this server has never seen),
// the server notices room of each user, and the users whose data was erased on deactivation.
import type { Kysely } from "kysely";
import type { Dialect } from "../database.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable("blocked_rooms")
    .addColumn("room_id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("blocked_ts", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("server_notice_rooms")
    .addColumn("user_id", "text", (c) => c.primaryKey())
    .addColumn("room_id", "text", (c) => c.notNull())
    .addColumn("created_ts", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("erased_users")
    .addColumn("user_id", "text", (c) => c.primaryKey())
    .addColumn("erased_ts", "bigint", (c) => c.notNull())
    .execute();
}
