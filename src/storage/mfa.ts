// Second factors: TOTP seeds (sealed), recovery codes (hashed), WebAuthn credentials.
import type { Db } from "./database.js";
import type { WebauthnCredentialsTable } from "./schema.js";

export const totpRepo = (db: Db) => ({
  get: (userId: string) => db.selectFrom("mfa_totp").selectAll().where("user_id", "=", userId).executeTakeFirst(),
  set: (userId: string, sealed: string, ts: number) =>
    db.transaction().execute(async (tx) => {
      await tx.deleteFrom("mfa_totp").where("user_id", "=", userId).execute();
      await tx.insertInto("mfa_totp").values({ user_id: userId, secret_sealed: sealed, last_step: 0, created_ts: ts }).execute();
    }),
  /** Records a step as used; false if that step (or a later one) was already used: codes are single use. */
  async useStep(userId: string, step: number): Promise<boolean> {
    const r = await db.updateTable("mfa_totp").set({ last_step: step }).where("user_id", "=", userId).where("last_step", "<", step).executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  delete: (userId: string) => db.deleteFrom("mfa_totp").where("user_id", "=", userId).execute(),
});

export const recoveryCodesRepo = (db: Db) => ({
  replace: (userId: string, hashes: string[], ts: number) =>
    db.transaction().execute(async (tx) => {
      await tx.deleteFrom("mfa_recovery_codes").where("user_id", "=", userId).execute();
      await tx.insertInto("mfa_recovery_codes").values(hashes.map((code_hash) => ({ user_id: userId, code_hash, created_ts: ts, used_ts: null }))).execute();
    }),
  /** Marks an unused code as used; true only for the one call that did. */
  async use(userId: string, hash: string, ts: number): Promise<boolean> {
    const r = await db
      .updateTable("mfa_recovery_codes")
      .set({ used_ts: ts })
      .where("user_id", "=", userId)
      .where("code_hash", "=", hash)
      .where("used_ts", "is", null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
  remaining: async (userId: string) =>
    Number(
      (await db.selectFrom("mfa_recovery_codes").select((eb) => eb.fn.countAll().as("n")).where("user_id", "=", userId).where("used_ts", "is", null).executeTakeFirstOrThrow()).n,
    ),
  delete: (userId: string) => db.deleteFrom("mfa_recovery_codes").where("user_id", "=", userId).execute(),
});

export const webauthnRepo = (db: Db) => ({
  list: (userId: string) => db.selectFrom("webauthn_credentials").selectAll().where("user_id", "=", userId).orderBy("created_ts").execute(),
  get: (credentialId: string) => db.selectFrom("webauthn_credentials").selectAll().where("credential_id", "=", credentialId).executeTakeFirst(),
  insert: (row: WebauthnCredentialsTable) => db.insertInto("webauthn_credentials").values(row).execute(),
  used: (credentialId: string, counter: number, ts: number) =>
    db.updateTable("webauthn_credentials").set({ counter, last_used_ts: ts }).where("credential_id", "=", credentialId).execute(),
  delete: (userId: string, credentialId: string) =>
    db.deleteFrom("webauthn_credentials").where("user_id", "=", userId).where("credential_id", "=", credentialId).execute(),
  count: async (userId: string) =>
    Number((await db.selectFrom("webauthn_credentials").select((eb) => eb.fn.countAll().as("n")).where("user_id", "=", userId).executeTakeFirstOrThrow()).n),
});
