// Reading a room: /messages, /context, /event, /state, /members, /joined_members. Every event
// leaving here has passed the room's history visibility for the reader.
import type { Storage } from "../storage/database.js";
import { eventsRepo, type EventRow, type RangeOptions, type StateRow } from "../storage/events.js";
import type { PDU } from "../matrix/pdu.js";
import { notFound } from "../http/errors.js";
import type { RoomWriter } from "./writer.js";
import { HistoryVisibility, VISIBILITY_STATE_TYPES, type VisibilityView } from "./visibility.js";
import { BUNDLED, serializeEvents, toClientEvent, type ClientEvent, type SerializeOptions, type Viewer } from "./serialize.js";
import { parseRoomToken, roomToken } from "./tokens.js";
import { eventMatches, sqlPushdown, type RoomEventFilter } from "./event-filter.js";

export const MAX_MESSAGES_LIMIT = 1000;

export interface MessagesResult {
  chunk: ClientEvent[];
  start: string;
  end?: string;
  state?: ClientEvent[];
}

export class RoomReader {
  private readonly events;
  readonly visibility: HistoryVisibility;

  constructor(
    private readonly storage: Storage,
    private readonly writer: RoomWriter,
    private readonly now: () => number,
  ) {
    this.events = eventsRepo(storage.db);
    this.visibility = new HistoryVisibility(storage);
  }

  /**
   * The reader's view of a room; 404 for an unknown room, 403 if they may not read it. `inputs`:
   * the view's inputs when the caller read them already (HistoryVisibility.fromRows).
   */
  async viewFor(viewer: Viewer, roomId: string, inputs?: Promise<Parameters<HistoryVisibility["fromRows"]>[2]>): Promise<VisibilityView> {
    if (!(await this.writer.roomExists(roomId))) throw notFound("Unknown room");
    const view = inputs ? await this.visibility.fromRows(roomId, viewer.userId, await inputs) : await this.visibility.view(roomId, viewer.userId);
    view.assertCanReadRoom();
    return view;
  }

  /** GET /rooms/{roomId}/messages. */
  async messages(viewer: Viewer, roomId: string, q: { from?: string; to?: string; dir: "b" | "f"; limit: number; filter?: RoomEventFilter }): Promise<MessagesResult> {
    const limit = Math.min(Math.max(q.limit, 0), MAX_MESSAGES_LIMIT);
    const head = this.writer.currentPosition();
    let from = q.from !== undefined ? parseRoomToken(q.from) : q.dir === "b" ? head : 0;
    const to = q.to !== undefined ? parseRoomToken(q.to) : undefined;
    const push = sqlPushdown(q.filter);
    const bounds = (readLimit: number, floorAfter: number): RangeOptions =>
      q.dir === "b"
        ? { upTo: Math.min(from, readLimit), after: floorAfter > 0 ? Math.max(to ?? 0, floorAfter) : to, dir: "b", limit: 0, ...push }
        : { after: Math.max(from, floorAfter), upTo: Math.min(to ?? Number.MAX_SAFE_INTEGER, readLimit, head), dir: "f", limit: 0, ...push };
    // The first batch is read with the reader's view's inputs, before the view is built, with
    // the bounds of a reader who may read everything (a joined member, no newcomer bound: nearly
    // every read), together with its events' children for the bundled aggregations: one round
    // trip on PostgreSQL where there were three, two of them one after the other. The view's
    // bounds can only be narrower; its rows are used when they start where the view's start (see
    // narrowed()), and only rows the view may see are shown, as for any batch.
    const firstWant = Math.max(limit, 10);
    const specBounds = { ...bounds(Number.MAX_SAFE_INTEGER, -1), limit: firstWant };
    const speculative = limit > 0 ? this.events.rangeWithChildren(roomId, specBounds, BUNDLED, { userId: viewer.userId, stateTypes: VISIBILITY_STATE_TYPES }) : undefined;
    speculative?.catch(() => undefined); // awaited below, or dropped when the room is unknown
    const view = await this.viewFor(viewer, roomId, speculative?.then((r) => r.visibility));
    const readLimit = view.readLimit();
    // Rows below the newcomer bound are never visible: the range stops there, so the last page has no `end`.
    const floorAfter = view.readFloor() - 1;
    const start = roomToken(from);
    const chunk: EventRow[] = [];
    // True once the range has no more rows beyond what was consumed: then there is no next page.
    let exhausted = false;
    let prefetched: SerializeOptions["children"];
    // Fetch in batches until the page is full: filtered-out or invisible events do not count.
    for (let round = 0; round < 8 && chunk.length < limit && !exhausted; round++) {
      const want = Math.max(limit - chunk.length, 10);
      const opts = { ...bounds(readLimit, floorAfter), limit: want };
      let batch: EventRow[];
      const first = round === 0 && speculative && want === firstWant ? narrowed(q.dir, specBounds, opts, await speculative) : undefined;
      if (first) {
        batch = first.rows;
        prefetched = { parents: new Set(batch.map((r) => r.event_id)), rows: first.children };
      } else {
        batch = await this.events.range(roomId, opts);
      }
      let consumed = 0;
      for (const row of batch) {
        consumed++;
        from = q.dir === "b" ? Number(row.stream_ordering) - 1 : Number(row.stream_ordering);
        // Content is parsed only for a filter that looks at it (contains_url): most pages have none.
        if (view.canSee(row) && (q.filter === undefined || eventMatches(q.filter, { ...row, content: q.filter.contains_url === undefined ? undefined : contentOf(row) }))) chunk.push(row);
        if (chunk.length >= limit) break;
      }
      if (batch.length < want && consumed === batch.length) exhausted = true;
    }
    // The view goes along: aggregations hide children the reader may not see without building it again.
    const result: MessagesResult = { chunk: await serializeEvents(this.storage, chunk, viewer, this.now(), { views: new Map([[roomId, view]]), children: prefetched }), start };
    if (!exhausted) result.end = roomToken(from);
    if (q.filter?.lazy_load_members && chunk.length > 0) result.state = await this.membersFor(roomId, chunk, viewer);
    return result;
  }

  /** GET /rooms/{roomId}/context/{eventId}. */
  async context(viewer: Viewer, roomId: string, eventId: string, limit: number, filter?: RoomEventFilter) {
    const view = await this.viewFor(viewer, roomId);
    const target = await this.events.get(eventId);
    if (!target || target.room_id !== roomId || !view.canSee(target)) throw notFound("Event not found");
    const lim = Math.min(Math.max(limit, 0), 100);
    const nBefore = Math.floor(lim / 2);
    const nAfter = lim - nBefore;
    const pos = Number(target.stream_ordering);
    const before = await this.messages(viewer, roomId, { from: roomToken(pos - 1), dir: "b", limit: nBefore, filter });
    const after = await this.messages(viewer, roomId, { from: roomToken(pos), dir: "f", limit: nAfter, filter });
    const [event] = await serializeEvents(this.storage, [target], viewer, this.now());
    const stateRows = await this.events.stateAt(roomId, pos, filter?.lazy_load_members ? ["m.room.create", "m.room.power_levels", "m.room.join_rules", "m.room.name", "m.room.member"] : undefined);
    let state = stateRows;
    if (filter?.lazy_load_members) {
      const senders = new Set([target.sender, ...before.chunk.map((e) => e.sender), ...after.chunk.map((e) => e.sender)]);
      state = stateRows.filter((r) => r.type !== "m.room.member" || senders.has(r.state_key));
    }
    return {
      event,
      events_before: before.chunk,
      events_after: after.chunk,
      start: before.end ?? roomToken(0),
      end: after.end ?? roomToken(pos + after.chunk.length),
      state: await this.serializeState(state, viewer),
    };
  }

  /** GET /rooms/{roomId}/event/{eventId}: 404 whether missing or invisible (no existence oracle). */
  async event(viewer: Viewer, roomId: string, eventId: string): Promise<ClientEvent> {
    const view = await this.visibility.view(roomId, viewer.userId);
    const row = await this.events.get(eventId);
    if (!row || row.room_id !== roomId || !view.canReadRoom() || !view.canSee(row)) throw notFound("Event not found");
    const [ev] = await serializeEvents(this.storage, [row], viewer, this.now());
    return ev!;
  }

  /** The state a reader may see: current while joined (or world-readable), else at their leave. */
  async stateRows(viewer: Viewer, roomId: string): Promise<StateRow[]> {
    const view = await this.viewFor(viewer, roomId);
    if (view.currentMembership === "join" || view.currentVisibility === "world_readable") return this.events.currentState(roomId);
    return this.events.stateAt(roomId, view.readLimit());
  }

  async state(viewer: Viewer, roomId: string): Promise<ClientEvent[]> {
    return this.serializeState(await this.stateRows(viewer, roomId), viewer);
  }

  async stateEvent(viewer: Viewer, roomId: string, type: string, stateKey: string): Promise<ClientEvent> {
    const rows = await this.stateRows(viewer, roomId);
    const row = rows.find((r) => r.type === type && r.state_key === stateKey);
    if (!row) throw notFound("State event not found");
    return (await this.serializeState([row], viewer))[0]!;
  }

  /** GET /rooms/{roomId}/members with `at`, `membership`, `not_membership`. */
  async members(viewer: Viewer, roomId: string, q: { at?: string; membership?: string; notMembership?: string }): Promise<ClientEvent[]> {
    const view = await this.viewFor(viewer, roomId);
    let rows: StateRow[];
    if (q.at !== undefined) rows = await this.events.stateAt(roomId, Math.min(parseRoomToken(q.at), view.readLimit()), ["m.room.member"]);
    else rows = (await this.stateRows(viewer, roomId)).filter((r) => r.type === "m.room.member");
    const out = await this.serializeState(rows, viewer);
    return out.filter((e) => {
      const m = e.content.membership;
      if (q.membership !== undefined && m !== q.membership) return false;
      if (q.notMembership !== undefined && m === q.notMembership) return false;
      return true;
    });
  }

  /** GET /rooms/{roomId}/joined_members: only for current members (spec). */
  async joinedMembers(viewer: Viewer, roomId: string): Promise<Record<string, { display_name?: string; avatar_url?: string }>> {
    const view = await this.viewFor(viewer, roomId);
    if (view.currentMembership !== "join" && view.currentVisibility !== "world_readable") throw notFound("You aren't a member of the room");
    const state = await this.events.currentState(roomId);
    const out: Record<string, { display_name?: string; avatar_url?: string }> = {};
    for (const r of state) {
      if (r.type !== "m.room.member") continue;
      const pdu = JSON.parse(r.json) as PDU;
      if (pdu.content.membership !== "join") continue;
      const entry: { display_name?: string; avatar_url?: string } = {};
      if (typeof pdu.content.displayname === "string") entry.display_name = pdu.content.displayname;
      if (typeof pdu.content.avatar_url === "string") entry.avatar_url = pdu.content.avatar_url;
      out[r.state_key] = entry;
    }
    return out;
  }

  /** Member events of the senders of `chunk` (lazy-loading members, spec "Lazy-loading room members"). */
  private async membersFor(roomId: string, chunk: EventRow[], viewer: Viewer): Promise<ClientEvent[]> {
    const senders = new Set(chunk.map((r) => r.sender));
    const state = await this.events.currentState(roomId);
    return this.serializeState(state.filter((r) => r.type === "m.room.member" && senders.has(r.state_key)), viewer);
  }

  private async serializeState(rows: StateRow[], viewer: Viewer): Promise<ClientEvent[]> {
    const now = this.now();
    const full = await this.events.getMany(rows.map((r) => r.event_id));
    const byId = new Map(full.map((r) => [r.event_id, r]));
    const out: ClientEvent[] = [];
    for (const r of rows) {
      const row = byId.get(r.event_id);
      if (row) out.push(toClientEvent(row, viewer, now));
    }
    return out;
  }
}

function contentOf(row: EventRow): Record<string, unknown> {
  return (JSON.parse(row.json) as PDU).content ?? {};
}

/**
 * The batch `opts` would read, taken from a batch read with the wider bounds `wide` (the same or
 * a larger range): possible when both start at the same end of the range (the upper bound going
 * back, the lower going forward), so that the narrower range is the wider's rows cut at its far
 * end; a short result then means the range is exhausted, as it would from the database.
 */
function narrowed(dir: "b" | "f", wide: RangeOptions, opts: RangeOptions, read: { rows: EventRow[]; children: EventRow[] }): { rows: EventRow[]; children: EventRow[] } | undefined {
  if (dir === "b" ? wide.upTo !== opts.upTo : wide.after !== opts.after) return undefined;
  const rows = read.rows.filter((r) => {
    const pos = Number(r.stream_ordering);
    return (opts.after === undefined || pos > opts.after) && (opts.upTo === undefined || pos <= opts.upTo);
  });
  return { rows, children: read.children };
}
