// Rooms and their aliases.
import type { Db } from "./database.js";
import type { RoomsTable } from "./schema.js";

export type RoomRow = RoomsTable;

export const roomsRepo = (db: Db) => ({
  get: (roomId: string) => db.selectFrom("rooms").selectAll().where("room_id", "=", roomId).executeTakeFirst(),
  insert: (row: RoomRow) => db.insertInto("rooms").values(row).execute(),
  setPublic: (roomId: string, isPublic: boolean) => db.updateTable("rooms").set({ is_public: isPublic ? 1 : 0 }).where("room_id", "=", roomId).execute(),
  publicRoomIds: () => db.selectFrom("rooms").select("room_id").where("is_public", "=", 1).orderBy("room_id").execute(),

  forget: (userId: string, roomId: string) =>
    db.insertInto("forgotten_rooms").values({ user_id: userId, room_id: roomId }).onConflict((oc) => oc.columns(["user_id", "room_id"]).doNothing()).execute(),
  unforget: (userId: string, roomId: string) => db.deleteFrom("forgotten_rooms").where("user_id", "=", userId).where("room_id", "=", roomId).execute(),
  /** Joins imported in bulk: none of these users has the room forgotten any more. */
  unforgetMany: async (userIds: string[], roomId: string) => {
    for (let i = 0; i < userIds.length; i += 500) await db.deleteFrom("forgotten_rooms").where("room_id", "=", roomId).where("user_id", "in", userIds.slice(i, i + 500)).execute();
  },
  forgottenBy: async (userId: string) => new Set((await db.selectFrom("forgotten_rooms").select("room_id").where("user_id", "=", userId).execute()).map((r) => r.room_id)),

  getAlias: (alias: string) => db.selectFrom("room_aliases").selectAll().where("alias", "=", alias).executeTakeFirst(),
  insertAlias: async (row: { alias: string; room_id: string; creator: string; created_ts: number }) => {
    const r = await db.insertInto("room_aliases").values(row).onConflict((oc) => oc.column("alias").doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  },
  deleteAlias: async (alias: string) => Number((await db.deleteFrom("room_aliases").where("alias", "=", alias).executeTakeFirst()).numDeletedRows) === 1,
  aliasesOf: (roomId: string) => db.selectFrom("room_aliases").select("alias").where("room_id", "=", roomId).orderBy("alias").execute(),
});
