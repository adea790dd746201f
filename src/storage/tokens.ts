// Access and refresh tokens, stored as hashes only.
import type { Db } from "./database.js";

export interface SessionRow {
  token_id: number;
  user_id: string;
  device_id: string;
  expires_ts: number | null;
  refresh_token_id: number | null;
  admin: number;
  deactivated: number;
  locked: number;
  created_ts: number;
  session_start_ts?: number | null;
}

export const tokensRepo = (db: Db) => ({
  /** The session behind an access token hash, with the user's flags, in one query. */
  findAccess: (tokenHash: string): Promise<SessionRow | undefined> =>
    db
      .selectFrom("access_tokens as t")
      .innerJoin("users as u", "u.user_id", "t.user_id")
      .select(["t.id as token_id", "t.user_id", "t.device_id", "t.expires_ts", "t.refresh_token_id", "u.admin", "u.deactivated", "u.locked", "t.created_ts", "t.session_start_ts"])
      .where("t.token_hash", "=", tokenHash)
      .executeTakeFirst(),

  insertAccess: async (row: { token_hash: string; user_id: string; device_id: string; created_ts: number; expires_ts: number | null; refresh_token_id: number | null; session_start_ts?: number | null }) =>
    Number((await db.insertInto("access_tokens").values(row).returning("id").executeTakeFirstOrThrow()).id),

  insertRefresh: async (row: { token_hash: string; user_id: string; device_id: string; created_ts: number; session_start_ts?: number | null }) =>
    Number((await db.insertInto("refresh_tokens").values(row).returning("id").executeTakeFirstOrThrow()).id),

  findRefresh: (tokenHash: string) => db.selectFrom("refresh_tokens").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst(),

  /** Consumes a refresh token: deletes it and the access tokens issued with it. True if it existed. */
  async consumeRefresh(id: number): Promise<boolean> {
    const r = await db.deleteFrom("refresh_tokens").where("id", "=", id).executeTakeFirst();
    await db.deleteFrom("access_tokens").where("refresh_token_id", "=", id).execute();
    return Number(r.numDeletedRows) === 1;
  },

  deleteAccessById: (id: number) => db.deleteFrom("access_tokens").where("id", "=", id).execute(),

  /** Hashes of the access tokens being removed, so in-memory caches can drop them. */
  accessHashesFor: async (userId: string, deviceIds?: string[]) => {
    let q = db.selectFrom("access_tokens").select("token_hash").where("user_id", "=", userId);
    if (deviceIds) q = q.where("device_id", "in", deviceIds.length ? deviceIds : [""]);
    return (await q.execute()).map((r) => r.token_hash);
  },

  async deleteForDevices(userId: string, deviceIds: string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    await db.deleteFrom("access_tokens").where("user_id", "=", userId).where("device_id", "in", deviceIds).execute();
    await db.deleteFrom("refresh_tokens").where("user_id", "=", userId).where("device_id", "in", deviceIds).execute();
  },

  async deleteAllForUser(userId: string, exceptTokenId?: number): Promise<void> {
    let q = db.deleteFrom("access_tokens").where("user_id", "=", userId);
    if (exceptTokenId !== undefined) q = q.where("id", "!=", exceptTokenId);
    await q.execute();
  },

  deleteRefreshForUser: (userId: string, exceptDeviceId?: string) => {
    let q = db.deleteFrom("refresh_tokens").where("user_id", "=", userId);
    if (exceptDeviceId !== undefined) q = q.where("device_id", "!=", exceptDeviceId);
    return q.execute();
  },
});
