/**
 * Event ids and (room version 12) room ids derived from reference hashes.
 */
import { encodeUnpaddedUrlSafeBase64 } from "./base64.js";
import { computeReferenceHash } from "./hashes.js";
import { getRoomVersion } from "./room-versions.js";

/**
 * The event id of `event` in a room of `roomVersion`: `$` + URL-safe unpadded Base64 of the
 * reference hash (content/rooms/fragments/v4-event-ids.md, unchanged through v12). Any
 * `event_id` already on the event is part of the hashed data if the redaction algorithm keeps it,
 * exactly as other servers compute it, so do not strip or add one before calling.
 */
export function eventIdFor(event: Record<string, unknown>, roomVersion: string): string {
  return `$${encodeUnpaddedUrlSafeBase64(computeReferenceHash(event, roomVersion))}`;
}

/**
 * The room id a room-version-12 `m.room.create` event founds: its event id with the sigil `!`
 * instead of `$` (appendix "Room IDs"; v12 auth rules 1.2 and 2).
 *
 * The version is read from the event's own `content.room_version`, since that is what defines
 * the room; we refuse (throw) when it is absent, unknown, or a version whose rooms carry a server
 * name in their id, and when the event is not a create event or carries a `room_id` (which v12
 * auth rule 1.2 rejects, so no room could have that id).
 */
export function roomIdForCreateEvent(createEvent: Record<string, unknown>): string {
  if (createEvent.type !== "m.room.create") throw new Error("roomIdForCreateEvent: not an m.room.create event");
  if (Object.hasOwn(createEvent, "room_id")) {
    throw new Error("roomIdForCreateEvent: create events of hashed-room-id versions must not have a room_id");
  }
  const content = createEvent.content;
  const versionId =
    typeof content === "object" && content !== null ? (content as Record<string, unknown>).room_version : undefined;
  if (typeof versionId !== "string") throw new Error("roomIdForCreateEvent: content.room_version is missing");
  const version = getRoomVersion(versionId);
  if (!version) throw new Error("roomIdForCreateEvent: unsupported room version");
  if (version.createEventHasRoomId) {
    throw new Error(`roomIdForCreateEvent: room version ${version.id} room ids are not derived from the create event`);
  }
  return `!${encodeUnpaddedUrlSafeBase64(computeReferenceHash(createEvent, version.id))}`;
}
