// Admin-managed registration tokens (m.login.registration_token).
import type { Db } from "./database.js";
import type { RegistrationTokensTable } from "./schema.js";

export type RegistrationTokenRow = RegistrationTokensTable;

export const registrationTokensRepo = (db: Db) => ({
  get: (token: string) => db.selectFrom("registration_tokens").selectAll().where("token", "=", token).executeTakeFirst(),
  list: () => db.selectFrom("registration_tokens").selectAll().orderBy("token").execute(),
  insert: async (row: RegistrationTokenRow) => {
    const r = await db.insertInto("registration_tokens").values(row).onConflict((oc) => oc.column("token").doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  },
  update: (token: string, patch: Partial<Pick<RegistrationTokenRow, "uses_allowed" | "expiry_time">>) =>
    db.updateTable("registration_tokens").set(patch).where("token", "=", token).executeTakeFirst(),
  delete: async (token: string) => Number((await db.deleteFrom("registration_tokens").where("token", "=", token).executeTakeFirst()).numDeletedRows) === 1,
  /** Counts a registration that used the token; the check against uses_allowed happened at the UIA stage. */
  complete: (token: string) =>
    db.updateTable("registration_tokens").set((eb) => ({ completed: eb("completed", "+", 1) })).where("token", "=", token).execute(),
});
