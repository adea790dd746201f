// Dehydrated devices (MSC3814): at most one per user.
import type { Db } from "./database.js";

export const e2eDehydratedRepo = (db: Db) => ({
  get: (userId: string) => db.selectFrom("e2e_dehydrated_devices").selectAll().where("user_id", "=", userId).executeTakeFirst(),

  put: (userId: string, deviceId: string, deviceData: string) =>
    db
      .insertInto("e2e_dehydrated_devices")
      .values({ user_id: userId, device_id: deviceId, device_data: deviceData })
      .onConflict((oc) => oc.column("user_id").doUpdateSet({ device_id: deviceId, device_data: deviceData }))
      .execute(),

  delete: (userId: string) => db.deleteFrom("e2e_dehydrated_devices").where("user_id", "=", userId).execute(),
});
