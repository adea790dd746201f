// Read receipts.
import type { Db } from "./database.js";
import type { ReceiptsTable } from "./schema.js";
import { streamsRepo } from "./streams.js";

export type ReceiptRow = ReceiptsTable;

export const receiptsRepo = (db: Db) => ({
  /** Stores a receipt unless the user already has one further ahead (receipts never go back). */
  put: (row: Omit<ReceiptRow, "stream_id">) =>
    db.transaction().execute(async (tx) => {
      const existing = await tx
        .selectFrom("receipts")
        .select("event_stream_ordering")
        .where("room_id", "=", row.room_id)
        .where("receipt_type", "=", row.receipt_type)
        .where("user_id", "=", row.user_id)
        .where("thread_id", "=", row.thread_id)
        .executeTakeFirst();
      if (existing && Number(existing.event_stream_ordering) >= row.event_stream_ordering) return undefined;
      const streamId = await streamsRepo(tx).next("receipts");
      await tx
        .insertInto("receipts")
        .values({ ...row, stream_id: streamId })
        .onConflict((oc) =>
          oc.columns(["room_id", "receipt_type", "user_id", "thread_id"]).doUpdateSet({ event_id: row.event_id, event_stream_ordering: row.event_stream_ordering, ts: row.ts, stream_id: streamId }),
        )
        .execute();
      return streamId;
    }),

  /** Receipts in these rooms that changed after a stream position. */
  since: (roomIds: string[], after: number) =>
    roomIds.length === 0 ? Promise.resolve([] as ReceiptRow[]) : db.selectFrom("receipts").selectAll().where("room_id", "in", roomIds).where("stream_id", ">", after).execute(),

  /** The furthest position a user has read in each room (public or private read receipts). */
  readPositions: (userId: string, roomIds: string[]) =>
    roomIds.length === 0
      ? Promise.resolve([] as Array<{ room_id: string; thread_id: string; pos: number }>)
      : db
          .selectFrom("receipts")
          .select(["room_id", "thread_id", (eb) => eb.fn.max("event_stream_ordering").as("pos")])
          .where("user_id", "=", userId)
          .where("room_id", "in", roomIds)
          .where("receipt_type", "in", ["m.read", "m.read.private"])
          .groupBy(["room_id", "thread_id"])
          .execute()
          .then((rows) => rows.map((r) => ({ room_id: r.room_id, thread_id: r.thread_id, pos: Number(r.pos) }))),
});
