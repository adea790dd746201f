/**
 * The persistent data unit (PDU), i.e. a room event as it lives in the room DAG
 * (content/server-server-api.md "PDUs"; the per-version shape is api/server-server/definitions/pdu_v*).
 *
 * Room version 12 note (content/rooms/v12.md, auth rule 1.2): on the wire the `m.room.create`
 * event has NO `room_id`; the room id is the create event's id with `!` instead of `$`. The type
 * below keeps `room_id: string` because every other event has one; code that handles create
 * events must not assume the property is present at runtime (JSON from a peer will lack it).
 */
export interface PDU {
  event_id: string;
  room_id: string;
  type: string;
  /** Present (possibly empty) on state events, absent on message events. */
  state_key?: string;
  sender: string;
  content: Record<string, unknown>;
  origin_server_ts: number;
  prev_events: string[];
  auth_events: string[];
  depth: number;
  hashes?: { sha256: string };
  signatures?: Record<string, Record<string, string>>;
  unsigned?: Record<string, unknown>;
  /** Top-level `redacts` of `m.room.redaction` up to room version 10 (moved into `content` in 11). */
  redacts?: string;
}

/** The key of a state map entry: `${type}\u0000${state_key}` (NUL cannot occur in either half's meaning). */
export type StateKey = string;

export function stateKey(type: string, stateKeyValue: string): StateKey {
  return `${type}\u0000${stateKeyValue}`;
}

/** Splits a {@link StateKey} back into `[type, state_key]`. */
export function splitStateKey(key: StateKey): [type: string, stateKey: string] {
  const i = key.indexOf("\u0000");
  return i < 0 ? [key, ""] : [key.slice(0, i), key.slice(i + 1)];
}

/**
 * The membership change a member event makes, given the room's state before it: whose, and from
 * what to what (null: no membership, or not a string). Undefined for any other event.
 */
export function membershipTransition(state: ReadonlyMap<StateKey, PDU>, pdu: PDU): { userId: string; prev: string | null; now: string | null } | undefined {
  if (pdu.type !== "m.room.member" || typeof pdu.state_key !== "string") return undefined;
  const prev = state.get(stateKey("m.room.member", pdu.state_key))?.content.membership;
  const now = pdu.content.membership;
  return { userId: pdu.state_key, prev: typeof prev === "string" ? prev : null, now: typeof now === "string" ? now : null };
}

/** A state event is one that carries a `state_key` (even an empty one). */
export function isStateEvent(event: { state_key?: unknown }): boolean {
  return typeof event.state_key === "string";
}

/**
 * The few per-version facts the authorization modules need. Kept here (rather than importing the
 * general room-version registry) so that the pure auth core has no dependency beyond this folder's
 * own auth files; it must agree with content/rooms/v10.md, v11.md and v12.md.
 */
export interface AuthVersionRules {
  readonly id: "10" | "11" | "12";
  /**
   * The creator is the create event's `sender` (v11+, "Remove the creator property");
   * in v10 it is `content.creator`, which auth rule 1.4 requires.
   */
  readonly implicitCreator: boolean;
  /** The create event is selected for `auth_events` (v10, v11); it MUST NOT be in v12. */
  readonly createInAuthEvents: boolean;
  /** v12: the room id is derived from the create event, which therefore carries no `room_id`. */
  readonly roomIdFromCreate: boolean;
  /** v12: creators (sender + `additional_creators`) have infinite power level. */
  readonly creatorsHaveInfinitePower: boolean;
}

const RULES: ReadonlyMap<string, AuthVersionRules> = new Map<string, AuthVersionRules>([
  ["10", { id: "10", implicitCreator: false, createInAuthEvents: true, roomIdFromCreate: false, creatorsHaveInfinitePower: false }],
  ["11", { id: "11", implicitCreator: true, createInAuthEvents: true, roomIdFromCreate: false, creatorsHaveInfinitePower: false }],
  ["12", { id: "12", implicitCreator: true, createInAuthEvents: false, roomIdFromCreate: true, creatorsHaveInfinitePower: true }],
]);

/** Authorization facts for a supported room version (10, 11, 12), or undefined. */
export function authVersionRules(roomVersion: string): AuthVersionRules | undefined {
  return RULES.get(roomVersion);
}

/** Like {@link authVersionRules}, for paths where an unsupported version is a programming error. */
export function requireAuthVersionRules(roomVersion: string): AuthVersionRules {
  const r = RULES.get(roomVersion);
  if (!r) throw new RangeError(`unsupported room version ${JSON.stringify(String(roomVersion).slice(0, 40))}`);
  return r;
}

// ---------------------------------------------------------------------------------------------
// Identifiers (content/appendices.md "Server Name", "User Identifiers", "Room IDs"): only what the
// auth rules need. Names differ from identifiers.ts so that both modules can be re-exported together.

/** `server_name = hostname [ ":" port ]`, hostname being an IPv4/DNS name or a bracketed IPv6 literal. */
const SERVER_NAME = /^(?:\[[0-9A-Fa-f:.]{2,45}\]|[0-9A-Za-z.-]{1,255})(?::[0-9]{1,5})?$/;

function isServerName(name: string): boolean {
  return SERVER_NAME.test(name);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * User ID validation as applied to an event's `sender`: `@localpart:server_name`, at most 255
 * bytes. The localpart uses the *historical* grammar ("Historical User IDs": servers MUST accept
 * any code points except `:` and NUL, even empty) because these checks run on federated events.
 */
export function isWellFormedUserId(id: unknown): id is string {
  if (typeof id !== "string" || !id.startsWith("@")) return false;
  if (Buffer.byteLength(id, "utf8") > 255) return false;
  const colon = id.indexOf(":");
  if (colon < 0) return false;
  const localpart = id.slice(1, colon);
  if (localpart.includes("\u0000") || LONE_SURROGATE.test(localpart)) return false;
  return isServerName(id.slice(colon + 1));
}

/** The server part of a user ID or domain-carrying room ID (everything after the first `:`). */
export function serverNameOf(id: string): string {
  const colon = id.indexOf(":");
  return colon < 0 ? "" : id.slice(colon + 1);
}

/**
 * v12 room ID from the create event's ID: "the event ID of the m.room.create event using `!` as
 * the sigil instead of `$`" (appendices.md "Room IDs").
 */
export function roomIdFromCreateEventId(createEventId: string): string | undefined {
  return createEventId.startsWith("$") && createEventId.length > 1 ? `!${createEventId.slice(1)}` : undefined;
}
