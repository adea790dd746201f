// The device whose session set a pusher (POST /pushers/set): logging that device out, or deleting
// it, removes its pushers, as Synapse does. Why: a pusher keeps sending notifications (with
// message content unless the app asked for event_id_only) to a phone; after "log out all my
// sessions" or the removal of a stolen device, that phone must stop receiving them. Pushers set
// before this migration have no device and go only with the account or by their app.
import type { Kysely } from "kysely";
import type { Dialect } from "../database.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema.alterTable("pushers").addColumn("device_id", "text").execute();
  await db.schema.createIndex("pushers_user_device").on("pushers").columns(["user_id", "device_id"]).execute();
}
