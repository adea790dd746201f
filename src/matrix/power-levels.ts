/**
 * Power levels: defaults, parsing of `m.room.power_levels` content, and the lookups the
 * authorization rules and the room writer need.
 *
 * Sources: content/client-server-api/_index.md "Permissions" and the `m.room.power_levels`
 * schema (data/event-schemas/schema/m.room.power_levels.yaml); content/server-server-api.md
 * "Definitions" (required power level, invite/kick/ban/redact levels); content/rooms/v12.md
 * (room creators have an infinitely high power level).
 */
import { type PDU, isWellFormedUserId, requireAuthVersionRules } from "./pdu.js";

/** The effective power levels of a room. Maps have no prototype; look them up with `Object.hasOwn`. */
export interface PowerLevels {
  readonly users: Readonly<Record<string, number>>;
  readonly users_default: number;
  readonly events: Readonly<Record<string, number>>;
  readonly events_default: number;
  readonly state_default: number;
  readonly ban: number;
  readonly kick: number;
  readonly redact: number;
  readonly invite: number;
  /** Always has `room`. */
  readonly notifications: Readonly<Record<string, number>>;
  /**
   * Room version 12+: the room creators (create `sender` plus `content.additional_creators`), whose
   * power level is infinite whatever `users` says. Empty in earlier versions.
   */
  readonly creators: readonly string[];
  /** Whether these levels come from an `m.room.power_levels` event (false: spec defaults). */
  readonly fromEvent: boolean;
}

/**
 * Defaults when a key is absent (schema of `m.room.power_levels`; server-server-api "Definitions").
 *
 * `state_default` is 50 with or without a power-levels event: the spec used to say 0 when the room
 * has no `m.room.power_levels` event, and that text was removed as outdated in v1.7
 * (content/changelog/v1.7.md, matrix-spec#1479); Synapse and Ruma use 50 too.
 */
export const POWER_LEVEL_DEFAULTS = Object.freeze({
  users_default: 0,
  events_default: 0,
  state_default: 50,
  ban: 50,
  kick: 50,
  redact: 50,
  invite: 0,
  notifications_room: 50,
});

/** Without a power-levels event "the room's creator has a power level of 100" (rooms 1–11). */
export const CREATOR_DEFAULT_POWER_LEVEL = 100;

/**
 * A power level value as room versions 10+ accept it: a JSON integer (no numeric strings — v10
 * "Values in m.room.power_levels events must be integers") within the Canonical JSON range
 * `[-(2**53)+1, (2**53)-1]`.
 */
export function isPowerLevelValue(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value);
}

/** The user the auth rules call "the creator": `content.creator` in v10, the create `sender` from v11. */
export function createEventCreator(
  createEvent: Pick<PDU, "sender" | "content"> | undefined,
  roomVersion: string,
): string | undefined {
  if (!createEvent) return undefined;
  if (requireAuthVersionRules(roomVersion).implicitCreator) return createEvent.sender;
  const creator = isRecord(createEvent.content) ? createEvent.content["creator"] : undefined;
  return typeof creator === "string" ? creator : undefined;
}

/**
 * Room version 12 "room creators": the create event's `sender` plus every string of
 * `content.additional_creators`. Empty for earlier versions, where creators have no special power
 * once a power-levels event exists. (Malformed `additional_creators` is refused by auth rule 1.4,
 * so a create event that made it into a room has a clean list; non-strings are skipped anyway.)
 */
export function roomCreators(createEvent: Pick<PDU, "sender" | "content"> | undefined, roomVersion: string): string[] {
  if (!createEvent || !requireAuthVersionRules(roomVersion).creatorsHaveInfinitePower) return [];
  const out = [createEvent.sender];
  const extra = isRecord(createEvent.content) ? createEvent.content["additional_creators"] : undefined;
  if (Array.isArray(extra)) {
    for (const u of extra) if (typeof u === "string" && !out.includes(u)) out.push(u);
  }
  return out;
}

/**
 * Effective power levels from an `m.room.power_levels` content (or `undefined` when the room has
 * none). Values that are not valid integers fall back to the default: in rooms 10+ such content
 * is refused by auth rule 9.1–9.3 (10.1–10.3 in v12), so this only matters for callers that parse
 * content which never passed the rules.
 */
export function powerLevelsFrom(
  content: Record<string, unknown> | undefined,
  createEvent: Pick<PDU, "sender" | "content"> | undefined,
  roomVersion: string,
): PowerLevels {
  const rules = requireAuthVersionRules(roomVersion);
  const creators = roomCreators(createEvent, roomVersion);
  const c = isRecord(content) ? content : undefined;
  const users = intMap(c?.["users"]);
  if (!c && !rules.creatorsHaveInfinitePower) {
    // m.room.power_levels schema: "If the room contains no m.room.power_levels event, the room's
    // creator has a power level of 100, and all other users have a power level of 0" (v1–11).
    const creator = createEventCreator(createEvent, roomVersion);
    if (creator !== undefined) users[creator] = CREATOR_DEFAULT_POWER_LEVEL;
  }
  const notifications = intMap(c?.["notifications"]);
  if (!Object.hasOwn(notifications, "room")) notifications["room"] = POWER_LEVEL_DEFAULTS.notifications_room;
  return Object.freeze({
    users: Object.freeze(users),
    users_default: intOr(c?.["users_default"], POWER_LEVEL_DEFAULTS.users_default),
    events: Object.freeze(intMap(c?.["events"])),
    events_default: intOr(c?.["events_default"], POWER_LEVEL_DEFAULTS.events_default),
    state_default: intOr(c?.["state_default"], POWER_LEVEL_DEFAULTS.state_default),
    ban: intOr(c?.["ban"], POWER_LEVEL_DEFAULTS.ban),
    kick: intOr(c?.["kick"], POWER_LEVEL_DEFAULTS.kick),
    redact: intOr(c?.["redact"], POWER_LEVEL_DEFAULTS.redact),
    invite: intOr(c?.["invite"], POWER_LEVEL_DEFAULTS.invite),
    notifications: Object.freeze(notifications),
    creators: Object.freeze(creators),
    fromEvent: c !== undefined,
  });
}

/**
 * A user's power level: `users[userId]`, else `users_default`. Room creators in v12+ have
 * `Infinity` (content/rooms/v12.md: "The power level of room creators is infinitely high").
 *
 * `createEvent`/`roomVersion` are optional: `pl` built by {@link powerLevelsFrom} with the create
 * event already knows the creators. Passing them here also covers levels built without it.
 */
export function userPowerLevel(
  pl: PowerLevels,
  userId: string,
  createEvent?: Pick<PDU, "sender" | "content">,
  roomVersion?: string,
): number {
  if (pl.creators.includes(userId)) return Infinity;
  if (createEvent && roomVersion !== undefined) {
    if (roomCreators(createEvent, roomVersion).includes(userId)) return Infinity;
    if (!pl.fromEvent && !requireAuthVersionRules(roomVersion).creatorsHaveInfinitePower) {
      if (createEventCreator(createEvent, roomVersion) === userId) return CREATOR_DEFAULT_POWER_LEVEL;
    }
  }
  return Object.hasOwn(pl.users, userId) ? (pl.users[userId] as number) : pl.users_default;
}

/**
 * The *required power level* for an event type (server-server-api "Definitions"): `events[type]`,
 * else `state_default` for state events and `events_default` for the others.
 */
export function requiredLevelForEvent(pl: PowerLevels, type: string, isState: boolean): number {
  if (Object.hasOwn(pl.events, type)) return pl.events[type] as number;
  return isState ? pl.state_default : pl.events_default;
}

/**
 * Level needed to trigger a notification of the given key (e.g. `room` for `@room`).
 * The spec only defines `room` (default 50); other absent keys also get 50, like Synapse.
 */
export function notificationLevel(pl: PowerLevels, key: string): number {
  return Object.hasOwn(pl.notifications, key) ? (pl.notifications[key] as number) : POWER_LEVEL_DEFAULTS.notifications_room;
}

// ---------------------------------------------------------------------------------------------
// The m.room.power_levels authorization rules that only look at contents and levels: rule 9.1–9.3
// and 9.5–9.9 of room versions 10 and 11 (10.1–10.3 and 10.6–10.10 in v12; rule numbers returned
// here are v10/v11's, auth-rules.ts maps them). Exported so that the client API can answer
// M_BAD_JSON for malformed content before it builds an event at all.

export type PowerLevelsProblem = { rule: string; reason: string };

const TOP_LEVEL_KEYS = ["users_default", "events_default", "state_default", "ban", "redact", "kick", "invite"] as const;

/** Rules 9.1–9.3: the shape room versions 10+ require of `m.room.power_levels` content. */
export function powerLevelsContentProblem(content: Record<string, unknown>): PowerLevelsProblem | undefined {
  // 9.1 "If any of the properties users_default, events_default, state_default, ban, redact, kick,
  // or invite in content are present and not an integer, reject."
  for (const k of TOP_LEVEL_KEYS) {
    if (Object.hasOwn(content, k) && !isPowerLevelValue(content[k])) {
      return { rule: "9.1", reason: `${k} is not an integer` };
    }
  }
  // 9.2 events / notifications: objects of integers.
  for (const k of ["events", "notifications"] as const) {
    if (Object.hasOwn(content, k) && !isIntegerMap(content[k])) {
      return { rule: "9.2", reason: `${k} is not an object of integers` };
    }
  }
  // 9.3 users: valid user IDs to integers. An absent `users` passes, as Synapse reads the rule.
  if (Object.hasOwn(content, "users")) {
    const users = content["users"];
    if (!isIntegerMap(users) || !Object.keys(users).every((u) => isWellFormedUserId(u))) {
      return { rule: "9.3", reason: "users is not an object of valid user IDs to integers" };
    }
  }
  return undefined;
}

/**
 * Rules 9.5–9.9: what a sender at `senderLevel` may change between the previous content and the
 * new one. "Added, changed or removed" compares the properties as written (absent ≠ default), as
 * the rules and Synapse do. Infinity (a v12 creator) passes every comparison.
 */
export function powerLevelsChangeProblem(
  previous: Record<string, unknown>,
  next: Record<string, unknown>,
  sender: string,
  senderLevel: number,
): PowerLevelsProblem | undefined {
  // 9.5 A changed top-level level must be within the sender's reach both before and after.
  for (const k of TOP_LEVEL_KEYS) {
    const [before, after] = [levelIn(previous, k), levelIn(next, k)];
    if (before === after) continue;
    if (before !== undefined && before > senderLevel) {
      return { rule: "9.5.1", reason: `cannot change ${k} from a level above your own` };
    }
    if (after !== undefined && after > senderLevel) {
      return { rule: "9.5.2", reason: `cannot set ${k} above your own level` };
    }
  }
  // 9.6 (changed or removed: current value) and 9.7 (added or changed: new value).
  for (const group of ["events", "notifications"] as const) {
    const [oldMap, newMap] = [recordIn(previous, group), recordIn(next, group)];
    for (const key of unionKeys(oldMap, newMap)) {
      const [before, after] = [levelIn(oldMap, key), levelIn(newMap, key)];
      if (before === after) continue;
      if (before !== undefined && before > senderLevel) {
        return { rule: "9.6.1", reason: `cannot change ${group}[${key}] from a level above your own` };
      }
      if (after !== undefined && after > senderLevel) {
        return { rule: "9.7.1", reason: `cannot set ${group}[${key}] above your own level` };
      }
    }
  }
  // 9.8 Nobody touches a peer or a superior, except their own entry; 9.9 nor raises anyone above themselves.
  const [oldUsers, newUsers] = [recordIn(previous, "users"), recordIn(next, "users")];
  for (const user of unionKeys(oldUsers, newUsers)) {
    const [before, after] = [levelIn(oldUsers, user), levelIn(newUsers, user)];
    if (before === after) continue;
    if (before !== undefined && user !== sender && before >= senderLevel) {
      return { rule: "9.8.1", reason: `cannot change the level of ${user}, who is not below you` };
    }
    if (after !== undefined && after > senderLevel) {
      return { rule: "9.9.1", reason: `cannot raise ${user} above your own level` };
    }
  }
  return undefined;
}

function isIntegerMap(v: unknown): v is Record<string, number> {
  return isRecord(v) && Object.values(v).every((x) => isPowerLevelValue(x));
}

function recordIn(obj: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = Object.hasOwn(obj, key) ? obj[key] : undefined;
  return isRecord(v) ? v : {};
}

/** A level present in `obj` (own property holding an integer), else undefined ("absent"). */
function levelIn(obj: Record<string, unknown>, key: string): number | undefined {
  if (!Object.hasOwn(obj, key)) return undefined;
  const v = obj[key];
  return isPowerLevelValue(v) ? v : undefined;
}

function unionKeys(a: Record<string, unknown>, b: Record<string, unknown>): Set<string> {
  return new Set([...Object.keys(a), ...Object.keys(b)]);
}

// ---------------------------------------------------------------------------------------------

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function intOr(v: unknown, fallback: number): number {
  return isPowerLevelValue(v) ? v : fallback;
}

/** Copies the integer-valued entries into a prototype-less record (so `__proto__` is just a key). */
function intMap(v: unknown): Record<string, number> {
  const out = Object.create(null) as Record<string, number>;
  if (!isRecord(v)) return out;
  for (const [k, val] of Object.entries(v)) if (isPowerLevelValue(val)) out[k] = val;
  return out;
}
