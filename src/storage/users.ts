// Users: identity, password hash, flags and profile.
import type { Db } from "./database.js";
import type { UsersTable } from "./schema.js";

export type UserRow = UsersTable;

export const usersRepo = (db: Db) => ({
  get: (userId: string) => db.selectFrom("users").selectAll().where("user_id", "=", userId).executeTakeFirst(),

  /** Active server admins (security alerts go to each of them). */
  activeAdmins: async (): Promise<string[]> =>
    (await db.selectFrom("users").select("user_id").where("admin", "=", 1).where("deactivated", "=", 0).execute()).map((r) => r.user_id),

  /** Inserts the user; returns false if the id is taken (decided by the primary key, so concurrent
   * registrations of one name cannot both succeed). */
  async insert(row: UserRow): Promise<boolean> {
    const r = await db.insertInto("users").values(row).onConflict((oc) => oc.column("user_id").doNothing()).executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  },

  /** Inserts many users in chunks; returns how many were inserted (taken ids are skipped). */
  async insertMany(rows: UserRow[]): Promise<number> {
    let n = 0;
    for (let i = 0; i < rows.length; i += 500) {
      const r = await db.insertInto("users").values(rows.slice(i, i + 500)).onConflict((oc) => oc.column("user_id").doNothing()).executeTakeFirst();
      n += Number(r.numInsertedOrUpdatedRows ?? 0);
    }
    return n;
  },

  update: (userId: string, patch: Partial<Omit<UserRow, "user_id">>) =>
    db.updateTable("users").set(patch).where("user_id", "=", userId).execute(),

  exists: async (userId: string) =>
    (await db.selectFrom("users").select("user_id").where("user_id", "=", userId).executeTakeFirst()) !== undefined,

  count: async () => Number((await db.selectFrom("users").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n),
});
