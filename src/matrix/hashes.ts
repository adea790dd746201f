/**
 * Content and reference hashes of events (server-server API, "Calculating the content hash for an
 * event" and "Calculating the reference hash for an event").
 */
import { createHash } from "node:crypto";
import { decodeBase64, encodeUnpaddedBase64 } from "./base64.js";
import { canonicalJsonBytes } from "./canonical-json.js";
import { redactedView } from "./redaction.js";

function sha256(data: Uint8Array): Buffer {
  return createHash("sha256").update(data).digest();
}

function withoutKeys(event: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...event };
  for (const k of keys) delete copy[k];
  return copy;
}

/**
 * The content hash covers the whole *unredacted* event, so a receiver can tell that it was handed
 * a redacted copy. `unsigned` (changes in transit), `signatures` (depend on the hash) and `hashes`
 * (would hash itself) are excluded. Returns unpadded Base64 of the SHA-256, as stored in
 * `hashes.sha256`. Throws CanonicalJsonError for events with no canonical encoding.
 */
export function computeContentHash(event: Record<string, unknown>): string {
  return encodeUnpaddedBase64(sha256(canonicalJsonBytes(withoutKeys(event, ["unsigned", "signatures", "hashes"]))));
}

/**
 * Copy of `event` with `hashes` set to `{ sha256: <content hash> }` (server-server "Adding hashes
 * and signatures to outgoing events"); any previous `hashes` object is replaced, as in the spec's
 * example code.
 */
export function addContentHash<T extends Record<string, unknown>>(event: T): T & { hashes: { sha256: string } } {
  return { ...event, hashes: { sha256: computeContentHash(event) } };
}

/**
 * Whether `hashes.sha256` matches the event (server-server "Validating hashes and signatures on
 * received events"). The stored hash is Base64-decoded and compared as bytes, so padding or
 * alphabet differences do not matter. False, never a throw, on malformed input: a failed check
 * means "use the redacted copy", not "crash".
 */
export function checkContentHash(event: Record<string, unknown>): boolean {
  try {
    const hashes = event.hashes;
    if (typeof hashes !== "object" || hashes === null || Array.isArray(hashes)) return false;
    const claimed = (hashes as Record<string, unknown>).sha256;
    if (typeof claimed !== "string") return false;
    const expected = sha256(canonicalJsonBytes(withoutKeys(event, ["unsigned", "signatures", "hashes"])));
    return decodeBase64(claimed).equals(expected);
  } catch {
    return false;
  }
}

/**
 * The reference hash covers only what survives redaction (plus the content hash inside `hashes`),
 * so it is stable whether or not the event was later redacted; room versions 4+ derive event ids
 * from it. Steps: redact per `roomVersion`, drop `signatures` and `unsigned`, Canonical JSON,
 * SHA-256. Throws for unsupported room versions and non-canonical events.
 */
export function computeReferenceHash(event: Record<string, unknown>, roomVersion: string): Buffer {
  const redacted = redactedView(event, roomVersion);
  return sha256(canonicalJsonBytes(withoutKeys(redacted, ["signatures", "unsigned"])));
}
