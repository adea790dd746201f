// Login security (issue 9): account locks, the login guard's persistent account counter, second
// factors (TOTP, recovery codes, WebAuthn), single-use login tokens for m.login.token, web login
// sessions of Rempart's own pages, known networks for new-login alerts, "this was not me" links and
// the server-notices room of each user.
import type { Kysely } from "kysely";
import type { Dialect } from "../database.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  // users.locked (0001) is the flag every request checks; this row says who locked, when and why.
  await db.schema
    .createTable("account_locks")
    .addColumn("user_id", "text", (c) => c.primaryKey())
    .addColumn("reason", "text")
    .addColumn("locked_by", "text")
    .addColumn("locked_ts", "bigint", (c) => c.notNull())
    .execute();
  // An account whose password stopped accepting guesses (100 consecutive failures).
  await db.schema
    .createTable("login_guard_blocks")
    .addColumn("user_id", "text", (c) => c.primaryKey())
    .addColumn("failures", "integer", (c) => c.notNull())
    .addColumn("blocked_ts", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("mfa_totp")
    .addColumn("user_id", "text", (c) => c.primaryKey())
    /** AES-256-GCM sealed seed (key in <data_dir>/mfa-secret.key), never the clear seed. */
    .addColumn("secret_sealed", "text", (c) => c.notNull())
    /** The last 30 s step accepted: a code is used once. */
    .addColumn("last_step", "bigint", (c) => c.notNull())
    .addColumn("created_ts", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("mfa_recovery_codes")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("code_hash", "text", (c) => c.notNull())
    .addColumn("created_ts", "bigint", (c) => c.notNull())
    .addColumn("used_ts", "bigint")
    .addPrimaryKeyConstraint("mfa_recovery_codes_pk", ["user_id", "code_hash"])
    .execute();
  await db.schema
    .createTable("webauthn_credentials")
    .addColumn("credential_id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("public_key", "text", (c) => c.notNull())
    .addColumn("counter", "bigint", (c) => c.notNull())
    .addColumn("transports", "text", (c) => c.notNull())
    .addColumn("name", "text", (c) => c.notNull())
    .addColumn("created_ts", "bigint", (c) => c.notNull())
    .addColumn("last_used_ts", "bigint")
    .execute();
  await db.schema.createIndex("webauthn_credentials_user").on("webauthn_credentials").column("user_id").execute();
  await db.schema
    .createTable("login_tokens")
    .addColumn("token_hash", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("expires_ts", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("web_sessions")
    .addColumn("id_hash", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text")
    /** "anonymous", "password" (first factor done), "enrol" (must enrol a second factor), "full". */
    .addColumn("state", "text", (c) => c.notNull())
    .addColumn("csrf", "text", (c) => c.notNull())
    .addColumn("created_ts", "bigint", (c) => c.notNull())
    .addColumn("expires_ts", "bigint", (c) => c.notNull())
    /** JSON: pending redirect, WebAuthn challenge, TOTP seed being enrolled (sealed). */
    .addColumn("data", "text", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("web_sessions_user").on("web_sessions").column("user_id").execute();
  await db.schema
    .createTable("known_logins")
    .addColumn("user_id", "text", (c) => c.notNull())
    /** "device:<id>" or "net:<prefix>" (an IPv4 /24 or IPv6 /64). */
    .addColumn("what", "text", (c) => c.notNull())
    .addColumn("first_seen_ts", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("known_logins_pk", ["user_id", "what"])
    .execute();
  await db.schema
    .createTable("not_me_links")
    .addColumn("token_hash", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("created_ts", "bigint", (c) => c.notNull())
    .addColumn("expires_ts", "bigint", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("security_contacts")
    .addColumn("user_id", "text", (c) => c.primaryKey())
    .addColumn("email", "text", (c) => c.notNull())
    .execute();
  // Session limits (login_security.session_max_lifetime_ms): when the login that started a session
  // happened, carried over refreshes. Null for sessions created before this migration.
  await db.schema.alterTable("access_tokens").addColumn("session_start_ts", "bigint").execute();
  await db.schema.alterTable("refresh_tokens").addColumn("session_start_ts", "bigint").execute();
}
