// Push rules, push actions (for unread counts and /notifications) and pushers (client-server API
// "Push Notifications").
import type { Kysely } from "kysely";
import type { Dialect } from "../database.js";
import { withId } from "./helpers.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  // A user's own rules; `ord` orders rules within a kind (0 = highest priority).
  await db.schema
    .createTable("push_rules")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("rule_id", "text", (c) => c.notNull())
    .addColumn("ord", "integer", (c) => c.notNull())
    .addColumn("conditions", "text")
    .addColumn("pattern", "text")
    .addColumn("actions", "text", (c) => c.notNull())
    .addColumn("enabled", "integer", (c) => c.notNull())
    .addPrimaryKeyConstraint("push_rules_pk", ["user_id", "kind", "rule_id"])
    .execute();

  // Changes a user made to a server-default rule (enabled, actions); the rule itself is code.
  await db.schema
    .createTable("push_rule_default_changes")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("rule_id", "text", (c) => c.notNull())
    .addColumn("enabled", "integer")
    .addColumn("actions", "text")
    .addPrimaryKeyConstraint("push_rule_default_changes_pk", ["user_id", "rule_id"])
    .execute();

  // One row per (user, event) the user's rules said to notify about. Written in the room writer's
  // transaction so a count never lags its event (spec "Server behaviour").
  await db.schema
    .createTable("event_push_actions")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("event_id", "text", (c) => c.notNull())
    .addColumn("room_id", "text", (c) => c.notNull())
    .addColumn("stream_ordering", "bigint", (c) => c.notNull())
    /** "main" or the thread root's event id. */
    .addColumn("thread_id", "text", (c) => c.notNull())
    .addColumn("highlight", "integer", (c) => c.notNull())
    .addColumn("actions", "text", (c) => c.notNull())
    .addColumn("ts", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("event_push_actions_pk", ["user_id", "event_id"])
    .execute();
  await db.schema.createIndex("event_push_actions_user_room").on("event_push_actions").columns(["user_id", "room_id", "stream_ordering"]).execute();
  await db.schema.createIndex("event_push_actions_user_order").on("event_push_actions").columns(["user_id", "stream_ordering"]).execute();

  // Sending an event reads the room up to it (spec "Marking notifications as read": "either by using
  // the API or by sending an event"), without a receipt that others would see.
  await db.schema
    .createTable("push_implicit_reads")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("room_id", "text", (c) => c.notNull())
    .addColumn("stream_ordering", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("push_implicit_reads_pk", ["user_id", "room_id"])
    .execute();

  await withId(db.schema.createTable("pushers"), dialect)
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("app_id", "text", (c) => c.notNull())
    .addColumn("pushkey", "text", (c) => c.notNull())
    .addColumn("app_display_name", "text", (c) => c.notNull())
    .addColumn("device_display_name", "text", (c) => c.notNull())
    .addColumn("profile_tag", "text")
    .addColumn("lang", "text", (c) => c.notNull())
    .addColumn("data", "text", (c) => c.notNull())
    .addColumn("created_ts", "bigint", (c) => c.notNull())
    .addUniqueConstraint("pushers_unique", ["user_id", "app_id", "pushkey"])
    .execute();
  await db.schema.createIndex("pushers_key").on("pushers").columns(["app_id", "pushkey"]).execute();
}
