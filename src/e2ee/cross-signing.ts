// Cross-signing (client-server API "Cross-signing"): /keys/device_signing/upload and
// /keys/signatures/upload. Every signature the server accepts is verified with ed25519 first.
import type { Storage } from "../storage/database.js";
import { e2eCrossSigningRepo, type CrossSigningKeyType } from "../storage/e2ee-cross-signing.js";
import { e2eKeysRepo } from "../storage/e2ee-keys.js";
import { devicesRepo } from "../storage/devices.js";
import { forbidden, missingParam } from "../http/errors.js";
import { verifyJsonSignature } from "../matrix/signing.js";
import { checkCrossSigningKey, invalidSignature, isObject, signedPart, type Json } from "./key-objects.js";
import type { DeviceLists } from "./device-lists.js";

const TYPES: Array<[field: string, type: CrossSigningKeyType, usage: string]> = [
  ["master_key", "master", "master"],
  ["self_signing_key", "self_signing", "self_signing"],
  ["user_signing_key", "user_signing", "user_signing"],
];

interface Parsed {
  type: CrossSigningKeyType;
  field: string;
  publicKey: string;
  json: string;
  obj: Json;
}

type Failure = { errcode: string; error: string };

export class CrossSigning {
  private readonly repo;

  constructor(
    private readonly storage: Storage,
    private readonly lists: DeviceLists,
  ) {
    this.repo = e2eCrossSigningRepo(storage.db);
  }

  private parse(userId: string, body: Json): Parsed[] {
    const out: Parsed[] = [];
    for (const [field, type, usage] of TYPES) {
      if (body[field] === undefined || body[field] === null) continue;
      const k = checkCrossSigningKey(body[field], userId, usage, field);
      out.push({ type, field, publicKey: k.publicKey, json: k.json, obj: body[field] as Json });
    }
    return out;
  }

  /**
   * Whether this upload needs user-interactive auth: not when the user has no master key yet,
   * nor when every key sent is exactly the one stored (an idempotent retry).
   */
  async needsAuth(userId: string, body: Json): Promise<boolean> {
    const keys = this.parse(userId, body);
    const stored = new Map((await this.repo.keysOf([userId])).map((r) => [r.key_type, r.key_json]));
    if (!stored.has("master")) return false;
    return keys.some((k) => stored.get(k.type) !== k.json);
  }

  /** Stores the keys: the self-signing and user-signing keys must carry the master key's signature. */
  async upload(userId: string, body: Json): Promise<void> {
    const keys = this.parse(userId, body);
    if (keys.length === 0) throw missingParam("No cross-signing key given");
    const stored = await this.repo.keysOf([userId]);
    const master = keys.find((k) => k.type === "master")?.publicKey ?? stored.find((r) => r.key_type === "master")?.public_key;
    if (!master) throw missingParam("No master signing key is available");
    for (const k of keys) {
      if (k.type !== "master" && !verifyJsonSignature(k.obj, userId, `ed25519:${master}`, master)) {
        throw invalidSignature(`${k.field} is not signed by the master key`);
      }
    }
    const deviceIds = new Set((await devicesRepo(this.storage.db).list(userId)).map((d) => d.device_id));
    for (const k of keys) if (deviceIds.has(k.publicKey)) throw forbidden("Key ID in use");
    await this.lists.write(async (tx, mark) => {
      const repo = e2eCrossSigningRepo(tx);
      for (const k of keys) {
        const old = stored.find((r) => r.key_type === k.type);
        if (old?.key_json === k.json) continue;
        if (old && old.public_key !== k.publicKey) await repo.forgetKey(userId, old.public_key);
        await repo.putKey(userId, k.type, k.publicKey, k.json);
        mark(userId);
      }
    });
  }

  /**
   * POST /keys/signatures/upload. Each signed object is checked on its own: it must be the key
   * the server holds, and each new signature by the uploader must verify with the signing key the
   * spec allows (own devices: the self-signing key; own master key: one of the user's devices;
   * another user's master key: the uploader's user-signing key). Failures are reported per key.
   */
  async uploadSignatures(userId: string, body: Record<string, Record<string, unknown>>): Promise<{ failures: Record<string, Record<string, Failure>> }> {
    const failures: Record<string, Record<string, Failure>> = {};
    const fail = (u: string, k: string, errcode: string, error: string) => ((failures[u] ??= {})[k] = { errcode, error });
    const mine = new Map((await this.repo.keysOf([userId])).map((r) => [r.key_type, r]));
    const keysRepo = e2eKeysRepo(this.storage.db);
    const accepted: Array<{ target_user_id: string; target_key_id: string; signer_user_id: string; signer_key_id: string; signature: string }> = [];
    const marks: Array<[string, string]> = [];

    for (const [targetUser, objects] of Object.entries(body)) {
      const theirs = targetUser === userId ? mine : new Map((await this.repo.keysOf([targetUser])).map((r) => [r.key_type, r]));
      for (const [keyId, obj] of Object.entries(objects)) {
        if (!isObject(obj) || obj.user_id !== targetUser) {
          fail(targetUser, keyId, "M_INVALID_PARAM", "Not a key object of this user");
          continue;
        }
        // Which stored key is being signed, and which of the uploader's keys may sign it.
        let storedJson: string | undefined;
        const signers = new Map<string, string>(); // signer key id -> public key
        if (targetUser === userId) {
          const master = mine.get("master");
          if (master && keyId === master.public_key) {
            storedJson = master.key_json;
            const dev = await keysRepo.deviceKeysOf([userId]);
            for (const d of dev) {
              const ed = (JSON.parse(d.key_json) as { keys: Record<string, string> }).keys[`ed25519:${d.device_id}`];
              if (ed) signers.set(`ed25519:${d.device_id}`, ed);
            }
          } else {
            storedJson = (await keysRepo.deviceKeys(userId, keyId))?.key_json;
            const ssk = mine.get("self_signing");
            if (ssk) signers.set(`ed25519:${ssk.public_key}`, ssk.public_key);
          }
        } else {
          const master = theirs.get("master");
          if (master && keyId === master.public_key) storedJson = master.key_json;
          const usk = mine.get("user_signing");
          if (usk) signers.set(`ed25519:${usk.public_key}`, usk.public_key);
        }
        if (storedJson === undefined) {
          fail(targetUser, keyId, "M_NOT_FOUND", "Unknown key");
          continue;
        }
        if (signedPart(JSON.parse(storedJson) as Json) !== signedPart(obj)) {
          fail(targetUser, keyId, "M_INVALID_SIGNATURE", "The signed object is not the key the server holds");
          continue;
        }
        const byMe = isObject(obj.signatures) && isObject(obj.signatures[userId]) ? (obj.signatures[userId] as Json) : {};
        const storedSigs = ((JSON.parse(storedJson) as Json).signatures as Record<string, Record<string, string>> | undefined)?.[userId] ?? {};
        const fresh = Object.entries(byMe).filter(([sk, sig]) => storedSigs[sk] !== sig);
        if (fresh.length === 0) {
          fail(targetUser, keyId, "M_INVALID_SIGNATURE", "No new signature by you on this key");
          continue;
        }
        let ok = true;
        const good: typeof accepted = [];
        for (const [signerKeyId, sig] of fresh) {
          const pub = signers.get(signerKeyId);
          if (typeof sig !== "string" || pub === undefined || !verifyJsonSignature(obj, userId, signerKeyId, pub)) {
            ok = false;
            break;
          }
          good.push({ target_user_id: targetUser, target_key_id: keyId, signer_user_id: userId, signer_key_id: signerKeyId, signature: sig });
        }
        if (!ok) {
          fail(targetUser, keyId, "M_INVALID_SIGNATURE", "Invalid signature");
          continue;
        }
        accepted.push(...good);
        marks.push([targetUser, targetUser === userId ? "" : userId]);
      }
    }
    if (accepted.length) {
      await this.lists.write(async (tx, mark) => {
        const repo = e2eCrossSigningRepo(tx);
        for (const s of accepted) await repo.putSignature(s);
        for (const [u, observer] of marks) mark(u, observer);
      });
    }
    return { failures };
  }
}
