// Hand-made end-to-end keys for API tests: ed25519 key pairs that sign objects the way the spec's
// "Signing JSON" says (Canonical JSON without signatures and unsigned).
import { generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { canonicalJsonBytes } from "../../src/matrix/canonical-json.js";
import { encodeUnpaddedBase64 } from "../../src/matrix/base64.js";
import { randomBytes } from "node:crypto";

export type Json = Record<string, unknown>;

export class Ed25519 {
  readonly pub: string;
  private readonly priv: KeyObject;

  constructor() {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    this.priv = privateKey;
    this.pub = encodeUnpaddedBase64(publicKey.export({ format: "der", type: "spki" }).subarray(12));
  }

  /** A copy of `obj` with this key's signature added under `userId` / `keyId`. */
  sign<T extends Json>(obj: T, userId: string, keyId: string): T {
    const { signatures, unsigned, ...rest } = obj as Json;
    const sig = encodeUnpaddedBase64(sign(null, canonicalJsonBytes(rest), this.priv));
    const sigs = { ...((signatures as Record<string, Record<string, string>>) ?? {}) };
    sigs[userId] = { ...(sigs[userId] ?? {}), [keyId]: sig };
    const out: Json = { ...rest, signatures: sigs };
    if (unsigned !== undefined) out.unsigned = unsigned;
    return out as T;
  }
}

const b64 = () => encodeUnpaddedBase64(randomBytes(32));

/** A device's identity: its signing key and the DeviceKeys object it uploads. */
export function deviceIdentity(userId: string, deviceId: string): { ed: Ed25519; deviceKeys: Json } {
  const ed = new Ed25519();
  const deviceKeys = ed.sign(
    {
      user_id: userId,
      device_id: deviceId,
      algorithms: ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
      keys: { [`curve25519:${deviceId}`]: b64(), [`ed25519:${deviceId}`]: ed.pub },
    },
    userId,
    `ed25519:${deviceId}`,
  );
  return { ed, deviceKeys };
}

/** `n` signed curve25519 one-time keys, ids prefixed so that each call's ids are distinct. */
export function oneTimeKeys(ed: Ed25519, userId: string, deviceId: string, n: number, prefix = "A"): Json {
  const out: Json = {};
  for (let i = 0; i < n; i++) out[`signed_curve25519:${prefix}${i}`] = ed.sign({ key: b64() }, userId, `ed25519:${deviceId}`);
  return out;
}

export function fallbackKey(ed: Ed25519, userId: string, deviceId: string, id = "FB1"): Json {
  return { [`signed_curve25519:${id}`]: ed.sign({ key: b64(), fallback: true }, userId, `ed25519:${deviceId}`) };
}

/** A cross-signing key object of `usage`, for `userId`. */
export function crossSigningKey(key: Ed25519, userId: string, usage: string): Json {
  return { user_id: userId, usage: [usage], keys: { [`ed25519:${key.pub}`]: key.pub } };
}
