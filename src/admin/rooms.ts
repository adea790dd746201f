// Admin operations on rooms (Synapse admin API "Rooms"): list, details, members, state, block, and
// delete (shutdown: everyone leaves through the room writer, optionally into a replacement room
// with a message; then block and purge). The v2 delete runs in the background with a status.
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { Storage } from "../storage/database.js";
import { adminRoomsRepo, type RoomCounts } from "../storage/admin-rooms.js";
import { eventsRepo } from "../storage/events.js";
import { roomsRepo, type RoomRow } from "../storage/rooms.js";
import { usersRepo } from "../storage/users.js";
import type { PDU } from "../matrix/pdu.js";
import { isValidRoomId, parseUserId } from "../matrix/identifiers.js";
import { MatrixError, invalidParam, notFound } from "../http/errors.js";
import type { RoomWriter } from "../rooms/writer.js";
import type { Membership } from "../rooms/membership.js";
import type { Rooms } from "../rooms/rooms.js";

export const ROOM_ORDERS = [
  "name",
  "canonical_alias",
  "joined_members",
  "joined_local_members",
  "version",
  "creator",
  "encryption",
  "federatable",
  "public",
  "join_rules",
  "guest_access",
  "history_visibility",
  "state_events",
  // Deprecated Synapse aliases of name and joined_members.
  "alphabetical",
  "size",
] as const;
export type RoomOrder = (typeof ROOM_ORDERS)[number];

export interface RoomListQuery {
  from: number;
  limit: number;
  orderBy: RoomOrder;
  dir: "f" | "b";
  searchTerm?: string;
}

export interface DeleteRoomOptions {
  new_room_user_id?: string;
  room_name?: string;
  message?: string;
  block?: boolean;
  purge?: boolean;
  force_purge?: boolean;
}

export interface ShutdownResult {
  kicked_users: string[];
  failed_to_kick_users: string[];
  local_aliases: string[];
  new_room_id: string | null;
}

export interface DeleteStatus {
  delete_id: string;
  room_id: string;
  status: "scheduled" | "active" | "complete" | "failed";
  error?: string;
  shutdown_room: ShutdownResult;
}

const DEFAULT_ROOM_NAME = "Content Violation Notification";
const DEFAULT_MESSAGE = "Sharing illegal content on this server is not permitted and rooms in violation will be blocked.";
/** Finished v2 deletions are kept this long for their status (Synapse: 24 h, also in memory). */
const STATUS_TTL_MS = 24 * 3600 * 1000;

type RoomSummary = ReturnType<AdminRooms["summaryOf"]>;

export class AdminRooms {
  private readonly repo;
  private readonly events;
  private readonly rooms;
  private readonly users;
  private deletions = new Map<string, DeleteStatus & { finished_ts?: number }>();

  constructor(
    private readonly storage: Storage,
    private readonly serverName: string,
    private readonly writer: RoomWriter,
    private readonly membership: Membership,
    private readonly roomService: Rooms,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {
    this.repo = adminRoomsRepo(storage.db);
    this.events = eventsRepo(storage.db);
    this.rooms = roomsRepo(storage.db);
    this.users = usersRepo(storage.db);
  }

  checkRoomId(roomId: string): void {
    if (!isValidRoomId(roomId)) throw invalidParam("Invalid room ID");
  }

  private summaryOf(room: RoomRow, state: Map<string, Record<string, unknown>>, counts: RoomCounts | undefined, blocked: boolean) {
    const str = (type: string, key: string) => {
      const v = state.get(type)?.[key];
      return typeof v === "string" ? v : null;
    };
    return {
      room_id: room.room_id,
      name: str("m.room.name", "name"),
      topic: str("m.room.topic", "topic"),
      avatar: str("m.room.avatar", "url"),
      canonical_alias: str("m.room.canonical_alias", "alias"),
      joined_members: counts?.joined ?? 0,
      joined_local_members: counts?.joinedLocal ?? 0,
      version: room.room_version,
      creator: room.creator,
      encryption: str("m.room.encryption", "algorithm"),
      // This server does not federate yet; m.federate in the create event says what the room allows.
      federatable: state.get("m.room.create")?.["m.federate"] !== false,
      public: room.is_public === 1,
      join_rules: str("m.room.join_rules", "join_rule"),
      guest_access: str("m.room.guest_access", "guest_access"),
      history_visibility: str("m.room.history_visibility", "history_visibility"),
      state_events: counts?.stateEvents ?? 0,
      room_type: str("m.room.create", "type"),
      blocked,
    };
  }

  private async summaries(rooms: RoomRow[]): Promise<RoomSummary[]> {
    const ids = rooms.length > 500 ? undefined : rooms.map((r) => r.room_id);
    const state = new Map<string, Map<string, Record<string, unknown>>>();
    for (const s of await this.repo.summaryState(ids)) {
      const content = ((JSON.parse(s.json) as PDU).content ?? {}) as Record<string, unknown>;
      if (!state.has(s.room_id)) state.set(s.room_id, new Map());
      state.get(s.room_id)!.set(s.type, content);
    }
    const counts = await this.repo.counts(`:${this.serverName}`, ids);
    return rooms.map((r) => this.summaryOf(r, state.get(r.room_id) ?? new Map(), counts.get(r.room_id), r.blocked === 1));
  }

  /**
   * GET /v1/rooms. Sorted in memory after three grouped queries: fine for the thousands of rooms
   * of one administration; a SQL-side sort is the next step beyond that.
   */
  async list(q: RoomListQuery) {
    let rooms = await this.summaries(await this.repo.all());
    if (q.searchTerm) {
      const t = q.searchTerm.toLowerCase();
      rooms = rooms.filter((r) => r.room_id === q.searchTerm || (r.name ?? "").toLowerCase().includes(t) || (r.canonical_alias ?? "").toLowerCase().includes(t));
    }
    const key = q.orderBy === "alphabetical" ? "name" : q.orderBy === "size" ? "joined_members" : q.orderBy;
    // Synapse sorts sizes largest first and names A→Z for dir=f.
    const numeric = key === "joined_members" || key === "joined_local_members" || key === "state_events";
    const sign = (q.dir === "b" ? -1 : 1) * (numeric ? -1 : 1);
    rooms.sort((a, b) => sign * compare(a[key], b[key]) || a.room_id.localeCompare(b.room_id));
    const total = rooms.length;
    const page = rooms.slice(q.from, q.from + q.limit);
    const out: Record<string, unknown> = { rooms: page, offset: q.from, total_rooms: total };
    if (q.from + page.length < total) out.next_batch = q.from + page.length;
    if (q.from > 0) out.prev_batch = Math.max(0, q.from - q.limit);
    return out;
  }

  private async room(roomId: string): Promise<RoomRow> {
    this.checkRoomId(roomId);
    const r = await this.rooms.get(roomId);
    if (!r) throw notFound("Room not found");
    return r;
  }

  async details(roomId: string) {
    const [summary] = await this.summaries([await this.room(roomId)]);
    return { ...summary!, joined_local_devices: await this.repo.joinedLocalDevices(roomId), forgotten: false };
  }

  async members(roomId: string) {
    await this.room(roomId);
    const members = (await this.events.members(roomId, ["join"])).map((m) => m.user_id).sort();
    return { members, total: members.length };
  }

  async state(roomId: string) {
    await this.room(roomId);
    const state = (await this.events.currentState(roomId)).map((s) => {
      const pdu = JSON.parse(s.json) as PDU;
      return { event_id: s.event_id, room_id: roomId, type: pdu.type, state_key: pdu.state_key, sender: pdu.sender, content: pdu.content, origin_server_ts: pdu.origin_server_ts, unsigned: {} };
    });
    return { state };
  }

  /** GET /v1/rooms/{roomId}/block: works for rooms this server has never seen, as in Synapse. */
  async blockStatus(roomId: string) {
    this.checkRoomId(roomId);
    const b = await this.repo.blocked(roomId);
    return b ? { block: true, user_id: b.user_id } : { block: false };
  }

  async setBlocked(admin: string, roomId: string, block: boolean): Promise<void> {
    this.checkRoomId(roomId);
    if (block) await this.repo.block(roomId, admin, this.now());
    else await this.repo.unblock(roomId);
  }

  /** DELETE /v1/rooms/{roomId}: the whole shutdown, synchronously. */
  async deleteRoom(admin: string, roomId: string, opts: DeleteRoomOptions, progress?: (status: DeleteStatus["status"]) => void): Promise<ShutdownResult> {
    this.checkRoomId(roomId);
    const result: ShutdownResult = { kicked_users: [], failed_to_kick_users: [], local_aliases: [], new_room_id: null };
    if (opts.new_room_user_id !== undefined) await this.checkNewRoomUser(opts.new_room_user_id);
    const exists = (await this.rooms.get(roomId)) !== undefined;
    if (!exists && !opts.block) throw notFound("Room not found");
    progress?.("active");
    // Block first: nobody may (re)join while everyone is being removed.
    if (opts.block) await this.setBlocked(admin, roomId, true);
    if (!exists) return result;

    if (opts.new_room_user_id !== undefined) {
      const created = await this.roomService.create(
        { userId: opts.new_room_user_id, deviceId: "" },
        { preset: "public_chat", name: opts.room_name ?? DEFAULT_ROOM_NAME, power_level_content_override: { users_default: -10 } },
      );
      result.new_room_id = created.room_id;
      await this.writer.send(created.room_id, {
        type: "m.room.message",
        sender: opts.new_room_user_id,
        content: { msgtype: "m.text", body: opts.message ?? DEFAULT_MESSAGE },
      });
    }

    const local = (u: string) => parseUserId(u, { historical: true })?.serverName === this.serverName;
    for (const m of await this.events.members(roomId, ["join", "invite", "knock"])) {
      if (!local(m.user_id)) continue;
      try {
        // The user's own leave (or invite rejection), through the room writer: always allowed by
        // the authorization rules, whatever the room's power levels.
        await this.membership.leave(m.user_id, roomId, { reason: "This room has been shut down by the server administrators" });
        result.kicked_users.push(m.user_id);
        if (result.new_room_id && m.membership === "join" && m.user_id !== opts.new_room_user_id) {
          await this.membership.join(m.user_id, result.new_room_id).catch((e: unknown) => this.log.warn({ err: e, user_id: m.user_id }, "could not join the replacement room"));
        }
      } catch (e) {
        this.log.warn({ err: e, user_id: m.user_id, room_id: roomId }, "could not remove a user from a room being deleted");
        result.failed_to_kick_users.push(m.user_id);
      }
    }

    for (const { alias } of await this.rooms.aliasesOf(roomId)) {
      result.local_aliases.push(alias);
      await this.rooms.deleteAlias(alias);
      if (result.new_room_id) await this.rooms.insertAlias({ alias, room_id: result.new_room_id, creator: opts.new_room_user_id!, created_ts: this.now() });
    }

    if (opts.purge ?? true) {
      await this.writer.exclusive(roomId, async () => {
        // Checked under the room's write lock: nobody can join between this check and the purge
        // (a block stops new joins for good; without one, a join during the kicks is caught here).
        const still = (await this.events.members(roomId, ["join"])).map((m) => m.user_id).filter(local);
        if (still.length > 0 && !opts.force_purge) {
          throw new MatrixError(400, "M_UNKNOWN", `Local users are still joined to this room (${still.join(", ")}): not purged; retry, or use force_purge`);
        }
        await this.repo.purgeRoom(roomId, this.storage.dialect);
      });
    }
    return result;
  }

  private async checkNewRoomUser(userId: string): Promise<void> {
    const p = parseUserId(userId, { historical: true });
    if (!p || p.serverName !== this.serverName) throw invalidParam("new_room_user_id must be a local user");
    const u = await this.users.get(userId);
    if (!u || u.deactivated) throw notFound("new_room_user_id: unknown user");
  }

  /** DELETE /v2/rooms/{roomId}: starts the deletion in the background and returns its id. */
  async startDelete(admin: string, roomId: string, opts: DeleteRoomOptions): Promise<string> {
    this.checkRoomId(roomId);
    this.expireStatuses();
    for (const d of this.deletions.values()) {
      if (d.room_id === roomId && (d.status === "scheduled" || d.status === "active")) throw new MatrixError(400, "M_UNKNOWN", "A deletion of this room is already in progress");
    }
    if (opts.new_room_user_id !== undefined) await this.checkNewRoomUser(opts.new_room_user_id);
    if (!opts.block && !(await this.rooms.get(roomId))) throw notFound("Room not found");
    const deleteId = randomBytes(12).toString("base64url");
    const status: DeleteStatus & { finished_ts?: number } = {
      delete_id: deleteId,
      room_id: roomId,
      status: "scheduled",
      shutdown_room: { kicked_users: [], failed_to_kick_users: [], local_aliases: [], new_room_id: null },
    };
    this.deletions.set(deleteId, status);
    setImmediate(() => {
      this.deleteRoom(admin, roomId, opts, (s) => (status.status = s))
        .then((r) => {
          status.shutdown_room = r;
          status.status = "complete";
        })
        .catch((e: unknown) => {
          status.status = "failed";
          status.error = e instanceof MatrixError ? e.message : "Internal error";
          if (!(e instanceof MatrixError)) this.log.error({ err: e, room_id: roomId }, "room deletion failed");
        })
        .finally(() => (status.finished_ts = this.now()));
    });
    return deleteId;
  }

  deleteStatusesOf(roomId: string): { results: DeleteStatus[] } {
    this.checkRoomId(roomId);
    this.expireStatuses();
    const results = [...this.deletions.values()].filter((d) => d.room_id === roomId).map(publicStatus);
    if (results.length === 0) throw notFound("No delete task for room");
    return { results };
  }

  deleteStatus(deleteId: string): Omit<DeleteStatus, "delete_id" | "room_id"> {
    this.expireStatuses();
    const d = this.deletions.get(deleteId);
    if (!d) throw notFound("Delete id not found");
    const { delete_id: _id, room_id: _room, ...rest } = publicStatus(d);
    return rest;
  }

  /** Resolves when no v2 deletion is running (tests, graceful shutdown). */
  async idle(): Promise<void> {
    while ([...this.deletions.values()].some((d) => d.status === "scheduled" || d.status === "active")) await new Promise((r) => setTimeout(r, 10));
  }

  private expireStatuses(): void {
    const t = this.now();
    for (const [id, d] of this.deletions) if (d.finished_ts !== undefined && d.finished_ts < t - STATUS_TTL_MS) this.deletions.delete(id);
  }
}

function publicStatus(d: DeleteStatus & { finished_ts?: number }): DeleteStatus {
  const out: DeleteStatus = { delete_id: d.delete_id, room_id: d.room_id, status: d.status, shutdown_room: d.shutdown_room };
  if (d.error !== undefined) out.error = d.error;
  return out;
}

function compare(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return 1;
  if (b === null || b === undefined) return -1;
  if (typeof a === "number" && typeof b === "number") return a - b;
  if (typeof a === "boolean" && typeof b === "boolean") return Number(a) - Number(b);
  return String(a).localeCompare(String(b));
}
