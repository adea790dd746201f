// Global and per-room account data.
import type { Db } from "./database.js";
import { streamsRepo } from "./streams.js";

export const accountDataRepo = (db: Db) => ({
  get: (userId: string, roomId: string, type: string) =>
    db
      .selectFrom("account_data")
      .select(["content", "stream_id"])
      .where("user_id", "=", userId)
      .where("room_id", "=", roomId)
      .where("type", "=", type)
      .executeTakeFirst(),

  /** Stores the content and returns its new stream position. */
  put: (userId: string, roomId: string, type: string, content: string) =>
    db.transaction().execute(async (tx) => {
      const streamId = await streamsRepo(tx).next("account_data");
      await tx
        .insertInto("account_data")
        .values({ user_id: userId, room_id: roomId, type, content, stream_id: streamId })
        .onConflict((oc) => oc.columns(["user_id", "room_id", "type"]).doUpdateSet({ content, stream_id: streamId }))
        .execute();
      return streamId;
    }),

  /** Everything changed after a stream position (0 = everything), for sync. */
  since: (userId: string, after: number) =>
    db.selectFrom("account_data").selectAll().where("user_id", "=", userId).where("stream_id", ">", after).orderBy("stream_id").execute(),

  deleteAll: (userId: string) => db.deleteFrom("account_data").where("user_id", "=", userId).execute(),
});
