// One room's part of a sync response: its timeline (with `limited` and `prev_batch`), the state
// before the timeline, and its summary. Kept apart from the response assembly so that sliding sync
// (MSC4186) can reuse the same pieces (DESIGN.md).
import type { Storage } from "../storage/database.js";
import { eventsRepo, type EventRow, type RangeOptions } from "../storage/events.js";
import { stateKey, splitStateKey, type PDU, type StateKey } from "../matrix/pdu.js";
import type { RoomSnapshot } from "../rooms/writer.js";
import type { VisibilityView } from "../rooms/visibility.js";
import { serializeEvents, toClientEvent, type ClientEvent, type Viewer } from "../rooms/serialize.js";
import { eventMatches, sqlPushdown } from "../rooms/event-filter.js";
import { roomToken } from "../rooms/tokens.js";
import type { SyncFilter } from "./sync-filter.js";
import type { LazyMembersSent } from "./lazy-members.js";
import type { RoomActivity } from "./room-activity.js";
import { summaryOfSnapshot, type StateSource, type StoredRoomState, type SummaryParts } from "./room-state.js";

const MEMBER_PREFIX = "m.room.member\u0000";

/** Which state entries a caller needs: with lazy-loaded members only some members' (and, for an
 * incremental sync, nothing but members). */
export interface StateSubset {
  members: Set<string>;
  membersOnly: boolean;
}

export interface Timeline {
  rows: EventRow[];
  limited: boolean;
  prevBatch: string;
}

/** A timeline read: the newest events in (after, upTo], one more than the limit (to tell a gap). */
function rangeOptions(after: number, upTo: number, filter: SyncFilter): RangeOptions {
  return { after, upTo, dir: "b", limit: filter.timelineLimit + 1, ...sqlPushdown(filter.timeline) };
}

export class RoomSyncBuilder {
  private readonly events;
  private readonly summaries = new Map<string, SummaryParts>();

  constructor(
    private readonly storage: Storage,
    private readonly now: () => number,
    private readonly lazySent: LazyMembersSent,
    private readonly activity?: RoomActivity,
  ) {
    this.events = eventsRepo(storage.db);
  }

  /** The newest visible events in (after, upTo], oldest first; limited when older ones were left out. */
  async timeline(roomId: string, view: VisibilityView, after: number, upTo: number, filter: SyncFilter): Promise<Timeline> {
    const limit = filter.timelineLimit;
    const needsContent = filter.timeline?.contains_url !== undefined;
    const rows: EventRow[] = [];
    // Nothing below the newcomer bound is visible: stop the scan there (and report no gap beyond it).
    after = Math.max(after, view.readFloor() - 1);
    let cursor = upTo;
    let more = true;
    for (let round = 0; round < 6 && rows.length < limit && more; round++) {
      const opts = rangeOptions(after, cursor, filter);
      // The long-polls one event wakes all read the same range: one query, shared.
      const batch = this.activity
        ? await this.activity.sharedRange(roomId, JSON.stringify(opts), () => this.events.range(roomId, opts))
        : await this.events.range(roomId, opts);
      more = batch.length === limit + 1;
      for (const r of batch) {
        cursor = Number(r.stream_ordering) - 1;
        if (rows.length >= limit) {
          more = true;
          break;
        }
        // The content is parsed only when the filter looks at it (contains_url): 1,000 woken
        // long-polls would otherwise each parse the same events for nothing.
        if (view.canSee(r) && eventMatches(filter.timeline, needsContent ? { ...r, content: (JSON.parse(r.json) as PDU).content } : r)) rows.push(r);
      }
    }
    rows.reverse();
    const first = rows[0];
    return { rows, limited: more, prevBatch: roomToken(first ? Number(first.stream_ordering) - 1 : cursor) };
  }

  /**
   * Reads the first range timeline() will ask of each room with one statement and shares it with
   * those calls (RoomActivity.sharedRange): a first sync in 300 rooms made 300 reads one after the
   * other otherwise (round trips on PostgreSQL). Rooms whose range is already shared are skipped.
   * Resolves to each read room's rows.
   */
  async prefetchTimelines(items: Array<{ roomId: string; view: VisibilityView; after: number }>, upTo: number, filter: SyncFilter): Promise<Map<string, EventRow[]>> {
    const reads: Array<{ roomId: string; opts: RangeOptions; resolve: (rows: EventRow[]) => void; reject: (e: unknown) => void }> = [];
    if (!this.activity) return new Map();
    for (const { roomId, view, after } of items) {
      const opts = rangeOptions(Math.max(after, view.readFloor() - 1), upTo, filter);
      // The executor runs at once: a range not shared yet is added to `reads`.
      this.activity.sharedRange(roomId, JSON.stringify(opts), () => new Promise<EventRow[]>((resolve, reject) => reads.push({ roomId, opts, resolve, reject }))).catch(() => undefined);
    }
    if (reads.length === 0) return new Map();
    try {
      const rows = await this.events.rangeMany(reads);
      for (const r of reads) r.resolve(rows.get(r.roomId) ?? []);
      return rows;
    } catch (e) {
      for (const r of reads) r.reject(e);
      throw e;
    }
  }

  /**
   * State at the start of the timeline, from the room's current state with the timeline's own state
   * changes undone (each stored state event remembers the one it replaced), so initial syncs need
   * no historical state query. `upTo` below the room's head (a left room) falls back to a query.
   */
  async stateBeforeTimeline(current: StateSource, timeline: EventRow[], upToIsHead: boolean, upTo: number, only?: StateSubset): Promise<Map<StateKey, string>> {
    const ids = new Map<StateKey, string>();
    const wanted = (k: StateKey): boolean => {
      if (!only) return true;
      if (!k.startsWith(MEMBER_PREFIX)) return !only.membersOnly;
      return only.members.has(k.slice(MEMBER_PREFIX.length));
    };
    if (!upToIsHead) {
      const at = timeline.length ? Number(timeline[0]!.stream_ordering) - 1 : upTo;
      for (const r of await this.events.stateAt(current.roomId, at)) {
        const k = stateKey(r.type, r.state_key);
        if (wanted(k)) ids.set(k, r.event_id);
      }
      return ids;
    }
    if (only && only.membersOnly) {
      // Lazy members of an incremental sync: look the few wanted members up instead of copying all state.
      for (const u of only.members) {
        const k = stateKey("m.room.member", u);
        const id = current.get(k);
        if (id) ids.set(k, id);
      }
    } else
      current.forEach((k, id) => {
        if (wanted(k)) ids.set(k, id);
      });
    for (let i = timeline.length - 1; i >= 0; i--) {
      const r = timeline[i]!;
      if (r.state_key === null) continue;
      const k = stateKey(r.type, r.state_key);
      if (ids.get(k) !== r.event_id) continue;
      const replaced = (JSON.parse(r.json) as PDU).unsigned?.replaces_state;
      if (typeof replaced === "string") ids.set(k, replaced);
      else ids.delete(k);
    }
    return ids;
  }

  /** State entries that differ between two positions (for a limited incremental sync). */
  async stateDelta(roomId: string, since: number, timelineStart: number): Promise<Map<StateKey, string>> {
    const [before, after] = await Promise.all([this.events.stateAt(roomId, since), this.events.stateAt(roomId, timelineStart)]);
    const old = new Map(before.map((r) => [stateKey(r.type, r.state_key), r.event_id]));
    const out = new Map<StateKey, string>();
    for (const r of after) {
      const k = stateKey(r.type, r.state_key);
      if (old.get(k) !== r.event_id) out.set(k, r.event_id);
    }
    return out;
  }

  /**
   * Chooses which state entries go to the client (lazy-loaded members, redundant members): the
   * event ids to load, so that a sync loads the state of all its rooms in one query.
   */
  pickState(roomId: string, candidates: Map<StateKey, string>, timeline: EventRow[], viewer: Viewer & { deviceId: string }, filter: SyncFilter, opts: { alwaysMembersOf?: Set<string> } = {}): string[] {
    const device = `${viewer.userId}|${viewer.deviceId}`;
    const wantedMembers = new Set<string>(opts.alwaysMembersOf ?? []);
    if (filter.lazyMembers) {
      for (const r of timeline) wantedMembers.add(r.sender);
      wantedMembers.add(viewer.userId);
    }
    // Members whose membership event is itself in the timeline need not be repeated in state.
    const inTimeline = new Set(timeline.map((r) => r.event_id));
    const pick: string[] = [];
    for (const [k, id] of candidates) {
      if (inTimeline.has(id)) continue;
      const [type, key] = splitStateKey(k);
      if (filter.lazyMembers && type === "m.room.member") {
        if (!wantedMembers.has(key)) continue;
        if (!filter.redundantMembers && this.lazySent.alreadySent(device, roomId, key, id)) continue;
      }
      pick.push(id);
    }
    return pick;
  }

  /** The picked state rows through the state filter, serialised; records the members sent. */
  finishState(roomId: string, rows: EventRow[], timeline: EventRow[], viewer: Viewer & { deviceId: string }, filter: SyncFilter): ClientEvent[] {
    const device = `${viewer.userId}|${viewer.deviceId}`;
    const now = this.now();
    const out: ClientEvent[] = [];
    for (const r of rows) {
      if (!filter.stateEvent({ type: r.type, sender: r.sender, room_id: roomId })) continue;
      if (r.type === "m.room.member" && r.state_key !== null) this.lazySent.record(device, roomId, r.state_key, r.event_id);
      out.push(toClientEvent(r, viewer, now));
    }
    if (filter.lazyMembers) for (const r of timeline) if (r.type === "m.room.member" && r.state_key !== null) this.lazySent.record(device, roomId, r.state_key, r.event_id);
    return out;
  }

  /** pickState, load, finishState for one room. */
  async selectState(roomId: string, candidates: Map<StateKey, string>, timeline: EventRow[], viewer: Viewer & { deviceId: string }, filter: SyncFilter, opts: { alwaysMembersOf?: Set<string> } = {}): Promise<ClientEvent[]> {
    const rows = await this.events.getMany(this.pickState(roomId, candidates, timeline, viewer, filter, opts));
    return this.finishState(roomId, rows, timeline, viewer, filter);
  }

  /** Loads events by id for many rooms at once, in chunks that stay under both databases' bind limits. */
  async loadMany(ids: string[]): Promise<Map<string, EventRow>> {
    const chunks: string[][] = [];
    for (let i = 0; i < ids.length; i += 1000) chunks.push(ids.slice(i, i + 1000));
    // Asked together: PostgreSQL's pool serves them at once (SQLite in order, as before).
    const out = new Map<string, EventRow>();
    for (const rows of await Promise.all(chunks.map((c) => this.events.getMany(c)))) for (const r of rows) out.set(r.event_id, r);
    return out;
  }

  async serializeTimeline(rows: EventRow[], viewer: Viewer): Promise<ClientEvent[]> {
    return serializeEvents(this.storage, rows, viewer, this.now());
  }

  /**
   * Room summary (spec "Room summary" in /sync): member counts and heroes — the first 5 joined or
   * invited members other than the user, in the order they arrived (depth), or, when there are
   * none, the users who left or were banned. Heroes only when the room has no name or alias.
   */
  summary(parts: SummaryParts, userId: string): Record<string, unknown> {
    const others = (list: string[]) => list.filter((u) => u !== userId).slice(0, 5);
    const present = others(parts.present);
    const summary: Record<string, unknown> = { "m.joined_member_count": parts.joined, "m.invited_member_count": parts.invited };
    if (!parts.named) summary["m.heroes"] = present.length ? present : others(parts.gone);
    return summary;
  }

  /** Computed once per room state (keyed by the room's newest event), shared by every syncing member. */
  summaryParts(snap: RoomSnapshot): SummaryParts {
    const hit = this.summaries.get(snap.roomId);
    if (hit && hit.latest === snap.latest.streamOrdering) return hit;
    return this.rememberSummary(snap.roomId, summaryOfSnapshot(snap));
  }

  /** The summary of a room's state read from the database; remembered only when `exact` (read
   * while nothing newer than its newest event was written). */
  storedSummaryParts(stored: StoredRoomState, exact: boolean): SummaryParts {
    const hit = this.summaries.get(stored.roomId);
    if (hit && hit.latest === stored.latest) return hit;
    return exact ? this.rememberSummary(stored.roomId, stored.summary) : stored.summary;
  }

  private rememberSummary(roomId: string, parts: SummaryParts): SummaryParts {
    this.summaries.set(roomId, parts);
    if (this.summaries.size > 5000) this.summaries.delete(this.summaries.keys().next().value!);
    return parts;
  }

  /** Stripped state for invites and knocks (spec "Stripped state"). */
  strippedState(snap: RoomSnapshot, userId: string): Array<Record<string, unknown>> {
    const types = ["m.room.create", "m.room.join_rules", "m.room.name", "m.room.avatar", "m.room.canonical_alias", "m.room.encryption", "m.room.topic", "m.room.guest_access", "m.room.history_visibility"];
    const out: Array<Record<string, unknown>> = [];
    for (const t of types) {
      const pdu = snap.state.get(stateKey(t, ""));
      if (pdu) out.push({ type: pdu.type, state_key: pdu.state_key, sender: pdu.sender, content: pdu.content });
    }
    const own = snap.state.get(stateKey("m.room.member", userId));
    if (own) {
      out.push({ type: own.type, state_key: own.state_key, sender: own.sender, content: own.content, event_id: own.event_id, origin_server_ts: own.origin_server_ts });
      const inviter = snap.state.get(stateKey("m.room.member", own.sender));
      if (inviter && own.sender !== userId) out.push({ type: inviter.type, state_key: inviter.state_key, sender: inviter.sender, content: inviter.content });
    }
    return out;
  }
}
