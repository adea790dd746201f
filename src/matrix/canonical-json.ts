/**
 * Canonical JSON, per the appendix "Signing JSON › Canonical JSON"
 * (content/appendices.md) and the room-version rule "Canonical JSON" (v6+), which makes servers
 * enforce it strictly. Every hash and signature in Matrix is computed over these bytes, so a single
 * divergence from other servers means events we sign are rejected and events they sign fail here.
 */

/** Thrown when a value has no Canonical JSON encoding (float, out-of-range integer, cycle…). */
export class CanonicalJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CanonicalJsonError";
  }
}

/**
 * Deepest nesting accepted. The spec sets no limit, but recursion on attacker-supplied JSON must
 * end in a clean error rather than a stack overflow; real events (max 64 KiB) never come close.
 */
export const MAX_CANONICAL_JSON_DEPTH = 128;

/** Integers outside ±(2**53 - 1) cannot round-trip through IEEE doubles, so the appendix bans them. */
const MAX_INTEGER = Number.MAX_SAFE_INTEGER;

/**
 * Orders two strings by Unicode code point, as the appendix requires for object keys.
 *
 * JavaScript's default sort compares UTF-16 code units, which puts astral characters (encoded as
 * surrogates 0xD800–0xDFFF) *before* U+E000–U+FFFF, whereas code-point order puts them after.
 * Only that case differs, so at the first differing unit, when both units are >= 0xD800, we move
 * surrogates above U+E000–U+FFFF; otherwise code units already order like code points.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/**
 * A lone surrogate has no UTF-8 encoding; Python's reference implementation fails on it and Node
 * would silently turn it into U+FFFD, producing bytes that no other server would hash the same.
 */
const LONE_SURROGATE = /\p{Cs}/u;

function isWellFormed(s: string): boolean {
  // With the `u` flag a valid surrogate pair is read as one astral code point, so only lone
  // surrogates match the Cs (surrogate) category.
  return !LONE_SURROGATE.test(s);
}

/**
 * Encodes a string per the appendix grammar: only `"`, `\` and U+0000–U+001F are escaped, with
 * the short forms `\b \t \n \f \r` and lowercase `\u00XX` otherwise; everything else (including
 * DEL, U+2028/2029 and non-NFC sequences) is emitted verbatim. For well-formed strings this is
 * exactly what ES2019+ `JSON.stringify` produces, which the tests pin down character by character.
 */
function encodeString(s: string, path: PathStack, what = "string"): string {
  if (!isWellFormed(s)) {
    throw new CanonicalJsonError(`${formatPath(path)}: ${what} contains a lone UTF-16 surrogate (not valid Unicode)`);
  }
  return JSON.stringify(s);
}

/**
 * Where we are in the value, kept as a stack and only formatted when reporting an error, so the
 * hot path (hashing every event) does no string building.
 */
type PathStack = Array<string | number>;

function formatPath(path: PathStack): string {
  let out = "$";
  for (const p of path) out += typeof p === "number" ? `[${p}]` : `.${p}`;
  // Keys are attacker-controlled; keep error messages (which end up in logs) short.
  return out.length > 200 ? `${out.slice(0, 200)}…` : out;
}

function encodeNumber(n: number, path: PathStack): string {
  if (!Number.isFinite(n)) {
    throw new CanonicalJsonError(`${formatPath(path)}: ${String(n)} is not allowed in Canonical JSON`);
  }
  if (!Number.isInteger(n)) {
    throw new CanonicalJsonError(
      `${formatPath(path)}: ${n} is not an integer; floats are not allowed in Canonical JSON`,
    );
  }
  if (n > MAX_INTEGER || n < -MAX_INTEGER) {
    throw new CanonicalJsonError(
      `${formatPath(path)}: ${n} is outside the Canonical JSON integer range [-(2**53)+1, (2**53)-1]`,
    );
  }
  // `-0` must be written as `0` (appendix example {"a":-0} → {"a":0}); String(-0) is already "0",
  // and safe integers never use exponent notation.
  return String(n);
}

function encodeValue(value: unknown, path: PathStack): string {
  switch (typeof value) {
    case "string":
      return encodeString(value, path);
    case "number":
      return encodeNumber(value, path);
    case "boolean":
      return value ? "true" : "false";
    case "bigint":
      if (value > BigInt(MAX_INTEGER) || value < -BigInt(MAX_INTEGER)) {
        throw new CanonicalJsonError(
          `${formatPath(path)}: ${value} is outside the Canonical JSON integer range [-(2**53)+1, (2**53)-1]`,
        );
      }
      return value.toString();
    case "object":
      break;
    default:
      // undefined at top level or inside an array, functions, symbols: JSON.stringify would
      // silently drop or null them, which would make us sign something other than we were given.
      throw new CanonicalJsonError(`${formatPath(path)}: a ${typeof value} cannot be encoded as JSON`);
  }
  if (value === null) return "null";
  if (path.length >= MAX_CANONICAL_JSON_DEPTH) {
    throw new CanonicalJsonError(
      `${formatPath(path)}: nesting deeper than ${MAX_CANONICAL_JSON_DEPTH} levels (or a cyclic structure) is refused`,
    );
  }
  if (Array.isArray(value)) {
    let out = "[";
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      out += (i === 0 ? "" : ",") + encodeValue(value[i], path);
      path.pop();
    }
    return out + "]";
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) {
    // Buffers, Dates, Maps… have no single JSON meaning; callers must convert them explicitly.
    const name = (value as { constructor?: { name?: string } }).constructor?.name ?? "exotic";
    throw new CanonicalJsonError(`${formatPath(path)}: ${name} objects cannot be encoded; pass plain JSON data`);
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj).sort(compareCodePoints);
  let out = "{";
  let first = true;
  for (const key of keys) {
    const v = obj[key];
    // Omitting undefined mirrors JSON.stringify and lets callers build objects with optional fields.
    if (v === undefined) continue;
    path.push(key);
    out += (first ? "" : ",") + encodeString(key, path, "key") + ":" + encodeValue(v, path);
    path.pop();
    first = false;
  }
  return out + "}";
}

/**
 * Encodes `value` as Canonical JSON (appendix "Canonical JSON"): UTF-8, no insignificant
 * whitespace, object keys sorted by code point, integers only within ±(2**53 - 1), strings kept
 * exactly as given (no Unicode normalisation). Throws {@link CanonicalJsonError} for anything
 * with no canonical encoding.
 */
export function canonicalJson(value: unknown): string {
  return encodeValue(value, []);
}

/** The UTF-8 bytes of {@link canonicalJson}: what hashes and signatures are computed over. */
export function canonicalJsonBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), "utf8");
}
