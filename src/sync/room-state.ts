// What a sync needs of a room's current state, from either of two places:
// - the room writer's snapshot, when the room is in its memory (every room written or read since
//   the start);
// - the database, for an initial sync with lazy-loaded members of rooms that are not: their state
//   without the members, the few members the response shows, the member counts and the first
//   members by arrival (the summary's heroes). A user's first sync after a restart would otherwise
//   load every member event of every room into the writer (92,000 events, 64 MB of JSON for 300
//   rooms of 300: most of that sync's time), only to send five of them per room.
import type { PDU, StateKey } from "../matrix/pdu.js";
import { stateKey } from "../matrix/pdu.js";
import type { RoomSnapshot } from "../rooms/writer.js";
import type { currentStateRepo } from "../storage/current-state.js";

/** State entries (key → event id) as a sync reads them. */
export interface StateSource {
  roomId: string;
  get(k: StateKey): string | undefined;
  forEach(fn: (k: StateKey, eventId: string) => void): void;
}

/**
 * Member counts and heroes (spec "Room summary"): the first six joined or invited members and the
 * first six who left or were banned, by arrival (one of them may be the viewer, left out later).
 */
export interface SummaryParts {
  /** The stream position of the room's newest event these parts describe. */
  latest: number;
  joined: number;
  invited: number;
  /** The room has a name or a canonical alias (heroes are then not sent). */
  named: boolean;
  present: string[];
  gone: string[];
}

const HEROES = 6;
const NAMING = ["m.room.name", "m.room.canonical_alias"];
const MEMBER_PREFIX = "m.room.member\u0000";

export function snapshotSource(snap: RoomSnapshot): StateSource {
  return {
    roomId: snap.roomId,
    get: (k) => snap.state.get(k)?.event_id,
    forEach: (fn) => {
      for (const [k, pdu] of snap.state) fn(k, pdu.event_id);
    },
  };
}

/** Summary parts from a snapshot. A member's arrival is its event's depth (a room's events here
 * form one chain, so depth orders them as their stream positions do). */
export function summaryOfSnapshot(snap: RoomSnapshot): SummaryParts {
  let joined = 0;
  let invited = 0;
  const present: PDU[] = [];
  const gone: PDU[] = [];
  for (const [k, pdu] of snap.state) {
    if (!k.startsWith(MEMBER_PREFIX)) continue;
    const m = pdu.content.membership;
    if (m === "join") joined++;
    else if (m === "invite") invited++;
    if (m === "join" || m === "invite") present.push(pdu);
    else if (m === "leave" || m === "ban") gone.push(pdu);
  }
  const pick = (list: PDU[]) => firstByArrival(list, (p) => p.depth, (p) => p.state_key!);
  const content = (t: string) => snap.state.get(stateKey(t, ""))?.content;
  return { latest: snap.latest.streamOrdering, joined, invited, named: isNamed(content), present: pick(present), gone: pick(gone) };
}

/** The user ids of the first HEROES members of `list` by arrival. */
function firstByArrival<T>(list: T[], arrival: (m: T) => number, userId: (m: T) => string): string[] {
  return list.sort((a, b) => arrival(a) - arrival(b)).slice(0, HEROES).map(userId);
}

function isNamed(content: (type: string) => Record<string, unknown> | undefined): boolean {
  const nonEmpty = (v: unknown) => typeof v === "string" && v !== "";
  return nonEmpty(content("m.room.name")?.name) || nonEmpty(content("m.room.canonical_alias")?.alias);
}

/** A room's current state read from the database: everything but the members, and the members
 * asked for so far. */
export class StoredRoomState implements StateSource {
  private readonly state = new Map<StateKey, string>();
  private readonly asked = new Set<string>();

  constructor(
    readonly roomId: string,
    /** The room's newest event when the state was read (its state is the state at that event). */
    readonly latest: number,
    readonly summary: SummaryParts,
    nonMembers: Iterable<[StateKey, string]>,
  ) {
    for (const [k, id] of nonMembers) this.state.set(k, id);
  }

  get(k: StateKey): string | undefined {
    return this.state.get(k);
  }

  /** The entries: all but the members that were not asked for. */
  forEach(fn: (k: StateKey, eventId: string) => void): void {
    for (const [k, id] of this.state) fn(k, id);
  }

  /** Of `userIds`, those whose member event was not read yet. */
  notAsked(userIds: Iterable<string>): string[] {
    return [...userIds].filter((u) => !this.asked.has(u));
  }

  /** Records the member events read for `userIds` (those not found are not members). */
  learn(userIds: Iterable<string>, found: Iterable<{ state_key: string; event_id: string }>): void {
    for (const r of found) this.state.set(stateKey("m.room.member", r.state_key), r.event_id);
    for (const u of userIds) this.asked.add(u);
  }
}

type CurrentStateRepo = ReturnType<typeof currentStateRepo>;

/**
 * Reads the current state of many rooms (without their members) in a few statements. The newest
 * event of each room is read last: state read before it holds nothing newer, so a room whose newest
 * event is at or below a sync's position has exactly that position's state.
 */
export async function loadStoredStates(repo: CurrentStateRepo, roomIds: string[]): Promise<Map<string, StoredRoomState>> {
  const out = new Map<string, StoredRoomState>();
  if (!roomIds.length) return out;
  const [rows, counts, first] = await Promise.all([repo.nonMemberState(roomIds, NAMING), repo.memberCounts(roomIds), repo.firstMembers(roomIds, ["join", "invite", "leave", "ban"], HEROES)]);
  const latest = await repo.latest(roomIds);

  const byRoom = new Map<string, { entries: Array<[StateKey, string]>; contents: Map<string, Record<string, unknown>>; joined: number; invited: number; present: FirstMember[]; gone: FirstMember[] }>();
  const room = (id: string) => {
    let r = byRoom.get(id);
    if (!r) byRoom.set(id, (r = { entries: [], contents: new Map(), joined: 0, invited: 0, present: [], gone: [] }));
    return r;
  };
  for (const r of rows) {
    const e = room(r.room_id);
    e.entries.push([stateKey(r.type, r.state_key), r.event_id]);
    if (r.json !== null && r.state_key === "") e.contents.set(r.type, ((JSON.parse(r.json) as PDU).content ?? {}) as Record<string, unknown>);
  }
  for (const c of counts) {
    if (c.membership === "join") room(c.room_id).joined = Number(c.n);
    else if (c.membership === "invite") room(c.room_id).invited = Number(c.n);
  }
  for (const f of first) {
    const m: FirstMember = { userId: f.state_key, at: Number(f.stream_ordering) };
    if (f.membership === "join" || f.membership === "invite") room(f.room_id).present.push(m);
    else room(f.room_id).gone.push(m);
  }
  const pick = (list: FirstMember[]) => firstByArrival(list, (m) => m.at, (m) => m.userId);
  for (const l of latest) {
    const r = byRoom.get(l.room_id);
    // A room without state or events is not a room (a purge in between): the caller loads it the usual way.
    if (!r || l.stream_ordering === null) continue;
    const at = Number(l.stream_ordering);
    const summary: SummaryParts = { latest: at, joined: r.joined, invited: r.invited, named: isNamed((t) => r.contents.get(t)), present: pick(r.present), gone: pick(r.gone) };
    out.set(l.room_id, new StoredRoomState(l.room_id, at, summary, r.entries));
  }
  return out;
}

/** Rooms whose stored state is kept between syncs. */
const KEPT_ROOMS = 5000;

/**
 * The stored states read so far, kept until their room has a newer event: a user's next initial
 * sync (another device, a cleared cache) asks the database only for each room's newest position.
 */
export class StoredStates {
  private readonly kept = new Map<string, StoredRoomState>();

  constructor(private readonly repo: CurrentStateRepo) {}

  /** The rooms' stored states; `upTo`: the position of the sync asking (see below). */
  async get(roomIds: string[], upTo: number): Promise<Map<string, StoredRoomState>> {
    const out = new Map<string, StoredRoomState>();
    if (!roomIds.length) return out;
    const missing: string[] = [];
    for (const l of await this.repo.latest(roomIds)) {
      const hit = this.kept.get(l.room_id);
      // Read before this position check and still at its position: nothing was written since.
      if (hit && l.stream_ordering !== null && hit.latest === Number(l.stream_ordering)) out.set(l.room_id, hit);
      else missing.push(l.room_id);
    }
    for (const [id, state] of await loadStoredStates(this.repo, missing)) {
      out.set(id, state);
      // Kept only when its newest event is at or below the asking sync's position: every event up
      // to that position was written before the state was read, so the state is exactly the state
      // at its newest event. Above it, an event written between the state read and the position
      // read could be missing from the state (that sync does not use it as current state either).
      if (state.latest > upTo) continue;
      this.kept.delete(id);
      this.kept.set(id, state);
      if (this.kept.size > KEPT_ROOMS) this.kept.delete(this.kept.keys().next().value!);
    }
    return out;
  }

  /** Reads the member events of `userIds` in some rooms' stored states, with one statement (per
   * 1,000 members), those already read left out. */
  async addMembers(wanted: Array<[StoredRoomState, Iterable<string>]>): Promise<void> {
    const missing = wanted.map(([state, users]) => [state, state.notAsked(users)] as const).filter(([, users]) => users.length > 0);
    if (!missing.length) return;
    const found = new Map<string, Array<{ state_key: string; event_id: string }>>();
    for (const r of await this.repo.membersOf(missing.flatMap(([state, users]) => users.map((u): [string, string] => [state.roomId, u])))) {
      let list = found.get(r.room_id);
      if (!list) found.set(r.room_id, (list = []));
      list.push(r);
    }
    for (const [state, users] of missing) state.learn(users, found.get(state.roomId) ?? []);
  }
}

interface FirstMember {
  userId: string;
  at: number;
}
