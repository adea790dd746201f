// The government model (docs/government-model.md): users' email and external flag, email
// validation sessions, pending email invitations, account validity.
import type { Kysely } from "kysely";
import type { Dialect } from "../database.js";
import { withId } from "./helpers.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable("policy_users")
    .addColumn("user_id", "text", (c) => c.primaryKey())
    /** The proven email, lower-cased; private unless the localpart is derived from it. */
    .addColumn("email", "text")
    .addColumn("external", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex("policy_users_email").on("policy_users").column("email").unique().execute();

  await db.schema
    .createTable("email_validations")
    .addColumn("sid", "text", (c) => c.primaryKey())
    .addColumn("client_secret", "text", (c) => c.notNull())
    .addColumn("email", "text", (c) => c.notNull())
    /** "register" or "add": a session proves an email for one purpose only. */
    .addColumn("purpose", "text", (c) => c.notNull())
    .addColumn("token_hash", "text", (c) => c.notNull())
    .addColumn("send_attempt", "integer", (c) => c.notNull())
    .addColumn("failed_attempts", "integer", (c) => c.notNull().defaultTo(0))
    .addColumn("created_ts", "bigint", (c) => c.notNull())
    .addColumn("validated_ts", "bigint")
    .execute();
  await db.schema.createIndex("email_validations_secret").on("email_validations").columns(["client_secret", "email", "purpose"]).execute();

  await withId(db.schema.createTable("email_invites"), dialect)
    .addColumn("room_id", "text", (c) => c.notNull())
    .addColumn("sender", "text", (c) => c.notNull())
    .addColumn("address", "text", (c) => c.notNull())
    /** state_key of the room's m.room.third_party_invite event, and its display_name. */
    .addColumn("token", "text", (c) => c.notNull())
    .addColumn("display_name", "text", (c) => c.notNull())
    .addColumn("created_ts", "bigint", (c) => c.notNull())
    .addColumn("consumed_ts", "bigint")
    .execute();
  await db.schema.createIndex("email_invites_address").on("email_invites").column("address").execute();

  await db.schema
    .createTable("account_validity")
    .addColumn("user_id", "text", (c) => c.primaryKey())
    .addColumn("expiration_ts", "bigint", (c) => c.notNull())
    .addColumn("email_sent_ts", "bigint")
    .addColumn("renewal_token_hash", "text")
    .execute();
  await db.schema.createIndex("account_validity_expiry").on("account_validity").column("expiration_ts").execute();
  await db.schema.createIndex("account_validity_token").on("account_validity").column("renewal_token_hash").execute();
}
