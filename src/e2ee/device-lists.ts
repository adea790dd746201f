// Device-list tracking (client-server API "Tracking the device list for a user"): /sync's
// device_lists.changed/left and /keys/changes. A change to a user's devices or cross-signing keys
// is one broadcast row, seen by everyone who shares a room with that user (and the user).
// A join writes two rows whatever the room's size (never one per member, which made big rooms
// quadratic): a broadcast row for the joiner (seen by everyone who now shares a room with them,
// the room's members included) and one "joined_room" row addressed to the joiner and naming the
// room, expanded at read time into the room's members. A leave makes the leaver and the members
// "left" for each other once they share no room (one row per such member: leaves are rare).
// We track every shared room, not only encrypted ones: a superset the spec allows, and a room can
// become encrypted at any time.
import type { Storage, Db } from "../storage/database.js";
import { e2eStreamsRepo, type DeviceListRow } from "../storage/e2ee-streams.js";
import { eventsRepo } from "../storage/events.js";
import type { Notifier, RoomEventNotice } from "../rooms/notifier.js";
import type { RoomWriter } from "../rooms/writer.js";
import type { MembershipChange } from "../rooms/importer.js";
import { membershipTransition } from "../matrix/pdu.js";
import type { SyncExtension, SyncResponse, SyncUser } from "../sync/sync.js";
import { E2eStream } from "./streams.js";
import type { Logger } from "pino";

export type Mark = (userId: string, observer?: string, kind?: "changed" | "left" | "joined" | "joined_room") => void;

/** Broadcast row of a join: "changed" for those sharing a room with the joiner, not for the joiner. */
const JOINED = "joined";
/** Row kind addressed to a joiner: `user_id` holds the room id, whose members it sees "changed". */
const JOINED_ROOM = "joined_room";
/** Joins written in one device-list transaction at most (two rows each, well under SQLite's bound-parameter limit). */
const JOINS_PER_WRITE = 500;

export class DeviceLists implements SyncExtension {
  readonly stream = "device_lists" as const;
  private readonly repo;
  /** Membership before and after each membership event, captured in the writer's transaction. */
  private memberships = new Map<string, { prev: string | null; now: string | null }>();
  /** Membership changes committed and not processed yet, in commit order. */
  private pending: Array<{ roomId: string; userId: string; prev: string | null; now: string | null }> = [];
  private queue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly storage: Storage,
    private readonly notifier: Notifier,
    private readonly positions: E2eStream,
    private readonly log: Logger,
  ) {
    this.repo = e2eStreamsRepo(storage.db);
  }

  static async open(storage: Storage, notifier: Notifier, writer: RoomWriter, log: Logger): Promise<DeviceLists> {
    const s = await E2eStream.open(storage.db, "device_lists", await e2eStreamsRepo(storage.db).maxDeviceListId());
    const d = new DeviceLists(storage, notifier, s, log);
    writer.addPersistHook(async (_tx, room, pdu) => {
      const t = membershipTransition(room.state, pdu);
      if (t) d.memberships.set(pdu.event_id, { prev: t.prev, now: t.now });
    });
    notifier.onRoomEvent((n) => d.onRoomEvent(n));
    return d;
  }

  current(): number {
    return this.positions.current();
  }

  /**
   * Runs `work` in one transaction with the device-list rows it marks, then wakes whoever must
   * hear of them. `mark(user)` broadcasts a change of `user`'s devices. `wake` names whom to wake
   * instead (users, and rooms whose syncing members are woken).
   */
  async write<T>(work: (tx: Db, mark: Mark) => Promise<T>, wake?: { users: string[]; rooms?: string[] }): Promise<T> {
    const rows: Omit<DeviceListRow, "stream_id">[] = [];
    const result = await this.positions.write(this.storage.db, async (tx, position) => {
      rows.length = 0;
      const r = await work(tx, (userId, observer = "", kind = "changed") => rows.push({ user_id: userId, observer, kind }));
      await e2eStreamsRepo(tx).insertDeviceListRows(rows.map((x) => ({ ...x, stream_id: position })));
      return r;
    });
    if (wake) this.publish(wake.users, wake.rooms ?? []);
    else if (rows.length) await this.wake(rows);
    return result;
  }

  private publish(users: Iterable<string>, rooms: Iterable<string>): void {
    const u = [...users];
    if (u.length) this.notifier.publishToUsers("device_lists", u);
    for (const r of rooms) this.notifier.publishToRoom("device_lists", r);
  }

  /**
   * A broadcast row wakes the syncing members of the user's rooms, room by room (the notifier
   * knows who is parked in each): listing the members of every room of the user from the
   * database cost rooms × members rows per change.
   */
  private async wake(rows: Omit<DeviceListRow, "stream_id">[]): Promise<void> {
    const users = new Set<string>();
    const rooms = new Set<string>();
    const broadcast = [...new Set(rows.filter((r) => r.observer === "").map((r) => r.user_id))];
    for (const r of rows) users.add(r.observer === "" ? r.user_id : r.observer);
    const events = eventsRepo(this.storage.db);
    for (const u of broadcast) for (const r of await events.roomsForUser(u, ["join"])) rooms.add(r.room_id);
    this.publish(users, rooms);
  }

  /**
   * Joins and leaves change who must track whose devices. Processed in order, after commit; the
   * joins that piled up meanwhile are written together, one transaction for the lot (one after
   * the other, a burst of joins left the updates minutes behind on PostgreSQL).
   */
  private onRoomEvent(n: RoomEventNotice): void {
    if (n.type !== "m.room.member" || !n.membershipOf) return;
    const m = this.memberships.get(n.eventId);
    this.memberships.delete(n.eventId);
    this.pending.push({ roomId: n.roomId, userId: n.membershipOf, prev: m?.prev ?? null, now: m?.now ?? null });
    this.queue = this.queue.then(() => this.drain()).catch((e: unknown) => this.log.warn({ err: { message: (e as Error).message } }, "device-list update after a membership change failed"));
  }

  private async drain(): Promise<void> {
    const batch = this.pending.splice(0);
    for (let i = 0; i < batch.length; ) {
      const c = batch[i]!;
      if (c.now === "join" && c.prev !== "join") {
        // A run of joins, up to the next leave (which must see them).
        const joins: typeof batch = [];
        for (; i < batch.length && joins.length < JOINS_PER_WRITE && batch[i]!.now === "join" && batch[i]!.prev !== "join"; i++) joins.push(batch[i]!);
        await this.joined(joins).catch((e: unknown) => this.log.warn({ err: { message: (e as Error).message } }, "device-list update after a join failed"));
        continue;
      }
      i++;
      if (c.prev === "join" && c.now !== "join") await this.left(c.roomId, c.userId).catch((e: unknown) => this.log.warn({ err: { message: (e as Error).message } }, "device-list update after a leave failed"));
    }
  }

  /**
   * Those who must hear of a join are the room's members (the joiner is new to them) and the
   * joiner: not everyone in the joiner's other rooms, who track the joiner already (they see the
   * row at their next sync). Waking them made every join cost the joiner's rooms × members.
   */
  private async joined(joins: Array<{ roomId: string; userId: string }>): Promise<void> {
    await this.write(
      async (_tx, mark) => {
        for (const j of joins) markJoin(mark, j.roomId, j.userId);
      },
      { users: [...new Set(joins.map((j) => j.userId))], rooms: [...new Set(joins.map((j) => j.roomId))] },
    );
  }

  private async left(roomId: string, userId: string): Promise<void> {
    const others = (await this.repo.joinedIn([roomId])).filter((u) => u !== userId);
    const myRooms = (await eventsRepo(this.storage.db).roomsForUser(userId, ["join"])).map((r) => r.room_id);
    const stillShared = await this.repo.joinedAmong(myRooms, others);
    const gone = others.filter((m) => !stillShared.has(m));
    if (gone.length === 0) return;
    await this.write(async (_tx, mark) => {
      for (const m of gone) {
        mark(userId, m, "left");
        mark(m, userId, "left");
      }
    });
  }

  /**
   * Memberships imported in bulk (rooms/importer.ts): the joins of a batch in one write, waking
   * the room's members and the joiners once (not the joiners' other rooms: they see the change at
   * their next sync). Leaves go one by one, as from the writer.
   */
  async membershipsImported(roomId: string, changes: MembershipChange[]): Promise<void> {
    const joiners = [...new Set(changes.filter((c) => c.now === "join" && c.prev !== "join").map((c) => c.userId))];
    if (joiners.length) {
      await this.write(async (_tx, mark) => {
        for (const u of joiners) markJoin(mark, roomId, u);
      }, { users: joiners, rooms: [roomId] });
    }
    for (const c of changes) if (c.prev === "join" && c.now !== "join") await this.left(roomId, c.userId);
  }

  /** Waits until the membership-driven updates queued so far are written (tests, shutdown). */
  settled(): Promise<void> {
    return this.queue;
  }

  /** Changed and left users between two positions, as `observer` must see them. */
  async changes(observer: string, after: number, upTo: number): Promise<{ changed: string[]; left: string[] }> {
    if (upTo <= after) return { changed: [], left: [] };
    const rows = await this.repo.deviceListRows(observer, after, upTo);
    if (rows.length === 0) return { changed: [], left: [] };
    const broadcastUsers = [...new Set(rows.filter((r) => r.observer === "" && r.user_id !== observer).map((r) => r.user_id))];
    let visible = new Set<string>();
    if (broadcastUsers.length) {
      const myRooms = (await eventsRepo(this.storage.db).roomsForUser(observer, ["join"])).map((r) => r.room_id);
      visible = await this.repo.joinedAmong(myRooms, broadcastUsers);
    }
    const joinedRooms = [...new Set(rows.filter((r) => r.kind === JOINED_ROOM).map((r) => r.user_id))];
    const membersOf = new Map<string, string[]>();
    for (const roomId of joinedRooms) membersOf.set(roomId, (await this.repo.joinedIn([roomId])).filter((u) => u !== observer));
    const latest = new Map<string, string>();
    for (const r of rows) {
      if (r.kind === JOINED_ROOM) {
        for (const m of membersOf.get(r.user_id)!) latest.set(m, "changed");
        continue;
      }
      if (r.kind === JOINED && r.user_id === observer) continue;
      if (r.observer === "" && r.user_id !== observer && !visible.has(r.user_id)) continue;
      latest.set(r.user_id, r.kind === JOINED ? "changed" : r.kind);
    }
    const changed: string[] = [];
    const left: string[] = [];
    for (const [u, kind] of latest) (kind === "left" ? left : changed).push(u);
    return { changed: changed.sort(), left: left.sort() };
  }

  async fill(user: SyncUser, since: number | undefined, upTo: number, response: SyncResponse): Promise<boolean> {
    // Device lists are a delta: an initial sync has none (the client queries what it needs).
    if (since === undefined) return false;
    const { changed, left } = await this.changes(user.userId, since, upTo);
    response.device_lists = { changed, left };
    return changed.length > 0 || left.length > 0;
  }
}

/** A join: the joiner "changed" for everyone sharing a room with them; the room's members for the joiner. */
function markJoin(mark: Mark, roomId: string, userId: string): void {
  mark(userId, "", JOINED);
  mark(roomId, userId, JOINED_ROOM);
}
