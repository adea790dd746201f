// Storage of login security (migration 0011): locks, guard blocks, known logins, "not me" links,
// login tokens and server-notice rooms. Second factors and web sessions have their own repos.
import type { Db } from "./database.js";

export const locksRepo = (db: Db) => ({
  get: (userId: string) => db.selectFrom("account_locks").selectAll().where("user_id", "=", userId).executeTakeFirst(),
  /** Sets the flag and the lock record in one transaction. */
  lock: (userId: string, reason: string | null, by: string | null, ts: number) =>
    db.transaction().execute(async (tx) => {
      const r = await tx.updateTable("users").set({ locked: 1 }).where("user_id", "=", userId).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 0) return false;
      await tx.deleteFrom("account_locks").where("user_id", "=", userId).execute();
      await tx.insertInto("account_locks").values({ user_id: userId, reason, locked_by: by, locked_ts: ts }).execute();
      await tx.deleteFrom("web_sessions").where("user_id", "=", userId).execute();
      return true;
    }),
  /** Clears the flag and the record; says whether the user exists and was locked. */
  unlock: (userId: string) =>
    db.transaction().execute(async (tx) => {
      const u = await tx.selectFrom("users").select("locked").where("user_id", "=", userId).executeTakeFirst();
      if (!u) return "missing" as const;
      await tx.updateTable("users").set({ locked: 0 }).where("user_id", "=", userId).execute();
      await tx.deleteFrom("account_locks").where("user_id", "=", userId).execute();
      return u.locked ? ("was-locked" as const) : ("not-locked" as const);
    }),
});

export const guardBlocksRepo = (db: Db) => ({
  get: (userId: string) => db.selectFrom("login_guard_blocks").selectAll().where("user_id", "=", userId).executeTakeFirst(),
  set: async (userId: string, failures: number, ts: number) => {
    await db.deleteFrom("login_guard_blocks").where("user_id", "=", userId).execute();
    await db.insertInto("login_guard_blocks").values({ user_id: userId, failures, blocked_ts: ts }).execute();
  },
  clear: (userId: string) => db.deleteFrom("login_guard_blocks").where("user_id", "=", userId).execute(),
  all: () => db.selectFrom("login_guard_blocks").select("user_id").execute(),
});

export const loginTokensRepo = (db: Db) => ({
  insert: (row: { token_hash: string; user_id: string; expires_ts: number }) => db.insertInto("login_tokens").values(row).execute(),
  /** Single use: the row is deleted by the call that finds it; only that call gets the user. */
  async consume(tokenHash: string, now: number): Promise<string | undefined> {
    const row = await db.selectFrom("login_tokens").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst();
    if (!row) return undefined;
    const r = await db.deleteFrom("login_tokens").where("token_hash", "=", tokenHash).executeTakeFirst();
    if (Number(r.numDeletedRows) !== 1 || Number(row.expires_ts) <= now) return undefined;
    return row.user_id;
  },
  deleteExpired: (now: number) => db.deleteFrom("login_tokens").where("expires_ts", "<=", now).execute(),
});

export const knownLoginsRepo = (db: Db) => ({
  /** Records (user, what); true if it was new. */
  async add(userId: string, what: string, ts: number): Promise<boolean> {
    const r = await db
      .insertInto("known_logins")
      .values({ user_id: userId, what, first_seen_ts: ts })
      .onConflict((oc) => oc.columns(["user_id", "what"]).doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  },
  has: async (userId: string, what: string) =>
    (await db.selectFrom("known_logins").select("what").where("user_id", "=", userId).where("what", "=", what).executeTakeFirst()) !== undefined,
  count: async (userId: string) =>
    Number((await db.selectFrom("known_logins").select((eb) => eb.fn.countAll().as("n")).where("user_id", "=", userId).executeTakeFirstOrThrow()).n),
});

export const notMeLinksRepo = (db: Db) => ({
  insert: (row: { token_hash: string; user_id: string; created_ts: number; expires_ts: number }) => db.insertInto("not_me_links").values(row).execute(),
  get: (tokenHash: string) => db.selectFrom("not_me_links").selectAll().where("token_hash", "=", tokenHash).executeTakeFirst(),
  deleteForUser: (userId: string) => db.deleteFrom("not_me_links").where("user_id", "=", userId).execute(),
});

export const contactsRepo = (db: Db) => ({
  get: async (userId: string) => (await db.selectFrom("security_contacts").select("email").where("user_id", "=", userId).executeTakeFirst())?.email,
  set: (userId: string, email: string) =>
    db.insertInto("security_contacts").values({ user_id: userId, email }).onConflict((oc) => oc.column("user_id").doUpdateSet({ email })).execute(),
  clear: (userId: string) => db.deleteFrom("security_contacts").where("user_id", "=", userId).execute(),
});
