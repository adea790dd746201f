// Server-side key backup (client-server API "Server-side key backups"): versions and the
// encrypted session keys stored under them.
import { sql } from "kysely";
import type { Db } from "./database.js";
import type { E2eRoomKeysTable } from "./schema.js";

export type RoomKeyRow = E2eRoomKeysTable;

export const e2eKeyBackupRepo = (db: Db) => ({
  latestVersion: (userId: string) =>
    db.selectFrom("e2e_room_keys_versions").selectAll().where("user_id", "=", userId).where("deleted", "=", 0).orderBy("version", "desc").limit(1).executeTakeFirst(),

  version: (userId: string, version: number) =>
    db.selectFrom("e2e_room_keys_versions").selectAll().where("user_id", "=", userId).where("version", "=", version).where("deleted", "=", 0).executeTakeFirst(),

  versionEvenDeleted: (userId: string, version: number) =>
    db.selectFrom("e2e_room_keys_versions").select("deleted").where("user_id", "=", userId).where("version", "=", version).executeTakeFirst(),

  async maxVersion(userId: string): Promise<number> {
    const r = await db.selectFrom("e2e_room_keys_versions").select(sql<number | null>`max(version)`.as("m")).where("user_id", "=", userId).executeTakeFirst();
    return Number(r?.m ?? 0);
  },

  insertVersion: (userId: string, version: number, algorithm: string, authData: string) =>
    db.insertInto("e2e_room_keys_versions").values({ user_id: userId, version, algorithm, auth_data: authData, etag: 0, deleted: 0 }).execute(),

  updateAuthData: (userId: string, version: number, authData: string) =>
    db.updateTable("e2e_room_keys_versions").set({ auth_data: authData }).where("user_id", "=", userId).where("version", "=", version).execute(),

  /** Deleted versions keep their row so that their number is never handed out again. */
  async deleteVersion(userId: string, version: number): Promise<void> {
    await db.updateTable("e2e_room_keys_versions").set({ deleted: 1 }).where("user_id", "=", userId).where("version", "=", version).execute();
    await db.deleteFrom("e2e_room_keys").where("user_id", "=", userId).where("version", "=", version).execute();
  },

  bumpEtag: (userId: string, version: number) =>
    db
      .updateTable("e2e_room_keys_versions")
      .set((eb) => ({ etag: eb("etag", "+", 1) }))
      .where("user_id", "=", userId)
      .where("version", "=", version)
      .execute(),

  async count(userId: string, version: number): Promise<number> {
    const r = await db.selectFrom("e2e_room_keys").select(sql<number>`count(*)`.as("n")).where("user_id", "=", userId).where("version", "=", version).executeTakeFirst();
    return Number(r?.n ?? 0);
  },

  keys: (userId: string, version: number, roomId?: string, sessionId?: string) => {
    let q = db.selectFrom("e2e_room_keys").selectAll().where("user_id", "=", userId).where("version", "=", version);
    if (roomId !== undefined) q = q.where("room_id", "=", roomId);
    if (sessionId !== undefined) q = q.where("session_id", "=", sessionId);
    return q.orderBy("room_id").orderBy("session_id").execute();
  },

  sessionsIn: (userId: string, version: number, roomId: string, sessionIds: string[]) =>
    sessionIds.length === 0
      ? Promise.resolve([] as RoomKeyRow[])
      : db
          .selectFrom("e2e_room_keys")
          .selectAll()
          .where("user_id", "=", userId)
          .where("version", "=", version)
          .where("room_id", "=", roomId)
          .where("session_id", "in", sessionIds)
          .execute(),

  putKey: (row: RoomKeyRow) =>
    db
      .insertInto("e2e_room_keys")
      .values(row)
      .onConflict((oc) =>
        oc.columns(["user_id", "version", "room_id", "session_id"]).doUpdateSet({
          first_message_index: row.first_message_index,
          forwarded_count: row.forwarded_count,
          is_verified: row.is_verified,
          session_data: row.session_data,
        }),
      )
      .execute(),

  async deleteKeys(userId: string, version: number, roomId?: string, sessionId?: string): Promise<number> {
    let q = db.deleteFrom("e2e_room_keys").where("user_id", "=", userId).where("version", "=", version);
    if (roomId !== undefined) q = q.where("room_id", "=", roomId);
    if (sessionId !== undefined) q = q.where("session_id", "=", sessionId);
    const r = await q.executeTakeFirst();
    return Number(r.numDeletedRows);
  },

  async deleteUser(userId: string): Promise<void> {
    await db.deleteFrom("e2e_room_keys").where("user_id", "=", userId).execute();
    await db.updateTable("e2e_room_keys_versions").set({ deleted: 1 }).where("user_id", "=", userId).execute();
  },
});
