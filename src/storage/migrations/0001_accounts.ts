// Accounts, devices, tokens, account data, filters, registration tokens, UIA sessions, streams.
import type { Kysely } from "kysely";
import type { Dialect } from "../database.js";
import { withId } from "./helpers.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable("users")
    .addColumn("user_id", "text", (c) => c.primaryKey())
    .addColumn("localpart", "text", (c) => c.notNull())
    .addColumn("password_hash", "text")
    .addColumn("admin", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("deactivated", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("locked", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("user_type", "text")
    .addColumn("displayname", "text")
    .addColumn("avatar_url", "text")
    .addColumn("created_ts", "bigint", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("devices")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("device_id", "text", (c) => c.notNull())
    .addColumn("display_name", "text")
    .addColumn("created_ts", "bigint", (c) => c.notNull())
    .addColumn("last_seen_ts", "bigint")
    .addColumn("last_seen_ip", "text")
    .addColumn("last_seen_user_agent", "text")
    .addPrimaryKeyConstraint("devices_pk", ["user_id", "device_id"])
    .execute();

  await withId(db.schema.createTable("refresh_tokens"), dialect)
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("device_id", "text", (c) => c.notNull())
    .addColumn("created_ts", "bigint", (c) => c.notNull())
    .execute();

  await withId(db.schema.createTable("access_tokens"), dialect)
    .addColumn("token_hash", "text", (c) => c.notNull().unique())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("device_id", "text", (c) => c.notNull())
    .addColumn("created_ts", "bigint", (c) => c.notNull())
    .addColumn("expires_ts", "bigint")
    .addColumn("refresh_token_id", "bigint")
    .execute();
  await db.schema.createIndex("access_tokens_user_device").on("access_tokens").columns(["user_id", "device_id"]).execute();
  await db.schema.createIndex("refresh_tokens_user_device").on("refresh_tokens").columns(["user_id", "device_id"]).execute();

  await db.schema
    .createTable("account_data")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("room_id", "text", (c) => c.notNull())
    .addColumn("type", "text", (c) => c.notNull())
    .addColumn("content", "text", (c) => c.notNull())
    .addColumn("stream_id", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("account_data_pk", ["user_id", "room_id", "type"])
    .execute();
  await db.schema.createIndex("account_data_stream").on("account_data").columns(["user_id", "stream_id"]).execute();

  await db.schema
    .createTable("filters")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("filter_id", "integer", (c) => c.notNull())
    .addColumn("filter_json", "text", (c) => c.notNull())
    .addPrimaryKeyConstraint("filters_pk", ["user_id", "filter_id"])
    .execute();

  await db.schema
    .createTable("registration_tokens")
    .addColumn("token", "text", (c) => c.primaryKey())
    .addColumn("uses_allowed", "integer")
    .addColumn("pending", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("completed", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("expiry_time", "bigint")
    .execute();

  await db.schema
    .createTable("uia_sessions")
    .addColumn("session_id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text")
    .addColumn("created_ts", "bigint", (c) => c.notNull())
    .addColumn("data", "text", (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("streams")
    .addColumn("name", "text", (c) => c.primaryKey())
    .addColumn("position", "bigint", (c) => c.notNull())
    .execute();
}
