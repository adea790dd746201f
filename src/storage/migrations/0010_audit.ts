// The read gate's storage: the hash-chained audit trail, its signed checkpoints, export cursors,
// security alerts, per-user read baselines and sessions ended by a step-up (docs/read-gate.md).
import type { Kysely } from "kysely";
import type { Dialect } from "../database.js";
import { withId } from "./helpers.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, dialect: Dialect): Promise<void> {
  // seq is assigned by the single in-process writer (not autoincrement): the chain's order is seq order.
  await db.schema
    .createTable("audit_log")
    .addColumn("seq", "bigint", (c) => c.primaryKey())
    .addColumn("ts", "bigint", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("data", "text", (c) => c.notNull())
    /** SHA-256 (unpadded base64) of the previous record's hash and this record's canonical form. */
    .addColumn("hash", "text", (c) => c.notNull())
    .execute();
  // No index on ts: retention prunes by seq (up to a checkpoint), and every index slows the append.
  await db.schema
    .createTable("audit_checkpoints")
    .addColumn("seq", "bigint", (c) => c.primaryKey())
    .addColumn("ts", "bigint", (c) => c.notNull())
    .addColumn("hash", "text", (c) => c.notNull())
    .addColumn("key_id", "text", (c) => c.notNull())
    .addColumn("signature", "text", (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("audit_export_cursors")
    .addColumn("sink", "text", (c) => c.primaryKey())
    .addColumn("seq", "bigint", (c) => c.notNull())
    .execute();
  await withId(db.schema.createTable("security_alerts"), dialect)
    .addColumn("ts", "bigint", (c) => c.notNull())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("kind", "text", (c) => c.notNull())
    .addColumn("detail", "text", (c) => c.notNull())
    .addColumn("delivered", "integer", (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createTable("read_baselines")
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("metric", "text", (c) => c.notNull())
    .addColumn("peak", "bigint", (c) => c.notNull())
    .addColumn("updated_ts", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("read_baselines_pk", ["user_id", "metric"])
    .execute();
  await db.schema
    .createTable("stepped_up_tokens")
    .addColumn("token_hash", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("ts", "bigint", (c) => c.notNull())
    .execute();
}
