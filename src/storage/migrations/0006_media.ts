// Media repository (client-server API "Content repository"): one row per mxc:// id of this server,
// its thumbnails, and the antivirus verdict that decides whether anyone may download it.
import type { Kysely } from "kysely";
import type { Dialect } from "../database.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createTable("media")
    .addColumn("media_id", "text", (c) => c.primaryKey())
    .addColumn("user_id", "text", (c) => c.notNull())
    .addColumn("content_type", "text")
    .addColumn("upload_name", "text")
    /** Bytes stored; null until the content is uploaded (POST /create reserves an id first). */
    .addColumn("size", "bigint")
    .addColumn("sha256", "text")
    .addColumn("created_ts", "bigint", (c) => c.notNull())
    .addColumn("uploaded_ts", "bigint")
    /** For ids from POST /create: when the reservation lapses if nothing was uploaded. */
    .addColumn("unused_expires_ts", "bigint")
    /** awaiting_upload | uploading | unscanned | clean | infected | skipped (scanner disabled). */
    .addColumn("status", "text", (c) => c.notNull())
    /** The scanner's verdict or failure, kept for the operators (signature name, error text). */
    .addColumn("scan_result", "text")
    .addColumn("scanned_ts", "bigint")
    /** Set when the file was moved to quarantine: by "antivirus" or by an admin's user id. */
    .addColumn("quarantined_by", "text")
    .addColumn("quarantined_ts", "bigint")
    .addColumn("quarantine_reason", "text")
    .addColumn("last_access_ts", "bigint")
    .execute();
  await db.schema.createIndex("media_user").on("media").columns(["user_id", "created_ts"]).execute();

  await db.schema
    .createTable("media_thumbnails")
    .addColumn("media_id", "text", (c) => c.notNull())
    .addColumn("width", "integer", (c) => c.notNull())
    .addColumn("height", "integer", (c) => c.notNull())
    .addColumn("method", "text", (c) => c.notNull())
    .addColumn("content_type", "text", (c) => c.notNull())
    .addColumn("size", "bigint", (c) => c.notNull())
    .addPrimaryKeyConstraint("media_thumbnails_pk", ["media_id", "width", "height", "method"])
    .execute();
}
