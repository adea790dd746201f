// What changed where, kept in memory from the notifier, so that sync can answer "does this user
// have news since their token?" without a query, and so that the many long-polls one event wakes
// share their reads instead of each repeating them (issue 4: 1,000 devices parked in one room).
//
// Everything here is a cache of the database, never a source of truth: each entry carries the
// generation it was loaded under, and a notice bumps the generation *synchronously* with the
// stream position becoming visible (the writer finishes a position and publishes it in one tick),
// so a sync whose snapshot includes a change can never be served an entry loaded before it.
import type { Notifier, RoomEventNotice } from "../rooms/notifier.js";
import type { VisibilityView } from "../rooms/visibility.js";
import type { EventRow } from "../storage/events.js";
import { NEWCOMER_HISTORY_EVENT } from "../rooms/newcomer-history.js";

export interface MembershipRow {
  room_id: string;
  membership: string | null;
  event_id: string;
  stream_ordering: number | string;
}

/** Newest positions remembered per room: enough to place a token that is a few events behind. */
const RECENT = 4;
const MAX_USERS = 50_000;
const MAX_VIEWS = 200_000;
const MAX_RANGE_ROOMS = 2_000;
/** Events kept in the server-wide log (`roomsWithEventsIn`) before its older half goes. */
const LOG_MAX = 8_192;
/** A window with more events than this is answered room by room instead. */
const WINDOW_MAX = 512;
/** State whose change (or redaction) alters what a member may see (rooms/visibility.ts). */
const VISIBILITY_TYPES = new Set(["m.room.history_visibility", "m.room.join_rules", NEWCOMER_HISTORY_EVENT, "m.room.redaction"]);

export class RoomActivity {
  /** Positions at or below this one predate the subscription: unknown per room. */
  private readonly floor: number;
  private readonly recent = new Map<string, number[]>();
  private readonly userGen = new Map<string, number>();
  private readonly memberships = new Map<string, { gen: number; rows: Promise<MembershipRow[]> }>();
  private readonly roomGen = new Map<string, number>();
  private readonly views = new Map<string, Map<string, Promise<VisibilityView>>>();
  private viewCount = 0;
  private readonly ranges = new Map<string, { gen: number; byKey: Map<string, Promise<EventRow[]>> }>();
  /** The newest events of the whole server by position (room and position), oldest first. */
  private readonly log: Array<{ pos: number; roomId: string }> = [];
  /** Positions at or below this one may be missing from the log. */
  private logFloor: number;

  constructor(notifier: Notifier, current: number) {
    this.floor = current;
    this.logFloor = current;
    notifier.onRoomEvent((n) => this.noticed(n));
  }

  private noticed(n: RoomEventNotice): void {
    // Notices come in position order but for writes finishing out of order: kept sorted.
    let at = this.log.length;
    while (at > 0 && this.log[at - 1]!.pos > n.streamOrdering) at--;
    this.log.splice(at, 0, { pos: n.streamOrdering, roomId: n.roomId });
    if (this.log.length > LOG_MAX) {
      const dropped = this.log.splice(0, LOG_MAX / 2);
      this.logFloor = Math.max(this.logFloor, dropped[dropped.length - 1]!.pos);
    }
    let list = this.recent.get(n.roomId);
    if (!list) this.recent.set(n.roomId, (list = []));
    list.push(n.streamOrdering);
    list.sort((a, b) => a - b);
    if (list.length > RECENT) list.shift();
    // Any event may redact or edit what a shared range holds: the room's ranges start afresh.
    this.roomGen.set(n.roomId, (this.roomGen.get(n.roomId) ?? 0) + 1);
    this.ranges.delete(n.roomId);
    if (n.membershipOf !== undefined) {
      this.userGen.set(n.membershipOf, (this.userGen.get(n.membershipOf) ?? 0) + 1);
      this.memberships.delete(n.membershipOf);
      this.dropView(n.roomId, n.membershipOf);
    }
    if (VISIBILITY_TYPES.has(n.type)) this.dropViews(n.roomId);
  }

  /**
   * Whether a room has an event in (after, upTo]; undefined when memory cannot tell (the token
   * predates this process's subscription, or is older than the positions remembered).
   */
  hasEventIn(roomId: string, after: number, upTo: number): boolean | undefined {
    if (after < this.floor) return undefined;
    const list = this.recent.get(roomId);
    if (!list) return false; // nothing since the floor
    for (const p of list) if (p > after && p <= upTo) return true;
    // Positions older than the ones kept may have fallen in the window.
    if (list.length === RECENT && list[0]! > after) return undefined;
    return false;
  }

  /**
   * The rooms with an event in (after, upTo] (a room may be listed more than once), or undefined
   * when memory cannot tell or the window holds many events. A sync asks this instead of
   * `hasEventIn` for each of its rooms: one woken long-poll of a user in 300 rooms looked up all
   * 300 to find the one with the message.
   */
  roomsWithEventsIn(after: number, upTo: number): string[] | undefined {
    if (after < this.logFloor) return undefined;
    const log = this.log;
    let lo = 0;
    let hi = log.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (log[mid]!.pos > after) hi = mid;
      else lo = mid + 1;
    }
    const out: string[] = [];
    for (let i = lo; i < log.length && log[i]!.pos <= upTo; i++) {
      if (out.length === WINDOW_MAX) return undefined;
      out.push(log[i]!.roomId);
    }
    return out;
  }

  /** Whether any of the rooms has a published event above `position` (not yet visible to syncs). */
  anyAfter(roomIds: readonly string[], position: number): boolean {
    for (const r of roomIds) {
      const list = this.recent.get(r);
      if (list && list[list.length - 1]! > position) return true;
    }
    return false;
  }

  /** The user's memberships (any state), loaded once and kept until one of them changes. */
  membershipsOf(userId: string, load: () => Promise<MembershipRow[]>): Promise<MembershipRow[]> {
    const gen = this.userGen.get(userId) ?? 0;
    const hit = this.memberships.get(userId);
    if (hit && hit.gen === gen) return hit.rows;
    const rows = load();
    if (this.memberships.size >= MAX_USERS) this.memberships.delete(this.memberships.keys().next().value!);
    this.memberships.set(userId, { gen, rows });
    rows.catch(() => {
      if (this.memberships.get(userId)?.rows === rows) this.memberships.delete(userId);
    });
    return rows;
  }

  /** A user's history-visibility view of a room, kept until their membership or the room's
   * visibility rules change. */
  /** Whether `viewOf` has the user's view of the room (loaded or being loaded). */
  hasView(roomId: string, userId: string): boolean {
    return this.views.get(roomId)?.has(userId) ?? false;
  }

  viewOf(roomId: string, userId: string, load: () => Promise<VisibilityView>): Promise<VisibilityView> {
    let room = this.views.get(roomId);
    // A view stays valid across ordinary events: only membership and visibility notices drop it.
    const hit = room?.get(userId);
    if (hit) return hit;
    const view = load();
    if (this.viewCount >= MAX_VIEWS) {
      this.views.clear();
      this.viewCount = 0;
      room = undefined;
    }
    if (!room) this.views.set(roomId, (room = new Map()));
    room.set(userId, view);
    this.viewCount++;
    view.catch(() => this.dropView(roomId, userId));
    return view;
  }

  /**
   * One read of a room's events shared by every sync asking for the same range at the same
   * moment (the long-polls one event wakes). Dropped as soon as the room gets another event.
   */
  sharedRange(roomId: string, key: string, load: () => Promise<EventRow[]>): Promise<EventRow[]> {
    const gen = this.roomGen.get(roomId) ?? 0;
    let room = this.ranges.get(roomId);
    if (!room || room.gen !== gen) {
      if (!room && this.ranges.size >= MAX_RANGE_ROOMS) this.ranges.delete(this.ranges.keys().next().value!);
      this.ranges.set(roomId, (room = { gen, byKey: new Map() }));
    }
    let rows = room.byKey.get(key);
    if (!rows) {
      rows = load();
      room.byKey.set(key, rows);
      const r = rows;
      r.catch(() => room.byKey.delete(key));
    }
    return rows;
  }

  private dropView(roomId: string, userId: string): void {
    if (this.views.get(roomId)?.delete(userId)) this.viewCount--;
  }

  private dropViews(roomId: string): void {
    const room = this.views.get(roomId);
    if (!room) return;
    this.viewCount -= room.size;
    this.views.delete(roomId);
  }
}
