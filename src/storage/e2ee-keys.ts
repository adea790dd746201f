// Device keys, one-time keys and fallback keys (client-server API "Device keys",
// "One-time and fallback keys"). Public keys only.
import { sql } from "kysely";
import type { Db } from "./database.js";

export const e2eKeysRepo = (db: Db) => ({
  deviceKeys: (userId: string, deviceId: string) =>
    db.selectFrom("e2e_device_keys").select("key_json").where("user_id", "=", userId).where("device_id", "=", deviceId).executeTakeFirst(),

  /** Device keys of many users, only for devices that still exist. */
  deviceKeysOf: (userIds: string[]) =>
    userIds.length === 0
      ? Promise.resolve([] as Array<{ user_id: string; device_id: string; key_json: string; display_name: string | null }>)
      : db
          .selectFrom("e2e_device_keys as k")
          .innerJoin("devices as d", (j) => j.onRef("d.user_id", "=", "k.user_id").onRef("d.device_id", "=", "k.device_id"))
          .select(["k.user_id", "k.device_id", "k.key_json", "d.display_name"])
          .where("k.user_id", "in", userIds)
          .execute(),

  putDeviceKeys: (userId: string, deviceId: string, keyJson: string) =>
    db
      .insertInto("e2e_device_keys")
      .values({ user_id: userId, device_id: deviceId, key_json: keyJson })
      .onConflict((oc) => oc.columns(["user_id", "device_id"]).doUpdateSet({ key_json: keyJson }))
      .execute(),

  oneTimeKeys: (userId: string, deviceId: string, algorithm: string, keyIds: string[]) =>
    keyIds.length === 0
      ? Promise.resolve([] as Array<{ key_id: string; key_json: string }>)
      : db
          .selectFrom("e2e_one_time_keys")
          .select(["key_id", "key_json"])
          .where("user_id", "=", userId)
          .where("device_id", "=", deviceId)
          .where("algorithm", "=", algorithm)
          .where("key_id", "in", keyIds)
          .execute(),

  insertOneTimeKeys: (rows: Array<{ user_id: string; device_id: string; algorithm: string; key_id: string; key_json: string }>) =>
    rows.length === 0 ? Promise.resolve() : db.insertInto("e2e_one_time_keys").values(rows).execute().then(() => undefined),

  countOneTimeKeys: (userId: string, deviceId: string) =>
    db
      .selectFrom("e2e_one_time_keys")
      .select(["algorithm", sql<number>`count(*)`.as("n")])
      .where("user_id", "=", userId)
      .where("device_id", "=", deviceId)
      .groupBy("algorithm")
      .execute(),

  /**
   * For every device of several users at once (e2ee/one-time-keys.ts batches), in one statement
   * (every /sync asks; on PostgreSQL one round trip instead of two): a row per algorithm of its
   * one-time keys with their count `n`, and a row per unused fallback key with `n` = -1.
   */
  keyCountsOf: (userIds: string[]) =>
    db
      .selectFrom("e2e_one_time_keys")
      .select(["user_id", "device_id", "algorithm", sql<number | string>`count(*)`.as("n")])
      .where("user_id", "in", userIds)
      .groupBy(["user_id", "device_id", "algorithm"])
      .unionAll(
        db
          .selectFrom("e2e_fallback_keys")
          .select(["user_id", "device_id", "algorithm", sql<number | string>`-1`.as("n")])
          .where("user_id", "in", userIds)
          .where("used", "=", 0),
      )
      .execute(),

  /** Takes one one-time key of the algorithm: deletes it and returns it, or undefined. */
  async claimOneTimeKey(userId: string, deviceId: string, algorithm: string): Promise<{ key_id: string; key_json: string } | undefined> {
    // Concurrent claims may pick the same key; the loser's delete removes nothing, so try again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const pick = await db
        .selectFrom("e2e_one_time_keys")
        .select(["key_id", "key_json"])
        .where("user_id", "=", userId)
        .where("device_id", "=", deviceId)
        .where("algorithm", "=", algorithm)
        .orderBy("key_id")
        .limit(1)
        .executeTakeFirst();
      if (!pick) return undefined;
      const r = await db
        .deleteFrom("e2e_one_time_keys")
        .where("user_id", "=", userId)
        .where("device_id", "=", deviceId)
        .where("algorithm", "=", algorithm)
        .where("key_id", "=", pick.key_id)
        .executeTakeFirst();
      if (Number(r.numDeletedRows) === 1) return pick;
    }
    return undefined;
  },

  /**
   * PostgreSQL: takes one one-time key in a single statement; a key another transaction is taking
   * is skipped (FOR UPDATE SKIP LOCKED), so concurrent claims neither wait nor collide.
   */
  claimOneTimeKeySkipLocked: (userId: string, deviceId: string, algorithm: string) =>
    db
      .deleteFrom("e2e_one_time_keys")
      .where("user_id", "=", userId)
      .where("device_id", "=", deviceId)
      .where("algorithm", "=", algorithm)
      .where(
        "key_id",
        "=",
        db
          .selectFrom("e2e_one_time_keys")
          .select("key_id")
          .where("user_id", "=", userId)
          .where("device_id", "=", deviceId)
          .where("algorithm", "=", algorithm)
          .orderBy("key_id")
          .limit(1)
          .forUpdate()
          .skipLocked(),
      )
      .returning(["key_id", "key_json"])
      .executeTakeFirst(),

  /**
   * PostgreSQL, batched: for each (user, device, algorithm) deletes its lowest unlocked one-time
   * key and returns it, in one statement (a LATERAL pick with FOR UPDATE SKIP LOCKED).
   */
  async takeFirstOneTimeKeysSkipLocked(wanted: Array<{ user_id: string; device_id: string; algorithm: string }>) {
    if (wanted.length === 0) return [] as Array<{ user_id: string; device_id: string; algorithm: string; key_id: string; key_json: string }>;
    const values = sql.join(wanted.map((w) => sql`(${w.user_id}::text, ${w.device_id}::text, ${w.algorithm}::text)`));
    const r = await sql<{ user_id: string; device_id: string; algorithm: string; key_id: string; key_json: string }>`
      DELETE FROM e2e_one_time_keys AS o
      USING (
        SELECT k.user_id, k.device_id, k.algorithm, k.key_id
        FROM (VALUES ${values}) AS w(u, d, a)
        CROSS JOIN LATERAL (
          SELECT user_id, device_id, algorithm, key_id FROM e2e_one_time_keys
          WHERE user_id = w.u AND device_id = w.d AND algorithm = w.a
          ORDER BY key_id LIMIT 1 FOR UPDATE SKIP LOCKED
        ) AS k
      ) AS pick
      WHERE o.user_id = pick.user_id AND o.device_id = pick.device_id AND o.algorithm = pick.algorithm AND o.key_id = pick.key_id
      RETURNING o.user_id, o.device_id, o.algorithm, o.key_id, o.key_json`.execute(db);
    return r.rows;
  },

  /** The lowest one-time key id per (user, device, algorithm) of these users: claim candidates. */
  firstOneTimeKeys: (userIds: string[]) =>
    userIds.length === 0
      ? Promise.resolve([] as Array<{ user_id: string; device_id: string; algorithm: string; key_id: string }>)
      : db
          .selectFrom("e2e_one_time_keys")
          .select(["user_id", "device_id", "algorithm", (eb) => eb.fn.min("key_id").as("key_id")])
          .where("user_id", "in", userIds)
          .groupBy(["user_id", "device_id", "algorithm"])
          .execute() as Promise<Array<{ user_id: string; device_id: string; algorithm: string; key_id: string }>>,

  /** Deletes these keys and returns those this call deleted (a concurrent claim may win some). */
  takeOneTimeKeys: (keys: Array<{ user_id: string; device_id: string; algorithm: string; key_id: string }>) =>
    keys.length === 0
      ? Promise.resolve([] as Array<{ user_id: string; device_id: string; algorithm: string; key_id: string; key_json: string }>)
      : db
          .deleteFrom("e2e_one_time_keys")
          .where((eb) =>
            eb.or(keys.map((k) => eb.and([eb("user_id", "=", k.user_id), eb("device_id", "=", k.device_id), eb("algorithm", "=", k.algorithm), eb("key_id", "=", k.key_id)]))),
          )
          .returning(["user_id", "device_id", "algorithm", "key_id", "key_json"])
          .execute(),

  fallbackKey: (userId: string, deviceId: string, algorithm: string) =>
    db
      .selectFrom("e2e_fallback_keys")
      .selectAll()
      .where("user_id", "=", userId)
      .where("device_id", "=", deviceId)
      .where("algorithm", "=", algorithm)
      .executeTakeFirst(),

  putFallbackKey: (row: { user_id: string; device_id: string; algorithm: string; key_id: string; key_json: string; used: number }) =>
    db
      .insertInto("e2e_fallback_keys")
      .values(row)
      .onConflict((oc) => oc.columns(["user_id", "device_id", "algorithm"]).doUpdateSet({ key_id: row.key_id, key_json: row.key_json, used: row.used }))
      .execute(),

  markFallbackUsed: (userId: string, deviceId: string, algorithm: string) =>
    db.updateTable("e2e_fallback_keys").set({ used: 1 }).where("user_id", "=", userId).where("device_id", "=", deviceId).where("algorithm", "=", algorithm).execute(),

  /** Removes every key of the given devices (device deleted or replaced). */
  async deleteDevices(userId: string, deviceIds: string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    await db.deleteFrom("e2e_device_keys").where("user_id", "=", userId).where("device_id", "in", deviceIds).execute();
    await db.deleteFrom("e2e_one_time_keys").where("user_id", "=", userId).where("device_id", "in", deviceIds).execute();
    await db.deleteFrom("e2e_fallback_keys").where("user_id", "=", userId).where("device_id", "in", deviceIds).execute();
    await db.deleteFrom("e2e_signatures").where("target_user_id", "=", userId).where("target_key_id", "in", deviceIds).execute();
  },

  async deleteUser(userId: string): Promise<void> {
    await db.deleteFrom("e2e_device_keys").where("user_id", "=", userId).execute();
    await db.deleteFrom("e2e_one_time_keys").where("user_id", "=", userId).execute();
    await db.deleteFrom("e2e_fallback_keys").where("user_id", "=", userId).execute();
  },
});
