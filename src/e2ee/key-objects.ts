// Shapes of the key objects clients upload (client-server API "Device keys", "Cross-signing"),
// checked before anything is stored. Errors name the offending field.
import { MatrixError, invalidParam } from "../http/errors.js";
import { verifyJsonSignature } from "../matrix/signing.js";
import { canonicalJson } from "../matrix/canonical-json.js";

export type Json = Record<string, unknown>;

export const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
export const invalidSignature = (msg: string) => new MatrixError(400, "M_INVALID_SIGNATURE", msg);

const B64 = /^[A-Za-z0-9+/=_-]{1,200}$/;
const MAX_KEY_OBJECT_BYTES = 16_384;

/** The Canonical JSON an object is stored as; refuses what has no canonical form. */
export function canonical(v: unknown, what: string): string {
  let s: string;
  try {
    s = canonicalJson(v);
  } catch {
    throw invalidParam(`${what} has no canonical JSON form`);
  }
  if (s.length > MAX_KEY_OBJECT_BYTES) throw invalidParam(`${what} is too large`);
  return s;
}

/** The object without signatures and unsigned: what a signature covers. */
export function signedPart(v: Json): string {
  const { signatures: _s, unsigned: _u, ...rest } = v;
  return canonicalJson(rest);
}

/** DeviceKeys: ids must be the uploader's, both keys present, and self-signed by the device. */
export function checkDeviceKeys(keys: unknown, userId: string, deviceId: string): { ed25519: string; json: string } {
  if (!isObject(keys)) throw invalidParam("device_keys must be an object");
  if (keys.user_id !== userId) throw invalidParam("device_keys.user_id must be your user id");
  if (keys.device_id !== deviceId) throw invalidParam("device_keys.device_id must be this device's id");
  if (!Array.isArray(keys.algorithms) || !keys.algorithms.every((a) => typeof a === "string")) throw invalidParam("device_keys.algorithms must be a list of strings");
  if (!isObject(keys.keys)) throw invalidParam("device_keys.keys must be an object");
  for (const [id, v] of Object.entries(keys.keys)) {
    if (typeof v !== "string" || !B64.test(v) || !/^[a-z0-9_.]+:.+$/i.test(id)) throw invalidParam(`device_keys.keys.${id.slice(0, 60)} is not a key`);
  }
  const ed = keys.keys[`ed25519:${deviceId}`];
  if (typeof ed !== "string" || typeof keys.keys[`curve25519:${deviceId}`] !== "string") {
    throw invalidParam("device_keys.keys must hold the device's ed25519 and curve25519 keys");
  }
  if (!isObject(keys.signatures)) throw invalidParam("device_keys.signatures must be an object");
  if (!verifyJsonSignature(keys, userId, `ed25519:${deviceId}`, ed)) throw invalidSignature("device_keys is not signed by the device's ed25519 key");
  return { ed25519: ed, json: canonical(keys, "device_keys") };
}

/** "algorithm:key_id" → [algorithm, key_id]. */
export function splitKeyId(id: string, what: string): [string, string] {
  const i = id.indexOf(":");
  if (i <= 0 || i === id.length - 1 || id.length > 255) throw invalidParam(`${what}: ${id.slice(0, 60)} is not algorithm:key_id`);
  return [id.slice(0, i), id.slice(i + 1)];
}

/**
 * A one-time or fallback key: a bare curve25519 string, or an object {key, signatures} that must
 * be signed by the device (checked when the device's ed25519 key is known).
 */
export function checkOneTimeKey(id: string, value: unknown, userId: string, deviceId: string, ed25519: string | undefined, what: string): { algorithm: string; keyId: string; json: string } {
  const [algorithm, keyId] = splitKeyId(id, what);
  if (typeof value === "string") {
    if (!B64.test(value)) throw invalidParam(`${what}.${id} is not a key`);
  } else if (isObject(value)) {
    if (typeof value.key !== "string" || !B64.test(value.key)) throw invalidParam(`${what}.${id}.key is not a key`);
    if (algorithm.startsWith("signed_")) {
      if (ed25519 === undefined) throw invalidParam(`${what}: upload device_keys before signed keys`);
      if (!verifyJsonSignature(value, userId, `ed25519:${deviceId}`, ed25519)) throw invalidSignature(`${what}.${id} is not signed by the device`);
    }
  } else {
    throw invalidParam(`${what}.${id} must be a string or an object`);
  }
  return { algorithm, keyId, json: canonical(value, `${what}.${id}`) };
}

/** A cross-signing key: the user's, for the given usage, with exactly one ed25519 public key. */
export function checkCrossSigningKey(key: unknown, userId: string, usage: string, what: string): { publicKey: string; json: string } {
  if (!isObject(key)) throw invalidParam(`${what} must be an object`);
  if (key.user_id !== userId) throw invalidParam(`${what}.user_id must be your user id`);
  if (!Array.isArray(key.usage) || !key.usage.includes(usage)) throw invalidParam(`${what}.usage must include ${usage}`);
  if (!isObject(key.keys)) throw invalidParam(`${what}.keys must be an object`);
  const entries = Object.entries(key.keys);
  if (entries.length !== 1) throw invalidParam(`${what}.keys must hold exactly one key`);
  const [id, pub] = entries[0]!;
  if (typeof pub !== "string" || !B64.test(pub) || id !== `ed25519:${pub}`) throw invalidParam(`${what}.keys must be {"ed25519:<public key>": "<public key>"}`);
  if (key.signatures !== undefined && !isObject(key.signatures)) throw invalidParam(`${what}.signatures must be an object`);
  return { publicKey: pub, json: canonical(key, what) };
}

/** Merges stored signatures into a key object for serving. */
export function withSignatures(obj: Json, sigs: Array<{ signer_user_id: string; signer_key_id: string; signature: string }>): Json {
  if (sigs.length === 0) return obj;
  const signatures: Record<string, Record<string, string>> = {};
  if (isObject(obj.signatures)) for (const [u, s] of Object.entries(obj.signatures)) if (isObject(s)) signatures[u] = { ...(s as Record<string, string>) };
  for (const s of sigs) (signatures[s.signer_user_id] ??= {})[s.signer_key_id] = s.signature;
  return { ...obj, signatures };
}
