// Pushers (client-server API "POST /pushers/set").
import type { Db } from "./database.js";
import type { PushersTable } from "./schema.js";
import type { Selectable } from "kysely";

export type PusherRow = Selectable<PushersTable>;
export type NewPusher = Omit<PusherRow, "id">;

export const pushersRepo = (db: Db) => ({
  forUser: (userId: string) => db.selectFrom("pushers").selectAll().where("user_id", "=", userId).orderBy("id").execute(),

  forUsers: (userIds: string[]) => (userIds.length === 0 ? Promise.resolve([] as PusherRow[]) : db.selectFrom("pushers").selectAll().where("user_id", "in", userIds).orderBy("id").execute()),

  /** Inserts or replaces the user's pusher with this app_id and pushkey; without `append`, other
   * users' pushers with the same app_id and pushkey go (spec: "append"). */
  set: (p: NewPusher, append: boolean) =>
    db.transaction().execute(async (tx) => {
      if (!append) await tx.deleteFrom("pushers").where("app_id", "=", p.app_id).where("pushkey", "=", p.pushkey).where("user_id", "!=", p.user_id).execute();
      await tx
        .insertInto("pushers")
        .values(p)
        .onConflict((oc) =>
          oc.columns(["user_id", "app_id", "pushkey"]).doUpdateSet({
            kind: p.kind,
            app_display_name: p.app_display_name,
            device_display_name: p.device_display_name,
            profile_tag: p.profile_tag,
            lang: p.lang,
            data: p.data,
            device_id: p.device_id,
          }),
        )
        .execute();
    }),

  remove: (userId: string, appId: string, pushkey: string) =>
    db.deleteFrom("pushers").where("user_id", "=", userId).where("app_id", "=", appId).where("pushkey", "=", pushkey).executeTakeFirst(),

  /** Every user with at least one pusher. */
  owners: () => db.selectFrom("pushers").select("user_id").distinct().execute().then((rows) => rows.map((r) => r.user_id)),

  /** The pushers set by these devices' sessions. */
  removeForDevices: (userId: string, deviceIds: string[]) =>
    deviceIds.length === 0 ? Promise.resolve([]) : db.deleteFrom("pushers").where("user_id", "=", userId).where("device_id", "in", deviceIds).execute(),

  removeAllOf: (userId: string) => db.deleteFrom("pushers").where("user_id", "=", userId).execute(),
});
