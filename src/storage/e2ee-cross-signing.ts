// Cross-signing keys and the signatures users upload on keys (client-server API "Cross-signing").
import type { Db } from "./database.js";

export type CrossSigningKeyType = "master" | "self_signing" | "user_signing";

export const e2eCrossSigningRepo = (db: Db) => ({
  keysOf: (userIds: string[]) =>
    userIds.length === 0
      ? Promise.resolve([] as Array<{ user_id: string; key_type: string; public_key: string; key_json: string }>)
      : db.selectFrom("e2e_cross_signing_keys").select(["user_id", "key_type", "public_key", "key_json"]).where("user_id", "in", userIds).execute(),

  putKey: (userId: string, keyType: CrossSigningKeyType, publicKey: string, keyJson: string) =>
    db
      .insertInto("e2e_cross_signing_keys")
      .values({ user_id: userId, key_type: keyType, public_key: publicKey, key_json: keyJson })
      .onConflict((oc) => oc.columns(["user_id", "key_type"]).doUpdateSet({ public_key: publicKey, key_json: keyJson }))
      .execute(),

  /** Signatures on the keys of these users, made by the users themselves or by `viewer`. */
  signaturesOn: (userIds: string[], viewer: string) =>
    userIds.length === 0
      ? Promise.resolve([] as Array<{ target_user_id: string; target_key_id: string; signer_user_id: string; signer_key_id: string; signature: string }>)
      : db
          .selectFrom("e2e_signatures")
          .selectAll()
          .where("target_user_id", "in", userIds)
          .where((eb) => eb.or([eb("signer_user_id", "=", eb.ref("target_user_id")), eb("signer_user_id", "=", viewer)]))
          .execute(),

  putSignature: (row: { target_user_id: string; target_key_id: string; signer_user_id: string; signer_key_id: string; signature: string }) =>
    db
      .insertInto("e2e_signatures")
      .values(row)
      .onConflict((oc) => oc.columns(["target_user_id", "target_key_id", "signer_user_id", "signer_key_id"]).doUpdateSet({ signature: row.signature }))
      .execute(),

  /** A new key replaces the old: signatures on the old one (and made by it) mean nothing now. */
  async forgetKey(userId: string, publicKey: string): Promise<void> {
    await db.deleteFrom("e2e_signatures").where("target_user_id", "=", userId).where("target_key_id", "=", publicKey).execute();
    await db.deleteFrom("e2e_signatures").where("signer_user_id", "=", userId).where("signer_key_id", "=", `ed25519:${publicKey}`).execute();
  },

  async deleteUser(userId: string): Promise<void> {
    await db.deleteFrom("e2e_cross_signing_keys").where("user_id", "=", userId).execute();
    await db.deleteFrom("e2e_signatures").where("target_user_id", "=", userId).execute();
    await db.deleteFrom("e2e_signatures").where("signer_user_id", "=", userId).execute();
  },
});
