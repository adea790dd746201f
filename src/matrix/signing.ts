/**
 * Ed25519 signing keys, JSON signatures (appendix "Signing JSON") and event signatures
 * (server-server API "Signing Events"), on Node's built-in crypto.
 */
import { createHash, createPrivateKey, createPublicKey, randomBytes, randomInt, sign, verify, type KeyObject } from "node:crypto";
import { decodeBase64, encodeUnpaddedBase64, encodeUnpaddedUrlSafeBase64 } from "./base64.js";
import { canonicalJson, canonicalJsonBytes } from "./canonical-json.js";
import { addContentHash } from "./hashes.js";
import { getRoomVersion } from "./room-versions.js";
import { redactEvent, redactedView } from "./redaction.js";

export interface SigningKey {
  /** Signing key identifier: algorithm and version, e.g. "ed25519:a_Xy12Zq". */
  keyId: string;
  /** The 32-byte Ed25519 seed: the secret, and what the key file stores. */
  seed: Buffer;
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** Raw 32-byte public key, unpadded Base64, as published in `verify_keys`. */
  publicKeyBase64: string;
}

export type Signatures = Record<string, Record<string, string>>;

/** server-server "keys.yaml": the version part of a key id matches `[a-zA-Z0-9_]`. */
const KEY_VERSION = /^[a-zA-Z0-9_]+$/;

// DER wrappers that turn raw Ed25519 bytes into the PKCS#8 / SPKI structures Node imports
// (RFC 8410): only the trailing 32 bytes vary.
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_ED25519_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

const ALPHANUMERIC = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Builds a key from its seed. `keyId` must be `ed25519:<version>` with the version in
 * `[a-zA-Z0-9_]`, the only algorithm homeservers support (server-server "Retrieving server keys").
 */
export function signingKeyFromSeed(keyId: string, seed: Uint8Array): SigningKey {
  const [alg, version, ...rest] = keyId.split(":");
  if (alg !== "ed25519" || version === undefined || rest.length > 0 || !KEY_VERSION.test(version)) {
    throw new Error(`invalid signing key id ${JSON.stringify(keyId.slice(0, 64))}: expected ed25519:[a-zA-Z0-9_]+`);
  }
  if (seed.length !== 32) throw new Error(`an Ed25519 seed is 32 bytes, got ${seed.length}`);
  const seedCopy = Buffer.from(seed);
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_ED25519_PREFIX, seedCopy]),
    format: "der",
    type: "pkcs8",
  });
  const publicKey = createPublicKey(privateKey);
  const rawPublic = publicKey.export({ format: "der", type: "spki" }).subarray(SPKI_ED25519_PREFIX.length);
  return { keyId, seed: seedCopy, privateKey, publicKey, publicKeyBase64: encodeUnpaddedBase64(rawPublic) };
}

/**
 * A fresh random key. Without `version`, uses `a_` and 6 random alphanumerics, in the style of
 * Synapse's generated key ids, so a rotated key never reuses an id other servers have cached.
 */
export function generateSigningKey(version?: string): SigningKey {
  const v = version ?? `a_${Array.from({ length: 6 }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join("")}`;
  return signingKeyFromSeed(`ed25519:${v}`, randomBytes(32));
}

/** One line of Synapse's signing-key file: `ed25519 <version> <unpadded base64 seed>`. */
export function serializeSigningKey(k: SigningKey): string {
  const [alg, version] = k.keyId.split(":");
  return `${alg} ${version} ${encodeUnpaddedBase64(k.seed)}\n`;
}

/**
 * Every key in a Synapse-format signing-key file (one `ed25519 <version> <seed>` per line; blank
 * lines ignored). Errors name the line, never its content, because the content is the secret.
 */
export function parseSigningKeys(text: string): SigningKey[] {
  const keys: SigningKey[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, i) => {
    const trimmed = line.trim();
    if (trimmed === "") return;
    const parts = trimmed.split(/\s+/);
    if (parts.length !== 3) throw new Error(`signing key file line ${i + 1}: expected "ed25519 <version> <seed>"`);
    const [alg, version, seedB64] = parts as [string, string, string];
    if (alg !== "ed25519") throw new Error(`signing key file line ${i + 1}: unsupported algorithm (only ed25519)`);
    let seed: Buffer;
    try {
      seed = decodeBase64(seedB64);
    } catch {
      throw new Error(`signing key file line ${i + 1}: the seed is not valid base64`);
    }
    if (seed.length !== 32) throw new Error(`signing key file line ${i + 1}: the seed must be 32 bytes`);
    if (!KEY_VERSION.test(version)) throw new Error(`signing key file line ${i + 1}: invalid key version`);
    keys.push(signingKeyFromSeed(`ed25519:${version}`, seed));
  });
  return keys;
}

/** The first (usually only) key of a Synapse-format signing-key file; throws if there is none. */
export function parseSigningKey(text: string): SigningKey {
  const [first] = parseSigningKeys(text);
  if (!first) throw new Error("signing key file contains no key");
  return first;
}

/**
 * Signs `obj` as `signingName` (appendix "Signing Details"): the signature covers the Canonical
 * JSON of the object without `signatures` and `unsigned`, so intermediaries may add both. The
 * result keeps `unsigned` and merges the new signature into any existing ones. Does not mutate
 * `obj`. Throws CanonicalJsonError if `obj` has no canonical encoding.
 */
export function signJson<T extends object>(
  obj: T,
  signingName: string,
  key: SigningKey,
): T & { signatures: Signatures } {
  const { signatures, unsigned, ...rest } = obj as Record<string, unknown>;
  const signature = sign(null, canonicalJsonBytes(rest), key.privateKey);
  // Object.fromEntries and computed literal keys define own properties, so even a hostile name
  // such as "__proto__" stays data rather than reaching the prototype setter.
  const existing: Signatures = isObject(signatures)
    ? Object.fromEntries(
        Object.entries(signatures)
          .filter((e): e is [string, Record<string, string>] => isObject(e[1]))
          .map(([name, sigs]) => [name, { ...sigs }]),
      )
    : {};
  const previous = Object.hasOwn(existing, signingName) ? existing[signingName] : undefined;
  const merged: Signatures = {
    ...existing,
    [signingName]: { ...previous, [key.keyId]: encodeUnpaddedBase64(signature) },
  };
  const out: Record<string, unknown> = { ...rest, signatures: merged };
  if (unsigned !== undefined) out.unsigned = unsigned;
  return out as T & { signatures: Signatures };
}

// Importing a public key costs more than verifying with it, and the same few server keys sign
// almost everything we receive, so keep the most recent ones.
const PUBLIC_KEY_CACHE_LIMIT = 256;
const publicKeyCache = new Map<string, KeyObject>();

/** Imports a raw Ed25519 public key given as (unpadded) Base64; throws if it is not 32 bytes. */
export function publicKeyFromBase64(publicKeyBase64: string): KeyObject {
  const cached = publicKeyCache.get(publicKeyBase64);
  if (cached) return cached;
  const raw = decodeBase64(publicKeyBase64);
  if (raw.length !== 32) throw new Error("an Ed25519 public key is 32 bytes");
  const key = createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: "der", type: "spki" });
  if (publicKeyCache.size >= PUBLIC_KEY_CACHE_LIMIT) {
    const oldest = publicKeyCache.keys().next().value;
    if (oldest !== undefined) publicKeyCache.delete(oldest);
  }
  publicKeyCache.set(publicKeyBase64, key);
  return key;
}

/**
 * Whether `obj` carries a valid signature by `signingName` with `keyId`, checked against
 * `publicKeyBase64` (appendix "Checking for a Signature"). The caller has already looked up the
 * key (step 3). Returns false, never throws, for anything malformed: missing entries, algorithms
 * other than ed25519, bad Base64, wrong lengths, or an object with no canonical encoding.
 */
export function verifyJsonSignature(
  obj: unknown,
  signingName: string,
  keyId: string,
  publicKeyBase64: string,
): boolean {
  try {
    if (!isObject(obj) || typeof keyId !== "string" || !keyId.startsWith("ed25519:")) return false;
    const signatures = obj.signatures;
    if (!isObject(signatures) || !Object.hasOwn(signatures, signingName)) return false;
    const byName = signatures[signingName];
    if (!isObject(byName) || !Object.hasOwn(byName, keyId)) return false;
    const encoded = byName[keyId];
    if (typeof encoded !== "string") return false;
    const signature = decodeBase64(encoded);
    if (signature.length !== 64) return false;
    const publicKey = publicKeyFromBase64(publicKeyBase64);
    const { signatures: _s, unsigned: _u, ...rest } = obj;
    return verify(null, canonicalJsonBytes(rest), publicKey, signature);
  } catch {
    return false;
  }
}

/**
 * Hashes and signs an outgoing event (server-server "Adding hashes and signatures to outgoing
 * events"): set `hashes.sha256` to the content hash, sign the *redacted* event so the signature
 * survives redaction, and copy the signatures back onto the full event. Existing signatures by
 * other servers are kept. Returns a new object.
 */
export function signEvent<T extends Record<string, unknown>>(
  event: T,
  roomVersion: string,
  serverName: string,
  key: SigningKey,
): T & { hashes: { sha256: string }; signatures: Signatures } {
  const hashed = addContentHash(event);
  const signedRedacted = signJson(redactEvent(hashed, roomVersion), serverName, key);
  return { ...hashed, signatures: signedRedacted.signatures };
}

/**
 * A new event of ours, hashed and signed (as signEvent), with its event id (as eventIdFor) and the
 * size in bytes of its Canonical JSON before hashing and signing (for the size limit). One pass:
 * the signature and the reference hash cover the same bytes (the redacted event without
 * `signatures` and `unsigned`), and the content hash's input is the event itself, so each is
 * encoded once instead of four times (bench/rooms.ts). Only for an event that carries no
 * `signatures`, `unsigned` or `hashes` yet, in a room version with hash-derived event ids (v4+).
 */
export function signNewEvent<T extends Record<string, unknown>>(
  event: T,
  roomVersion: string,
  serverName: string,
  key: SigningKey,
): { event: T & { hashes: { sha256: string }; signatures: Signatures }; eventId: string; canonicalBytes: number } {
  if ("signatures" in event || "unsigned" in event || "hashes" in event) throw new Error("signNewEvent: the event is already hashed or signed");
  if (!getRoomVersion(roomVersion)) throw new Error(`signNewEvent: unsupported room version ${roomVersion}`);
  const content = Buffer.from(canonicalJson(event), "utf8");
  const hashed = { ...event, hashes: { sha256: encodeUnpaddedBase64(createHash("sha256").update(content).digest()) } };
  const redacted = Buffer.from(canonicalJson(redactedView(hashed, roomVersion)), "utf8");
  const signatures: Signatures = { [serverName]: { [key.keyId]: encodeUnpaddedBase64(sign(null, redacted, key.privateKey)) } };
  const eventId = `$${encodeUnpaddedUrlSafeBase64(createHash("sha256").update(redacted).digest())}`;
  return { event: { ...hashed, signatures }, eventId, canonicalBytes: content.length };
}

/**
 * Checks `serverName`'s signature on an event the way receivers must (server-server "Validating
 * hashes and signatures on received events"): over the redacted event, so it succeeds for both the
 * full event and a redacted copy. The content hash is a separate check (`checkContentHash`).
 * False, never a throw, on malformed input or an unsupported room version.
 */
export function verifyEventSignature(
  event: unknown,
  roomVersion: string,
  serverName: string,
  keyId: string,
  publicKeyBase64: string,
): boolean {
  try {
    if (!isObject(event)) return false;
    return verifyJsonSignature(redactedView(event, roomVersion), serverName, keyId, publicKeyBase64);
  } catch {
    return false;
  }
}
