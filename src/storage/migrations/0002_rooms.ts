// Rooms and their events. The room is stored as the DAG it is (each event's JSON keeps prev_events,
// auth_events and depth); stream_ordering is this server's total order of persistence, used for
// pagination and sync. State at any event is addressable: every state event is kept, and
// current_state is a materialised view of the latest state per (type, state_key).
import { sql, type Kysely } from "kysely";
import type { Dialect } from "../database.js";
import { withId } from "./helpers.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable("rooms")
    .addColumn("room_id", "text", (c) => c.primaryKey())
    .addColumn("room_version", "text", (c) => c.notNull())
    .addColumn("creator", "text", (c) => c.notNull())
    .addColumn("created_ts", "bigint", (c) => c.notNull())
    .addColumn("is_public", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("blocked", "integer", (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable("events")
    .addColumn("stream_ordering", "bigint", (c) => c.primaryKey())
    .addColumn("event_id", "text", (c) => c.notNull().unique())
    .addColumn("room_id", "text", (c) => c.notNull())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("state_key", "text")
    .addColumn("sender", "text", (c) => c.notNull())
    .addColumn("origin_server_ts", "bigint", (c) => c.notNull())
    .addColumn("depth", "bigint", (c) => c.notNull())
    .addColumn("membership", "text")
    .addColumn("rel_type", "text")
    .addColumn("relates_to", "text")
    .addColumn("thread_root", "text")
    .addColumn("redacted_by", "text")
    .addColumn("device_id", "text")
    .addColumn("txn_id", "text")
    .addColumn("json", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("events_room_order").on("events").columns(["room_id", "stream_ordering"]).execute();
  await db.schema.createIndex("events_room_state").on("events").columns(["room_id", "type", "state_key", "stream_ordering"]).execute();
  await db.schema.createIndex("events_relates").on("events").columns(["relates_to", "rel_type"]).execute();
  await db.schema.createIndex("events_thread").on("events").columns(["room_id", "thread_root", "stream_ordering"]).execute();
  await db.schema.createIndex("events_member_of").on("events").columns(["state_key", "type", "stream_ordering"]).execute();
  await db.schema.createIndex("events_room_ts").on("events").columns(["room_id", "origin_server_ts"]).execute();

  await db.schema
    .createTable("current_state")
    .addColumn("room_id", "text", (c) => c.notNull())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("state_key", "text", (c) => c.notNull())
    .addColumn("event_id", "text", (c) => c.notNull())
    .addColumn("stream_ordering", "bigint", (c) => c.notNull())
    .addColumn("membership", "text")
    .addPrimaryKeyConstraint("current_state_pk", ["room_id", "type", "state_key"])
    .execute();
  await db.schema.createIndex("current_state_member").on("current_state").columns(["state_key", "type", "membership"]).execute();

  await db.schema
    .createTable("event_txns")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("device_id", "text", (c) => c.notNull())
    .addColumn("txn_id", "text", (c) => c.notNull())
    .addColumn("event_id", "text", (c) => c.notNull())
    .addColumn("created_ts", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("event_txns_pk", ["user_id", "device_id", "txn_id"])
    .execute();

  await db.schema
    .createTable("forgotten_rooms")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("room_id", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("forgotten_rooms_pk", ["user_id", "room_id"])
    .execute();

  await db.schema
    .createTable("room_aliases")
    .addColumn("alias", "text", (c) => c.primaryKey())
    .addColumn("room_id", "text", (c) => c.notNull())
    .addColumn("creator", "text", (c) => c.notNull())
    .addColumn("created_ts", "bigint", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("room_aliases_room").on("room_aliases").column("room_id").execute();

  await withId(db.schema.createTable("event_reports"), dialect)
    .addColumn("room_id", "text", (c) => c.notNull())
    .addColumn("event_id", "text")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("reason", "text")
    .addColumn("score", "integer")
    .addColumn("received_ts", "bigint", (c) => c.notNull())
    .execute();

  // Full-text search over unencrypted message bodies, names and topics.
  if (dialect === "sqlite") {
    await sql`CREATE VIRTUAL TABLE event_search USING fts5(value, event_id UNINDEXED, room_id UNINDEXED, key UNINDEXED, stream_ordering UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')`.execute(db);
  } else {
    await db.schema
      .createTable("event_search")
      .addColumn("event_id", "text", (c) => c.primaryKey())
      .addColumn("room_id", "text", (c) => c.notNull())
      .addColumn("key", "text", (c) => c.notNull())
      .addColumn("stream_ordering", "bigint", (c) => c.notNull())
      .addColumn("value", "text", (c) => c.notNull())
      .addColumn("vector", sql`tsvector`, (c) => c.notNull())
      .execute();
    await sql`CREATE INDEX event_search_vector ON event_search USING GIN (vector)`.execute(db);
    await db.schema.createIndex("event_search_room").on("event_search").columns(["room_id", "stream_ordering"]).execute();
  }
}
