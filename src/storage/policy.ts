// The government model's tables: users' email and external flag, email validation sessions,
// pending email invitations, account validity, and the user directory query.
import { sql } from "kysely";
import type { Db } from "./database.js";
import type { AccountValidityTable, EmailValidationsTable, PolicyUsersTable } from "./schema.js";

export type PolicyUserRow = PolicyUsersTable;
export type EmailValidationRow = EmailValidationsTable;
export type AccountValidityRow = AccountValidityTable;

export interface DirectoryHit {
  user_id: string;
  displayname: string | null;
  avatar_url: string | null;
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export const policyRepo = (db: Db) => ({
  getUser: (userId: string) => db.selectFrom("policy_users").selectAll().where("user_id", "=", userId).executeTakeFirst(),

  userByEmail: (email: string) => db.selectFrom("policy_users").selectAll().where("email", "=", email).executeTakeFirst(),

  upsertUser: (row: PolicyUserRow) =>
    db
      .insertInto("policy_users")
      .values(row)
      .onConflict((oc) => oc.column("user_id").doUpdateSet({ email: row.email, external: row.external }))
      .execute(),

  // --- email validation sessions ---

  findValidation: (clientSecret: string, email: string, purpose: string) =>
    db
      .selectFrom("email_validations")
      .selectAll()
      .where("client_secret", "=", clientSecret)
      .where("email", "=", email)
      .where("purpose", "=", purpose)
      .executeTakeFirst(),

  getValidation: (sid: string) => db.selectFrom("email_validations").selectAll().where("sid", "=", sid).executeTakeFirst(),

  insertValidation: (row: EmailValidationRow) => db.insertInto("email_validations").values(row).execute(),

  updateValidation: (sid: string, patch: Partial<Omit<EmailValidationRow, "sid">>) => db.updateTable("email_validations").set(patch).where("sid", "=", sid).execute(),

  deleteValidationsOlderThan: (ts: number) => db.deleteFrom("email_validations").where("created_ts", "<", ts).execute(),

  // --- email invitations (third-party invites served by this server) ---

  insertInvite: (row: { room_id: string; sender: string; address: string; token: string; display_name: string; created_ts: number }) => db.insertInto("email_invites").values({ ...row, consumed_ts: null }).execute(),

  pendingInvites: (address: string) =>
    db.selectFrom("email_invites").selectAll().where("address", "=", address).where("consumed_ts", "is", null).orderBy("id").execute(),

  consumeInvites: (ids: number[], ts: number) =>
    ids.length === 0 ? Promise.resolve() : db.updateTable("email_invites").set({ consumed_ts: ts }).where("id", "in", ids).execute().then(() => undefined),

  // --- account validity ---

  getValidity: (userId: string) => db.selectFrom("account_validity").selectAll().where("user_id", "=", userId).executeTakeFirst(),

  /** Inserts the user's validity unless one exists; returns the stored row. */
  async ensureValidity(userId: string, expirationTs: number): Promise<AccountValidityRow> {
    await db
      .insertInto("account_validity")
      .values({ user_id: userId, expiration_ts: expirationTs, email_sent_ts: null, renewal_token_hash: null })
      .onConflict((oc) => oc.column("user_id").doNothing())
      .execute();
    return db.selectFrom("account_validity").selectAll().where("user_id", "=", userId).executeTakeFirstOrThrow();
  },

  setValidity: (row: AccountValidityRow) =>
    db
      .insertInto("account_validity")
      .values(row)
      .onConflict((oc) => oc.column("user_id").doUpdateSet({ expiration_ts: row.expiration_ts, email_sent_ts: row.email_sent_ts, renewal_token_hash: row.renewal_token_hash }))
      .execute(),

  validityByToken: (tokenHash: string) => db.selectFrom("account_validity").selectAll().where("renewal_token_hash", "=", tokenHash).executeTakeFirst(),

  /** Accounts expiring before `ts` whose renewal mail has not been sent yet. */
  dueForRenewalMail: (ts: number) =>
    db.selectFrom("account_validity").selectAll().where("expiration_ts", "<=", ts).where("email_sent_ts", "is", null).limit(500).execute(),

  /** Active accounts that expired before `ts`. */
  expiredBefore: (ts: number) =>
    db
      .selectFrom("account_validity as v")
      .innerJoin("users as u", "u.user_id", "v.user_id")
      .select("v.user_id")
      .where("v.expiration_ts", "<", ts)
      .where("u.deactivated", "=", 0)
      .limit(500)
      .execute(),

  // --- user directory ---

  /**
   * Users matching `term` (user id or display name) that the searcher may find: users sharing a
   * joined room with them, plus (when `allLocal`) every non-external user; never deactivated or
   * red-listed users (account data im.vector.hide_profile {hide_profile: true}).
   */
  async searchUsers(searcher: string, term: string, limit: number, allLocal: boolean): Promise<DirectoryHit[]> {
    const like = `%${likeEscape(term.toLowerCase())}%`;
    const shared = db
      .selectFrom("current_state as mine")
      .innerJoin("current_state as theirs", "theirs.room_id", "mine.room_id")
      .select("theirs.state_key")
      .where("mine.type", "=", "m.room.member")
      .where("mine.state_key", "=", searcher)
      .where("mine.membership", "=", "join")
      .where("theirs.type", "=", "m.room.member")
      .where("theirs.membership", "=", "join");
    const hidden = db
      .selectFrom("account_data")
      .select("user_id")
      .where("room_id", "=", "")
      .where("type", "=", "im.vector.hide_profile")
      .where("content", "like", '%"hide_profile":true%');
    return db
      .selectFrom("users as u")
      .leftJoin("policy_users as p", "p.user_id", "u.user_id")
      .select(["u.user_id", "u.displayname", "u.avatar_url"])
      .where("u.deactivated", "=", 0)
      .where((eb) =>
        eb.or([
          eb(sql<string>`lower(u.user_id)`, "like", sql<string>`${like} escape '\\'`),
          eb(sql<string>`lower(coalesce(u.displayname, ''))`, "like", sql<string>`${like} escape '\\'`),
        ]),
      )
      .where((eb) => {
        const inShared = eb("u.user_id", "in", shared);
        return allLocal ? eb.or([inShared, eb(sql<number>`coalesce(p.external, 0)`, "=", 0)]) : inShared;
      })
      .where("u.user_id", "not in", hidden)
      .orderBy("u.user_id")
      .limit(limit)
      .execute();
  },
});
