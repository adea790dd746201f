/**
 * Identifier grammar (appendix "Identifier Grammar"), plus the per-field limits of
 * client-server "Size limits". Validators return booleans rather than throwing so that routes can
 * map a failure to the right Matrix error (M_INVALID_USERNAME, M_INVALID_PARAM, M_BAD_JSON…).
 */
import { isIPv6 } from "node:net";
import { getRoomVersion } from "./room-versions.js";

/** User ids, room ids, aliases, event ids, event types and state keys: at most 255 bytes of UTF-8. */
export const MAX_ID_LENGTH = 255;

function byteLength(s: string): number {
  return Buffer.byteLength(s, "utf8");
}

/** Lone surrogates are not Unicode code points, and the appendix admits only code points. */
const LONE_SURROGATE = /\p{Cs}/u;

export interface ServerName {
  /** The hostname as written: DNS name, dotted quad, or IPv6 literal *with* its brackets. */
  host: string;
  port?: number;
  kind: "dns" | "ipv4" | "ipv6";
}

const IPV4_SHAPE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
// The appendix's `dns-name = 1*255dns-char`, narrowed to its stated intent ("a series of labels
// separated by `.`"), as Synapse does: no empty labels, so no leading, trailing or double dots.
const DNS_NAME = /^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*$/;
const IPV6_CHARS = /^[0-9A-Fa-f:.]{2,45}$/;

/**
 * Parses a server name (appendix "Server Name"): `hostname [ ":" port ]` where the hostname is a
 * DNS name, an IPv4 literal, or a bracketed IPv6 literal (RFC 3513). Case is kept: server names
 * are case-sensitive. Returns null when invalid.
 *
 * Stricter than the bare grammar in two places, both unreachable as real addresses: a port above
 * 65535, and a dotted quad with a part above 255 (which the grammar would otherwise let through
 * as a DNS name).
 */
export function parseServerName(s: string): ServerName | null {
  if (typeof s !== "string" || s.length === 0) return null;
  let hostPart = s;
  let port: number | undefined;
  let kind: ServerName["kind"];
  if (s.startsWith("[")) {
    const close = s.indexOf("]");
    if (close === -1) return null;
    hostPart = s.slice(0, close + 1);
    const after = s.slice(close + 1);
    if (after !== "") {
      if (!after.startsWith(":")) return null;
      const p = parsePort(after.slice(1));
      if (p === null) return null;
      port = p;
    }
    const inner = hostPart.slice(1, -1);
    // net.isIPv6 also takes zone ids ("fe80::1%eth0"); the character set check rules them out.
    if (!IPV6_CHARS.test(inner) || !isIPv6(inner)) return null;
    kind = "ipv6";
  } else {
    const colon = s.indexOf(":");
    if (colon !== -1) {
      hostPart = s.slice(0, colon);
      const p = parsePort(s.slice(colon + 1));
      if (p === null) return null;
      port = p;
    }
    const quad = IPV4_SHAPE.exec(hostPart);
    if (quad) {
      if (quad.slice(1).some((part) => Number(part) > 255)) return null;
      kind = "ipv4";
    } else if (hostPart.length <= 255 && DNS_NAME.test(hostPart)) {
      kind = "dns";
    } else {
      return null;
    }
  }
  return port === undefined ? { host: hostPart, kind } : { host: hostPart, port, kind };
}

function parsePort(p: string): number | null {
  if (!/^\d{1,5}$/.test(p)) return null;
  const n = Number(p);
  return n <= 65535 ? n : null;
}

export function isValidServerName(s: string): boolean {
  return parseServerName(s) !== null;
}

/**
 * The user-id localpart grammar for new accounts (appendix "User Identifiers", since v1.8):
 * non-empty, only `a-z 0-9 . _ = - / +`. Upper case is refused so that `@USER` and `@user` can
 * never be two people.
 */
export function isValidLocalpart(localpart: string): boolean {
  return typeof localpart === "string" && /^[a-z0-9._=\-/+]+$/.test(localpart);
}

/**
 * Historical localparts (appendix "Historical User IDs"): any non-surrogate code points except
 * `:` and NUL, including the empty string, which servers MUST still accept in events.
 */
function isValidHistoricalLocalpart(localpart: string): boolean {
  return !localpart.includes(":") && !localpart.includes("\u0000") && !LONE_SURROGATE.test(localpart);
}

export interface UserIdOptions {
  /**
   * Accept the historical localpart grammar (any code point but `:` and NUL, possibly empty),
   * which servers must accept in events from other servers. Default false: the strict grammar,
   * right for ids we create or receive from our own clients.
   */
  historical?: boolean;
}

export interface ParsedUserId {
  localpart: string;
  serverName: string;
}

/**
 * Splits `@localpart:server_name` (appendix "User Identifiers"), validating the localpart (strict
 * or historical), the server name, and the 255-byte limit on the whole id. The localpart cannot
 * contain `:`, so the first colon separates it; the server name may contain more (port, IPv6).
 */
export function parseUserId(id: string, options: UserIdOptions = {}): ParsedUserId | null {
  if (typeof id !== "string" || !id.startsWith("@") || byteLength(id) > MAX_ID_LENGTH) return null;
  const colon = id.indexOf(":");
  if (colon === -1) return null;
  const localpart = id.slice(1, colon);
  const serverName = id.slice(colon + 1);
  const localOk = options.historical ? isValidHistoricalLocalpart(localpart) : isValidLocalpart(localpart);
  if (!localOk || !isValidServerName(serverName)) return null;
  return { localpart, serverName };
}

export function isValidUserId(id: string, options: UserIdOptions = {}): boolean {
  return parseUserId(id, options) !== null;
}

/** The reference-hash form of ids from room version 4 on: 32-byte SHA-256, URL-safe unpadded. */
const HASH_ID_BODY = /^[A-Za-z0-9_-]{43}$/;

/**
 * `sigil + localpart + ":" + server_name` with a localpart of non-surrogate code points except
 * `:` and NUL, as room ids before v12, room aliases and pre-v4 event ids are built.
 */
function isValidDomainId(id: string, sigil: string): boolean {
  if (typeof id !== "string" || !id.startsWith(sigil) || byteLength(id) > MAX_ID_LENGTH) return false;
  const colon = id.indexOf(":");
  if (colon <= 1) return false; // no colon, or an empty localpart
  const localpart = id.slice(1, colon);
  return isValidHistoricalLocalpart(localpart) && isValidServerName(id.slice(colon + 1));
}

export interface RoomVersionOptions {
  /**
   * Check the form this room version requires. Without it, any form some room version uses is
   * accepted (versions we do not support included, so ids in e.g. `predecessor` still validate).
   */
  roomVersion?: string;
}

/**
 * Room ids (appendix "Room IDs"): `!opaque:server_name` up to room version 11; from 12 on, the
 * create event's id with sigil `!` (`!` + 43 URL-safe Base64 characters), with no server name.
 * With `roomVersion`, only that version's form passes (unknown versions fail).
 */
export function isValidRoomId(id: string, options: RoomVersionOptions = {}): boolean {
  if (typeof id !== "string") return false;
  const hashed = id.startsWith("!") && HASH_ID_BODY.test(id.slice(1));
  if (options.roomVersion === undefined) return hashed || isValidDomainId(id, "!");
  const version = getRoomVersion(options.roomVersion);
  if (!version) return false;
  return version.createEventHasRoomId ? isValidDomainId(id, "!") : hashed;
}

/**
 * Room aliases (appendix "Room Aliases"): `#localpart:server_name`, the localpart any
 * non-surrogate code points except `:` and NUL, at most 255 bytes. An empty localpart is refused:
 * the appendix does not allow it explicitly as it does for historical user ids.
 */
export function isValidRoomAlias(alias: string): boolean {
  return isValidDomainId(alias, "#");
}

/**
 * Event ids (appendix "Event IDs"): `$` + URL-safe unpadded Base64 of the reference hash from room
 * version 4 on (all versions we support); `$opaque:server_name` in versions 1–2 and standard
 * Base64 in 3. Without `roomVersion` any of these forms is accepted; with one, only its form.
 */
export function isValidEventId(id: string, options: RoomVersionOptions = {}): boolean {
  if (typeof id !== "string" || !id.startsWith("$") || byteLength(id) > MAX_ID_LENGTH) return false;
  const body = id.slice(1);
  if (HASH_ID_BODY.test(body)) return true;
  if (options.roomVersion !== undefined) return false; // every supported version uses the hash form
  return /^[A-Za-z0-9+/]{43}$/.test(body) || isValidDomainId(id, "$");
}

/**
 * Event types: the spec's only hard rules are the 255-byte limit (client-server "Size limits") and
 * being a string; the Java-package naming is a SHOULD. We also refuse the empty string and
 * lone surrogates, which no canonical encoding can carry.
 */
export function isValidEventType(type: unknown): type is string {
  return (
    typeof type === "string" && type.length > 0 && byteLength(type) <= MAX_ID_LENGTH && !LONE_SURROGATE.test(type)
  );
}

/** State keys: any string up to 255 bytes, the empty string included (client-server "Size limits"). */
export function isValidStateKey(stateKey: unknown): stateKey is string {
  return typeof stateKey === "string" && byteLength(stateKey) <= MAX_ID_LENGTH && !LONE_SURROGATE.test(stateKey);
}

/**
 * Device ids. The OAuth 2.0 API ("Device ID allocation") requires the characters of an OAuth scope
 * token (RFC 6749 §3.3: %x21 / %x23-5B / %x5D-7E, printable ASCII but space, `"` and `\`) since the
 * id travels in the `urn:matrix:client:device:<id>` scope. The legacy login API sets no rule; we
 * apply the same one so every device stays usable once OAuth login arrives. Capped at 255.
 */
export function isValidDeviceId(deviceId: unknown): deviceId is string {
  return typeof deviceId === "string" && /^[\x21\x23-\x5b\x5d-\x7e]{1,255}$/.test(deviceId);
}

/** Appendix "Opaque Identifiers": 1–255 of `0-9 A-Z a-z - . _ ~` (transaction ids, call ids…). */
export function isValidOpaqueId(id: unknown): id is string {
  return typeof id === "string" && /^[0-9A-Za-z._~-]{1,255}$/.test(id);
}

/**
 * Appendix "Common Namespaced Identifier Grammar": 1–255 characters, starting `a-z`, then
 * `a-z 0-9 - _ .`. (Whether `m.` is reserved is the caller's business.)
 */
export function isValidNamespacedId(id: unknown): id is string {
  return typeof id === "string" && /^[a-z][a-z0-9._-]{0,254}$/.test(id);
}
