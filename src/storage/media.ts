// Media metadata: one row per local mxc:// id, and the thumbnails made of it. The bytes live in a
// MediaStore (src/media/store.ts); this repository only knows about rows.
import type { Insertable, Selectable } from "kysely";
import type { Db } from "./database.js";
import type { MediaStatus, MediaTable, MediaThumbnailsTable } from "./schema.js";

export type MediaRow = Selectable<MediaTable>;
export type ThumbnailRow = Selectable<MediaThumbnailsTable>;

const changed = (r: { numUpdatedRows: bigint }) => Number(r.numUpdatedRows) > 0;

export const mediaRepo = (db: Db) => ({
  get: (mediaId: string): Promise<MediaRow | undefined> => db.selectFrom("media").selectAll().where("media_id", "=", mediaId).executeTakeFirst(),

  insert: async (row: Insertable<MediaTable>): Promise<void> => {
    await db.insertInto("media").values(row).execute();
  },

  /** Reservations from POST /create that are neither uploaded nor expired. */
  countPending: async (userId: string, now: number): Promise<number> => {
    const r = await db
      .selectFrom("media")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("user_id", "=", userId)
      .where("status", "in", ["awaiting_upload", "uploading"])
      .where("unused_expires_ts", ">", now)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  },

  /** Forgets a user's reservations that lapsed without an upload (spec: "delete media IDs when the
   * client doesn't start the upload in time"). */
  deleteExpiredReservations: async (userId: string, now: number): Promise<void> => {
    await db.deleteFrom("media").where("user_id", "=", userId).where("status", "=", "awaiting_upload").where("unused_expires_ts", "<=", now).execute();
  },

  /** Atomically takes a reserved id for one upload: false when another upload has it or had it. */
  claimForUpload: async (mediaId: string, userId: string, now: number): Promise<boolean> =>
    changed(
      await db
        .updateTable("media")
        .set({ status: "uploading" })
        .where("media_id", "=", mediaId)
        .where("user_id", "=", userId)
        .where("status", "=", "awaiting_upload")
        .where("unused_expires_ts", ">", now)
        .executeTakeFirst(),
    ),

  /** An upload that failed half-way gives its reservation back. */
  releaseClaim: async (mediaId: string): Promise<void> => {
    await db.updateTable("media").set({ status: "awaiting_upload" }).where("media_id", "=", mediaId).where("status", "=", "uploading").execute();
  },

  markUploaded: async (
    mediaId: string,
    v: { contentType: string; uploadName: string | null; size: number; sha256: string; uploadedTs: number; status: MediaStatus },
  ): Promise<void> => {
    await db
      .updateTable("media")
      .set({ content_type: v.contentType, upload_name: v.uploadName, size: v.size, sha256: v.sha256, uploaded_ts: v.uploadedTs, status: v.status, unused_expires_ts: null })
      .where("media_id", "=", mediaId)
      .execute();
  },

  setScan: async (mediaId: string, v: { status: MediaStatus; result: string | null; ts: number }): Promise<void> => {
    await db.updateTable("media").set({ status: v.status, scan_result: v.result, scanned_ts: v.ts }).where("media_id", "=", mediaId).execute();
  },

  quarantine: async (mediaId: string, by: string, reason: string, ts: number): Promise<boolean> =>
    changed(
      await db
        .updateTable("media")
        .set({ quarantined_by: by, quarantine_reason: reason, quarantined_ts: ts })
        .where("media_id", "=", mediaId)
        .where("quarantined_by", "is", null)
        .executeTakeFirst(),
    ),

  touch: async (mediaId: string, ts: number): Promise<void> => {
    await db.updateTable("media").set({ last_access_ts: ts }).where("media_id", "=", mediaId).execute();
  },

  /** A user's media, newest first, for the admin API. */
  listByUser: (userId: string, from: number, limit: number): Promise<MediaRow[]> =>
    db.selectFrom("media").selectAll().where("user_id", "=", userId).orderBy("created_ts", "desc").orderBy("media_id").offset(from).limit(limit).execute(),

  usage: async (userId: string): Promise<{ count: number; bytes: number }> => {
    const r = await db
      .selectFrom("media")
      .select((eb) => [eb.fn.countAll<number>().as("n"), eb.fn.sum<number>("size").as("bytes")])
      .where("user_id", "=", userId)
      .executeTakeFirstOrThrow();
    return { count: Number(r.n), bytes: Number(r.bytes ?? 0) };
  },

  idsByUser: async (userId: string): Promise<string[]> =>
    (await db.selectFrom("media").select("media_id").where("user_id", "=", userId).execute()).map((r) => r.media_id),

  /** Deletes the row and its thumbnails' rows in one transaction. */
  delete: async (mediaId: string): Promise<boolean> =>
    db.transaction().execute(async (tx) => {
      await tx.deleteFrom("media_thumbnails").where("media_id", "=", mediaId).execute();
      const r = await tx.deleteFrom("media").where("media_id", "=", mediaId).executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    }),

  thumbnails: (mediaId: string): Promise<ThumbnailRow[]> => db.selectFrom("media_thumbnails").selectAll().where("media_id", "=", mediaId).execute(),

  insertThumbnail: async (row: ThumbnailRow): Promise<void> => {
    await db
      .insertInto("media_thumbnails")
      .values(row)
      .onConflict((oc) => oc.columns(["media_id", "width", "height", "method"]).doNothing())
      .execute();
  },
});

export type MediaRepo = ReturnType<typeof mediaRepo>;
