// Describing a room to people who may not be in it: the entries of the published room directory
// (data/api/client-server/definitions/public_rooms_chunk.yaml) and the room summary of
// GET /_matrix/client/v1/room_summary/{roomIdOrAlias} (client-server API "Room Summaries", v1.15),
// which extends the same fields. Both are built from the same few state events here.
import type { Storage } from "../storage/database.js";
import { roomsRepo } from "../storage/rooms.js";
import { eventsRepo } from "../storage/events.js";
import { directoryRepo } from "../storage/directory.js";
import { stateKey } from "../matrix/pdu.js";
import { isValidRoomAlias, isValidRoomId } from "../matrix/identifiers.js";
import { MatrixError, invalidParam, notFound } from "../http/errors.js";
import type { RoomWriter } from "./writer.js";

/** The state events a description reads (all with state key ""). */
export const DESCRIPTIVE_STATE_TYPES = [
  "m.room.create",
  "m.room.name",
  "m.room.topic",
  "m.room.avatar",
  "m.room.canonical_alias",
  "m.room.join_rules",
  "m.room.history_visibility",
  "m.room.guest_access",
  "m.room.encryption",
] as const;

/** A PublishedRoomsChunk. */
export interface RoomDescription {
  room_id: string;
  name?: string;
  topic?: string;
  canonical_alias?: string;
  num_joined_members: number;
  world_readable: boolean;
  guest_can_join: boolean;
  join_rule: string;
  avatar_url?: string;
  room_type?: string;
}

export interface RoomSummary extends RoomDescription {
  allowed_room_ids?: string[];
  encryption?: string;
  room_version: string;
  membership: string;
}

type Content = Record<string, unknown> | undefined;
/** Reads the content of a state event with state key "" (undefined when the room has none). */
export type StateLookup = (type: string) => Content;

const nonEmpty = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/**
 * The plain-text topic: `topic`, else the `text/plain` representation of `m.topic` (m.room.topic
 * schema, v1.15); omitted when there is none (public_rooms_chunk.yaml `topic`).
 */
function plainTopic(content: Content): string | undefined {
  const t = nonEmpty(content?.topic);
  if (t !== undefined) return t;
  const block = content?.["m.topic"] as { "m.text"?: unknown } | undefined;
  const texts = Array.isArray(block?.["m.text"]) ? (block!["m.text"] as Array<Record<string, unknown>>) : [];
  // A representation without mimetype is text/plain (m.text content block).
  const plain = texts.find((r) => r && (r.mimetype === undefined || r.mimetype === "text/plain"));
  return nonEmpty(plain?.body);
}

/**
 * The room's join rule. Without an m.room.join_rules event nobody can join uninvited (auth rules:
 * only a `public` rule admits a join), so we say `invite` rather than the chunk schema's "assumed
 * public" default, which would misdescribe the room.
 */
export function joinRuleOf(lookup: StateLookup): string {
  return nonEmpty(lookup("m.room.join_rules")?.join_rule) ?? "invite";
}

export function describeRoom(roomId: string, lookup: StateLookup, joinedMembers: number): RoomDescription {
  const d: RoomDescription = {
    room_id: roomId,
    num_joined_members: joinedMembers,
    world_readable: lookup("m.room.history_visibility")?.history_visibility === "world_readable",
    guest_can_join: lookup("m.room.guest_access")?.guest_access === "can_join",
    join_rule: joinRuleOf(lookup),
  };
  const name = nonEmpty(lookup("m.room.name")?.name);
  if (name !== undefined) d.name = name;
  const topic = plainTopic(lookup("m.room.topic"));
  if (topic !== undefined) d.topic = topic;
  const alias = nonEmpty(lookup("m.room.canonical_alias")?.alias);
  if (alias !== undefined) d.canonical_alias = alias;
  const avatar = nonEmpty(lookup("m.room.avatar")?.url);
  if (avatar !== undefined && avatar.startsWith("mxc://")) d.avatar_url = avatar;
  const type = nonEmpty(lookup("m.room.create")?.type);
  if (type !== undefined) d.room_type = type;
  return d;
}

/** Rooms named by `m.room_membership` allow entries of a restricted join rule ("Restricted rooms"). */
export function allowedRoomIds(lookup: StateLookup): string[] {
  const allow = lookup("m.room.join_rules")?.allow;
  if (!Array.isArray(allow)) return [];
  return allow
    .filter((a): a is Record<string, unknown> => typeof a === "object" && a !== null && a.type === "m.room_membership" && typeof a.room_id === "string")
    .map((a) => a.room_id as string);
}

export class RoomSummaries {
  private readonly rooms;
  private readonly events;
  private readonly directory;

  constructor(
    storage: Storage,
    private readonly writer: RoomWriter,
  ) {
    this.rooms = roomsRepo(storage.db);
    this.events = eventsRepo(storage.db);
    this.directory = directoryRepo(storage.db);
  }

  /**
   * GET /room_summary/{roomIdOrAlias}. Visible when the requester is joined, invited or knocking,
   * or could join or knock (public, knock, knock_restricted, or restricted with a membership of an
   * allowed room), or the history is world_readable: the rooms the spec's space hierarchy returns
   * ("The server should return any rooms where at least one of the following conditions is
   * true"). Otherwise 404 exactly as for an unknown room, the only error the endpoint defines, so
   * that the answer is no oracle of which private rooms exist.
   */
  async summary(userId: string, roomIdOrAlias: string): Promise<RoomSummary> {
    const roomId = await this.resolve(roomIdOrAlias);
    const snap = await this.writer.snapshot(roomId).catch((e: unknown) => {
      if (e instanceof MatrixError && e.status === 404) throw notFound("Room not found");
      throw e;
    });
    const lookup: StateLookup = (type) => snap.state.get(stateKey(type, ""))?.content;
    const membership = snap.state.get(stateKey("m.room.member", userId))?.content.membership;
    const joinRule = joinRuleOf(lookup);
    const allowed = joinRule === "restricted" || joinRule === "knock_restricted" ? allowedRoomIds(lookup) : [];
    if (!(await this.isVisible(userId, lookup, membership, joinRule, allowed))) throw notFound("Room not found");

    const summary: RoomSummary = {
      ...describeRoom(roomId, lookup, await this.directory.joinedCount(roomId)),
      room_version: snap.version,
      // "Absent if the API was called unauthenticated": we always authenticate, so always present.
      membership: typeof membership === "string" ? membership : "leave",
    };
    if (allowed.length) summary.allowed_room_ids = allowed;
    const algorithm = nonEmpty(lookup("m.room.encryption")?.algorithm);
    if (algorithm !== undefined) summary.encryption = algorithm;
    return summary;
  }

  private async isVisible(userId: string, lookup: StateLookup, membership: unknown, joinRule: string, allowed: string[]): Promise<boolean> {
    if (membership === "join" || membership === "invite" || membership === "knock") return true;
    if (joinRule === "public" || joinRule === "knock" || joinRule === "knock_restricted") return true;
    if (lookup("m.room.history_visibility")?.history_visibility === "world_readable") return true;
    if (joinRule === "restricted" && allowed.length) {
      const joined = new Set((await this.events.roomsForUser(userId, ["join"])).map((r) => r.room_id));
      return allowed.some((r) => joined.has(r));
    }
    return false;
  }

  private async resolve(roomIdOrAlias: string): Promise<string> {
    if (roomIdOrAlias.startsWith("#")) {
      if (!isValidRoomAlias(roomIdOrAlias)) throw invalidParam("Invalid room alias");
      const a = await this.rooms.getAlias(roomIdOrAlias);
      if (!a) throw notFound("Room not found");
      return a.room_id;
    }
    if (!isValidRoomId(roomIdOrAlias)) throw invalidParam("Invalid room ID or alias");
    return roomIdOrAlias;
  }
}
