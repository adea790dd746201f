// Devices of each user.
import type { Db } from "./database.js";
import type { DevicesTable } from "./schema.js";

export type DeviceRow = DevicesTable;

export const devicesRepo = (db: Db) => ({
  get: (userId: string, deviceId: string) =>
    db.selectFrom("devices").selectAll().where("user_id", "=", userId).where("device_id", "=", deviceId).executeTakeFirst(),

  list: (userId: string) => db.selectFrom("devices").selectAll().where("user_id", "=", userId).orderBy("device_id").execute(),

  /** Creates the device if it does not exist yet (logging in again with a known device_id keeps it). */
  upsert: (row: DeviceRow) =>
    db
      .insertInto("devices")
      .values(row)
      .onConflict((oc) =>
        oc.columns(["user_id", "device_id"]).doUpdateSet(row.display_name !== null ? { display_name: row.display_name } : { device_id: row.device_id }),
      )
      .execute(),

  setDisplayName: (userId: string, deviceId: string, displayName: string | null) =>
    db.updateTable("devices").set({ display_name: displayName }).where("user_id", "=", userId).where("device_id", "=", deviceId).executeTakeFirst(),

  touch: (userId: string, deviceId: string, ts: number, ip: string, userAgent: string | null) =>
    db
      .updateTable("devices")
      .set({ last_seen_ts: ts, last_seen_ip: ip, last_seen_user_agent: userAgent })
      .where("user_id", "=", userId)
      .where("device_id", "=", deviceId)
      .execute(),

  delete: (userId: string, deviceIds: string[]) =>
    deviceIds.length === 0
      ? Promise.resolve()
      : db.deleteFrom("devices").where("user_id", "=", userId).where("device_id", "in", deviceIds).execute(),

  deleteAll: (userId: string) => db.deleteFrom("devices").where("user_id", "=", userId).execute(),
});
