/**
 * The redaction algorithm (content/rooms/fragments/v9-redactions.md, used by room version 10, and
 * v11-redactions.md, used by 11 and 12). Besides serving redacted events, it defines what event
 * signatures and reference hashes (hence event ids) cover, so it must match other servers byte for
 * byte: any kept or dropped key too many changes every event id in the room.
 */
import { requireRoomVersion } from "./room-versions.js";

type Json = Record<string, unknown>;

/** Top-level keys kept by the room version 9/10 algorithm. */
const TOP_LEVEL_V10: ReadonlySet<string> = new Set([
  "event_id",
  "type",
  "room_id",
  "sender",
  "state_key",
  "content",
  "hashes",
  "signatures",
  "depth",
  "prev_events",
  "prev_state",
  "auth_events",
  "origin",
  "origin_server_ts",
  "membership",
]);

/** Room version 11 stops protecting `origin`, `membership` and `prev_state` (MSC2176). */
const TOP_LEVEL_V11: ReadonlySet<string> = new Set(
  [...TOP_LEVEL_V10].filter((k) => k !== "origin" && k !== "membership" && k !== "prev_state"),
);

/** Content keys kept per event type; "all" keeps the whole content. */
type ContentRule = readonly string[] | "all";

const CONTENT_V10: Readonly<Record<string, ContentRule>> = {
  "m.room.member": ["membership", "join_authorised_via_users_server"],
  "m.room.create": ["creator"],
  "m.room.join_rules": ["join_rule", "allow"],
  "m.room.power_levels": ["ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default"],
  "m.room.history_visibility": ["history_visibility"],
};

const CONTENT_V11: Readonly<Record<string, ContentRule>> = {
  // `third_party_invite.signed` is handled separately below.
  "m.room.member": ["membership", "join_authorised_via_users_server"],
  "m.room.create": "all",
  "m.room.join_rules": ["join_rule", "allow"],
  "m.room.power_levels": [
    "ban",
    "events",
    "events_default",
    "invite",
    "kick",
    "redact",
    "state_default",
    "users",
    "users_default",
  ],
  "m.room.history_visibility": ["history_visibility"],
  "m.room.redaction": ["redacts"],
};

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Kept values are copied so that mutating the redacted event never alters the original. */
function copy<T>(v: T): T {
  return typeof v === "object" && v !== null ? structuredClone(v) : v;
}

const share = <T>(v: T): T => v;

function redactContent(type: unknown, content: unknown, algorithm: "v10" | "v11", copy: <T>(v: T) => T): Json {
  const out: Json = {};
  if (!isObject(content) || typeof type !== "string") return out;
  const rules = algorithm === "v11" ? CONTENT_V11 : CONTENT_V10;
  const rule = Object.hasOwn(rules, type) ? rules[type] : undefined;
  if (rule === undefined) return out;
  if (rule === "all") return copy(content);
  for (const key of rule) {
    // A key present with value null is still "present" and kept, as Synapse does.
    if (Object.hasOwn(content, key)) out[key] = copy(content[key]);
  }
  if (algorithm === "v11" && type === "m.room.member" && Object.hasOwn(content, "third_party_invite")) {
    const tpi = content.third_party_invite;
    // v11: "allows the `signed` key of the `third_party_invite` key". Following Synapse, an object
    // without `signed` is kept as `{}` and a non-object is dropped (the spec does not say).
    if (isObject(tpi)) {
      out.third_party_invite = Object.hasOwn(tpi, "signed") ? { signed: copy(tpi.signed) } : {};
    }
  }
  return out;
}

/**
 * Returns the redacted copy of a federation-format event, following the redaction algorithm of
 * `roomVersion` ("Redactions" in content/rooms/v10.md, v11.md, v12.md). Throws for a room
 * version we do not support, since guessing would produce wrong hashes.
 *
 * `unsigned` is dropped, as the algorithm lists it nowhere; callers serving a redacted event to
 * clients add `unsigned.redacted_because` themselves. `content` is always present (possibly `{}`)
 * even if the input lacked a usable one, matching Synapse so reference hashes agree.
 */
export function redactEvent(event: Record<string, unknown>, roomVersion: string): Record<string, unknown> {
  return redacted(event, roomVersion, copy);
}

/**
 * The same redacted event as {@link redactEvent}, but sharing its values with `event` instead of
 * copying them: for hashing and signing, where the result is serialised at once and never
 * mutated (the deep copies were ~3 % of a message send's CPU).
 */
export function redactedView(event: Record<string, unknown>, roomVersion: string): Readonly<Record<string, unknown>> {
  return redacted(event, roomVersion, share);
}

function redacted(event: Record<string, unknown>, roomVersion: string, copy: <T>(v: T) => T): Record<string, unknown> {
  const algorithm = requireRoomVersion(roomVersion).redaction;
  const topLevel = algorithm === "v11" ? TOP_LEVEL_V11 : TOP_LEVEL_V10;
  const out: Json = {};
  for (const key of Object.keys(event)) {
    if (key !== "content" && topLevel.has(key) && event[key] !== undefined) out[key] = copy(event[key]);
  }
  out.content = redactContent(event.type, event.content, algorithm, copy);
  return out;
}
