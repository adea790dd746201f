// The published room directory (client-server API "Published room directory"): which rooms are
// listed, who may list them, and /publicRooms with search, room types and pagination. Publication
// is a flag on the room (rooms.is_public), not room state: it is this server's directory, and
// changing it writes no event.
import type { Storage } from "../storage/database.js";
import { roomsRepo } from "../storage/rooms.js";
import { directoryRepo } from "../storage/directory.js";
import { stateKey, type PDU } from "../matrix/pdu.js";
import { powerLevelsFrom, requiredLevelForEvent, userPowerLevel } from "../matrix/power-levels.js";
import { isValidRoomId, isValidServerName } from "../matrix/identifiers.js";
import { forbidden, invalidParam, notFound } from "../http/errors.js";
import type { RoomWriter } from "./writer.js";
import { DESCRIPTIVE_STATE_TYPES, describeRoom, type RoomDescription } from "./summary.js";

export type DirectoryVisibility = "public" | "private";

export interface PublicRoomsQuery {
  limit?: number;
  since?: string;
  /** The `server` query parameter: the directory of which server. */
  server?: string;
  filter?: { generic_search_term?: string; room_types?: Array<string | null> };
  include_all_networks?: boolean;
  third_party_instance_id?: string;
}

export interface PublicRoomsResponse {
  chunk: RoomDescription[];
  next_batch?: string;
  prev_batch?: string;
  total_room_count_estimate: number;
}

/** Rooms per page when the client gives no limit, and the most we return at once. */
export const DEFAULT_PUBLIC_ROOMS_LIMIT = 100;
export const MAX_PUBLIC_ROOMS_LIMIT = 500;

/** Tchap's access rules state event (reference/government-model.md "Room access rules"). */
const ACCESS_RULES = "im.vector.room.access_rules";

/** A position in the directory's order: most joined members first, then room id. */
interface Key {
  count: number;
  roomId: string;
}

const compare = (a: Key, b: Key): number => b.count - a.count || (a.roomId < b.roomId ? -1 : a.roomId > b.roomId ? 1 : 0);
const keyOf = (d: RoomDescription): Key => ({ count: d.num_joined_members, roomId: d.room_id });

/** Pagination tokens name a position, not an offset, so pages stay stable as rooms come and go. */
function encodeToken(dir: "f" | "b", k: Key): string {
  return Buffer.from(JSON.stringify([dir, k.count, k.roomId]), "utf8").toString("base64url");
}

function decodeToken(token: string): { dir: "f" | "b"; key: Key } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalidParam("Invalid pagination token");
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw invalidParam("Invalid pagination token");
  const [dir, count, roomId] = parsed as unknown[];
  if ((dir !== "f" && dir !== "b") || !Number.isSafeInteger(count) || typeof roomId !== "string") throw invalidParam("Invalid pagination token");
  return { dir, key: { count: count as number, roomId } };
}

const fold = (s: string): string => s.normalize("NFKC").toLowerCase();

export class RoomDirectory {
  private readonly rooms;
  private readonly repo;

  constructor(
    storage: Storage,
    private readonly writer: RoomWriter,
    private readonly serverName: string,
  ) {
    this.rooms = roomsRepo(storage.db);
    this.repo = directoryRepo(storage.db);
  }

  /** GET /directory/list/room/{roomId}. */
  async getVisibility(roomId: string): Promise<{ visibility: DirectoryVisibility }> {
    if (!isValidRoomId(roomId)) throw invalidParam("Invalid room ID");
    const room = await this.rooms.get(roomId);
    if (!room) throw notFound("Room not found");
    return { visibility: room.is_public === 1 ? "public" : "private" };
  }

  /**
   * PUT /directory/list/room/{roomId}. The spec lets servers restrict who may change this ("for
   * instance ... only by the room creator or a server administrator"). Our rule: a server admin,
   * or a member joined to the room whose power level reaches both the level to send
   * `m.room.canonical_alias` and `state_default`, i.e. someone who may already change how the room
   * is advertised and its state in general (with Tchap's state_default of 100: the room's
   * admins). Publishing and unpublishing follow the same rule.
   *
   * Government model: a room whose access rule is not `restricted` (open to externals, or a DM)
   * is never published ("only restricted rooms can be published").
   */
  async setVisibility(who: { userId: string; isAdmin?: boolean }, roomId: string, visibility: DirectoryVisibility): Promise<void> {
    if (!isValidRoomId(roomId)) throw invalidParam("Invalid room ID");
    const snap = await this.writer.snapshot(roomId);
    if (!who.isAdmin) {
      if (snap.state.get(stateKey("m.room.member", who.userId))?.content.membership !== "join") throw forbidden("You are not in this room");
      const pl = powerLevelsFrom(snap.state.get(stateKey("m.room.power_levels", ""))?.content, snap.createEvent, snap.version);
      const need = Math.max(requiredLevelForEvent(pl, "m.room.canonical_alias", true), pl.state_default);
      if (userPowerLevel(pl, who.userId) < need) throw forbidden("Only the room's administrators may change its visibility in the directory");
    }
    if (visibility === "public") {
      const rule = snap.state.get(stateKey(ACCESS_RULES, ""))?.content.rule;
      if (rule !== undefined && rule !== "restricted") throw forbidden("Only rooms closed to external users can be published");
    }
    await this.rooms.setPublic(roomId, visibility === "public");
  }

  /** Room upgrades: the replacement room takes the old one's place in the directory. */
  async transferPublication(from: string, to: string): Promise<void> {
    const room = await this.rooms.get(from);
    if (room?.is_public !== 1) return;
    await this.rooms.setPublic(to, true);
    await this.rooms.setPublic(from, false);
  }

  /** GET and POST /publicRooms. */
  async publicRooms(q: PublicRoomsQuery): Promise<PublicRoomsResponse> {
    if (q.server !== undefined && q.server !== this.serverName) {
      if (!isValidServerName(q.server)) throw invalidParam("Invalid server name");
      // Other servers' directories are fetched over federation, which this server does not do.
      throw notFound(`Cannot reach the directory of ${q.server}: federation is not enabled`);
    }
    // Third-party networks come from application services; we have none, so such a network is empty.
    if (q.third_party_instance_id !== undefined) return { chunk: [], total_room_count_estimate: 0 };
    const limit = q.limit ?? DEFAULT_PUBLIC_ROOMS_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1) throw invalidParam("limit must be a positive integer");
    const since = q.since !== undefined && q.since !== "" ? decodeToken(q.since) : undefined;

    const all = (await this.listing()).filter(matches(q.filter));
    const n = all.length;
    let start: number;
    let end: number;
    if (!since) {
      start = 0;
      end = Math.min(limit, n);
    } else if (since.dir === "f") {
      start = countWhile(all, (d) => compare(keyOf(d), since.key) <= 0);
      end = Math.min(start + limit, n);
    } else {
      end = countWhile(all, (d) => compare(keyOf(d), since.key) < 0);
      start = Math.max(0, end - limit);
    }
    const chunk = all.slice(start, end);
    const res: PublicRoomsResponse = { chunk, total_room_count_estimate: n };
    // A boundary is named by the room on its near side, or by the request's own position when the
    // page is empty.
    if (end < n) {
      const k = end > start ? keyOf(all[end - 1]!) : since?.key;
      if (k) res.next_batch = encodeToken("f", k);
    }
    if (start > 0) {
      const k = end > start ? keyOf(all[start]!) : since?.key;
      if (k) res.prev_batch = encodeToken("b", k);
    }
    return res;
  }

  /**
   * Every listed room, in order. The spec lets servers filter further ("automatically excluding
   * rooms with invite join rules that are not world_readable regardless of their visibility"): we
   * do, since listing a room nobody can join or read only discloses its name and topic.
   */
  private async listing(): Promise<RoomDescription[]> {
    const [rows, counts] = await Promise.all([this.repo.publishedRoomsState([...DESCRIPTIVE_STATE_TYPES]), this.repo.publishedJoinedCounts()]);
    const byRoom = new Map<string, Map<string, Record<string, unknown>>>();
    for (const r of rows) {
      let m = byRoom.get(r.room_id);
      if (!m) byRoom.set(r.room_id, (m = new Map()));
      m.set(r.type, (JSON.parse(r.json) as PDU).content ?? {});
    }
    const out: RoomDescription[] = [];
    for (const [roomId, state] of byRoom) {
      const d = describeRoom(roomId, (t) => state.get(t), counts.get(roomId) ?? 0);
      if ((d.join_rule === "invite" || d.join_rule === "private") && !d.world_readable) continue;
      out.push(d);
    }
    return out.sort((a, b) => compare(keyOf(a), keyOf(b)));
  }
}

function countWhile<T>(xs: T[], pred: (x: T) => boolean): number {
  let i = 0;
  while (i < xs.length && pred(xs[i]!)) i++;
  return i;
}

/**
 * The POST filter: `generic_search_term` matches name, topic, canonical alias or room id
 * (case-insensitively, compatibility-normalised); `room_types` lists the wanted types, `null`
 * standing for rooms without one (spec v1.4).
 */
function matches(filter: PublicRoomsQuery["filter"]): (d: RoomDescription) => boolean {
  const term = filter?.generic_search_term?.trim();
  const needle = term ? fold(term) : undefined;
  // An empty list filters nothing, like an absent one (as Synapse reads it).
  const types = filter?.room_types?.length ? filter.room_types : undefined;
  return (d) => {
    if (types !== undefined && !types.includes(d.room_type ?? null)) return false;
    if (needle === undefined) return true;
    if (d.room_id === term) return true;
    return [d.name, d.topic, d.canonical_alias].some((s) => s !== undefined && fold(s).includes(needle));
  };
}
