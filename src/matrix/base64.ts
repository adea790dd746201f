/**
 * Base64 as Matrix uses it: appendix "Unpadded Base64" and "URL-safe unpadded Base64".
 */

function toBuffer(buf: Uint8Array): Buffer {
  return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Standard alphabet, no `=` padding (appendix "Unpadded Base64"): keys, signatures, hashes. */
export function encodeUnpaddedBase64(buf: Uint8Array): string {
  return toBuffer(buf).toString("base64").replace(/=+$/, "");
}

/**
 * URL-safe alphabet (`-` and `_`), no padding (appendix "URL-safe unpadded Base64"): event ids
 * from room version 4 on and room ids from version 12 on.
 */
export function encodeUnpaddedUrlSafeBase64(buf: Uint8Array): string {
  // Node's "base64url" encoding is already unpadded.
  return toBuffer(buf).toString("base64url");
}

const STANDARD = /^[A-Za-z0-9+/]*$/;
const URL_SAFE = /^[A-Za-z0-9_-]*$/;

/**
 * Decodes Base64 with or without padding, in the standard or the URL-safe alphabet (the appendix:
 * decoders "SHOULD accept input with or without padding characters wherever possible").
 *
 * Unlike Node's `Buffer.from(s, "base64")`, which silently skips characters it does not know, this
 * throws on anything that is not Base64 (foreign characters, whitespace, mixed alphabets, padding
 * in the middle or of the wrong amount, impossible lengths), because signature checking must fail
 * when "base64 decoding fails". Non-zero trailing bits are accepted, like Python's decoder: the
 * spec's own test seed `…XA1` has them.
 */
export function decodeBase64(s: string): Buffer {
  if (typeof s !== "string") throw new TypeError("base64 input must be a string");
  let body = s;
  const padStart = s.indexOf("=");
  if (padStart !== -1) {
    const padding = s.slice(padStart);
    body = s.slice(0, padStart);
    if (!/^={1,2}$/.test(padding) || s.length % 4 !== 0) {
      throw new Error("invalid base64: bad padding");
    }
  }
  if (body.length % 4 === 1) throw new Error("invalid base64: impossible length");
  if (!STANDARD.test(body) && !URL_SAFE.test(body)) {
    throw new Error("invalid base64: unexpected character");
  }
  // Both Node decoders accept either alphabet; the choice only documents intent.
  return Buffer.from(body, URL_SAFE.test(body) ? "base64url" : "base64");
}
