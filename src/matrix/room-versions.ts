/**
 * The room versions Rempart speaks (content/rooms/v10.md, v11.md, v12.md) and the per-version
 * switches the rest of the protocol core reads, so that no caller compares version strings.
 * Versions 1–9 are not supported: they need event-id formats, redaction rules and stringly-typed
 * power levels that we would never use to create a room.
 */

export type RoomVersionId = "10" | "11" | "12";

export interface RoomVersion {
  readonly id: RoomVersionId;
  /**
   * Which redaction algorithm applies: "v10" is the fragment introduced by room version 9 and
   * inherited by 10; "v11" is the clarified algorithm of room version 11, kept by 12.
   */
  readonly redaction: "v10" | "v11";
  /** `knock` membership and join rule exist (room version 7+). */
  readonly knockAllowed: boolean;
  /** The `restricted` join rule and `join_authorised_via_users_server` exist (8+, fixed in 9). */
  readonly restrictedJoins: boolean;
  /** The `knock_restricted` join rule exists (10+). */
  readonly knockRestricted: boolean;
  /** Power levels must be JSON integers, never numeric strings (10+). */
  readonly integerPowerLevels: boolean;
  /**
   * The creator is the create event's `sender`; `content.creator` is gone and no longer required
   * by auth rule 1 (11+). In v10 the first-join rule compares with `content.creator`.
   */
  readonly implicitRoomCreator: boolean;
  /** `m.room.redaction` carries `redacts` in `content` rather than at the top level (11+). */
  readonly redactsInContent: boolean;
  /**
   * The `m.room.create` event carries a `room_id` (up to 11). In 12 it must not: the room id is
   * derived from the create event's reference hash, and the create event is not an auth event.
   */
  readonly createEventHasRoomId: boolean;
  /**
   * Room creators (create `sender` plus `content.additional_creators`) have infinite power and may
   * not appear in `m.room.power_levels` `users` (12+).
   */
  readonly creatorsHavePower: boolean;
  /** State resolution algorithm: v2 (rooms 2–11) or v2.1 (12, starts from an empty state map). */
  readonly stateResolution: "v2" | "v2.1";
  /** Listed as stable in content/rooms/_index.md. */
  readonly stable: boolean;
}

const V10: RoomVersion = Object.freeze({
  id: "10",
  redaction: "v10",
  knockAllowed: true,
  restrictedJoins: true,
  knockRestricted: true,
  integerPowerLevels: true,
  implicitRoomCreator: false,
  redactsInContent: false,
  createEventHasRoomId: true,
  creatorsHavePower: false,
  stateResolution: "v2",
  stable: true,
});

const V11: RoomVersion = Object.freeze({
  ...V10,
  id: "11",
  redaction: "v11",
  implicitRoomCreator: true,
  redactsInContent: true,
});

const V12: RoomVersion = Object.freeze({
  ...V11,
  id: "12",
  createEventHasRoomId: false,
  creatorsHavePower: true,
  stateResolution: "v2.1",
});

const VERSIONS: ReadonlyMap<string, RoomVersion> = new Map([
  ["10", V10],
  ["11", V11],
  ["12", V12],
]);

/** Versions we can join and create, oldest first. */
export const SUPPORTED_ROOM_VERSIONS: readonly RoomVersionId[] = Object.freeze(["10", "11", "12"]);

/** content/rooms/_index.md: "Servers SHOULD use room version 12 as the default". */
export const DEFAULT_ROOM_VERSION: RoomVersionId = "12";

/** The version's rules, or undefined when we do not support it (callers decide how to refuse). */
export function getRoomVersion(id: string): RoomVersion | undefined {
  return VERSIONS.get(id);
}

export function isSupportedRoomVersion(id: unknown): id is RoomVersionId {
  return typeof id === "string" && VERSIONS.has(id);
}

/** Like {@link getRoomVersion} for code paths where an unknown version is a programming error. */
export function requireRoomVersion(id: string): RoomVersion {
  const v = VERSIONS.get(id);
  if (!v) throw new Error(`unsupported room version ${JSON.stringify(String(id).slice(0, 40))}`);
  return v;
}

/**
 * Room version grammar (content/rooms/_index.md "Room version grammar"): 1–32 code points of
 * `a-z 0-9 . -`. Useful to tell "malformed" from "well-formed but unknown" (M_UNSUPPORTED_ROOM_VERSION).
 */
export function isValidRoomVersionString(id: unknown): id is string {
  return typeof id === "string" && /^[a-z0-9.-]{1,32}$/.test(id);
}
