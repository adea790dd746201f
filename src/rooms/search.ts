// Server-side search (client-server API "Server Side Search", POST /search, category
// `room_events`). What is searched: the rooms the user is joined to, and the rooms they have left
// or been banned from up to their leave ("it won't include events in rooms that happened after
// you left"), minus forgotten rooms and rooms that are end-to-end encrypted now (spec: "The search
// will not include rooms that are end to end encrypted"). Every hit then passes the same
// VisibilityView.canSee as /messages (DESIGN.md: one visibility rule on every read path), so a
// user who joined a `joined`-visibility room late never finds what was said before, and `count`
// only counts what the user may see (a raw count would reveal how much they cannot read).
//
// Pagination ("Pagination"): `next_batch` is an opaque cursor. For `recent` it is the stream
// position of the last hit examined (keyset); for `rank` it is the number of raw hits examined in
// rank order, with the stream head of the first page fixed in the cursor so that later messages
// do not shift the pages. A group's `next_batch` is the same cursor scoped to that group.
import { z } from "zod";
import type { Storage } from "../storage/database.js";
import { eventsRepo, type EventRow } from "../storage/events.js";
import { roomsRepo } from "../storage/rooms.js";
import { queryTerms, searchEvents, searchTokens, type SearchHit, type SearchQuery } from "../storage/search.js";
import type { PDU } from "../matrix/pdu.js";
import { invalidParam } from "../http/errors.js";
import type { RoomWriter } from "./writer.js";
import type { RoomReader } from "./history.js";
import type { VisibilityView } from "./visibility.js";
import { eventMatches, type RoomEventFilter } from "./event-filter.js";
import { serializeEvents, type ClientEvent, type Viewer } from "./serialize.js";
import { roomToken } from "./tokens.js";

/** The searchable keys and the event type each one belongs to (spec "room_events"). */
export const SEARCH_KEYS = {
  "content.body": "m.room.message",
  "content.name": "m.room.name",
  "content.topic": "m.room.topic",
} as const;
export type SearchKey = keyof typeof SEARCH_KEYS;
export const isSearchKey = (k: string): k is SearchKey => Object.hasOwn(SEARCH_KEYS, k);

export type GroupKey = "room_id" | "sender";
export const GROUP_KEYS: readonly GroupKey[] = ["room_id", "sender"];

export interface RoomEventsCriteria {
  searchTerm: string;
  /** Defaults to all keys (spec). */
  keys?: SearchKey[];
  filter?: RoomEventFilter;
  orderBy: "rank" | "recent";
  eventContext?: { beforeLimit: number; afterLimit: number; includeProfile: boolean };
  includeState: boolean;
  groupBy: GroupKey[];
}

export interface SearchResult {
  rank: number;
  result: ClientEvent;
  context?: {
    start: string;
    end: string;
    events_before: ClientEvent[];
    events_after: ClientEvent[];
    profile_info?: Record<string, { displayname?: string; avatar_url?: string }>;
  };
}

export interface GroupValue {
  next_batch?: string;
  order: number;
  results: string[];
}

export interface RoomEventsResults {
  count: number;
  highlights: string[];
  results: SearchResult[];
  next_batch?: string;
  groups?: Partial<Record<GroupKey, Record<string, GroupValue>>>;
  state?: Record<string, ClientEvent[]>;
}

/** Results per page when the filter gives no `limit` (Synapse's default too), and the most. */
export const DEFAULT_SEARCH_LIMIT = 10;
export const MAX_SEARCH_LIMIT = 100;
/** Context events on each side at most. */
export const MAX_CONTEXT_LIMIT = 100;
/** Raw hits examined for `count`; beyond it the count is a lower bound (spec: "approximation"). */
const COUNT_CAP = 10_000;
/** Batches examined per request before returning a short page with a next_batch. */
const MAX_ROUNDS = 10;
const MAX_HIGHLIGHTS = 50;

const cursorSchema = z.strictObject({
  v: z.literal(1),
  o: z.enum(["rank", "recent"]),
  h: z.number().int().min(0),
  n: z.number().int().min(0).optional(),
  b: z.number().int().min(0).optional(),
  g: z.strictObject({ room_id: z.string().max(512).optional(), sender: z.string().max(512).optional() }).optional(),
});
type Cursor = z.infer<typeof cursorSchema>;
type Scope = NonNullable<Cursor["g"]>;

const encodeCursor = (c: Cursor): string => Buffer.from(JSON.stringify(c), "utf8").toString("base64url");

function decodeCursor(token: string): Cursor {
  let parsed: unknown;
  try {
    if (token.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(token)) throw new Error("shape");
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalidParam("Invalid next_batch token");
  }
  const r = cursorSchema.safeParse(parsed);
  if (!r.success) throw invalidParam("Invalid next_batch token");
  return r.data;
}

/** The part of a RoomEventFilter that applies to an event, without rooms (applied to the room list). */
function eventPartOf(f: RoomEventFilter | undefined): RoomEventFilter | undefined {
  if (!f) return undefined;
  const { rooms: _r, not_rooms: _n, ...rest } = f;
  return rest;
}

interface Candidate {
  hit: SearchHit;
  row: EventRow;
}

export class RoomSearch {
  private readonly events;
  private readonly rooms;

  constructor(
    private readonly storage: Storage,
    private readonly writer: RoomWriter,
    private readonly reader: RoomReader,
    private readonly now: () => number,
  ) {
    this.events = eventsRepo(storage.db);
    this.rooms = roomsRepo(storage.db);
  }

  async roomEvents(viewer: Viewer, c: RoomEventsCriteria, nextBatch?: string): Promise<RoomEventsResults> {
    // Every event committed before this search is in the index (search-queue.ts batches them).
    await this.writer.flushSearchIndex();
    const cursor: Cursor = nextBatch !== undefined ? decodeCursor(nextBatch) : { v: 1, o: c.orderBy, h: this.writer.currentPosition() };
    // Spec "Pagination": the client sends the *same* request with the token.
    if (cursor.o !== c.orderBy) throw invalidParam("next_batch was issued for another order_by");
    const terms = queryTerms(c.searchTerm);
    const limit = Math.min(Math.max(c.filter?.limit ?? DEFAULT_SEARCH_LIMIT, 1), MAX_SEARCH_LIMIT);
    const empty: RoomEventsResults = { count: 0, highlights: [], results: [] };
    if (c.groupBy.length) empty.groups = Object.fromEntries(c.groupBy.map((g) => [g, {}]));
    if (c.includeState) empty.state = {};

    const base = await this.baseQuery(viewer.userId, c, terms, cursor);
    if (!base) return empty;
    const gate = this.gate(viewer.userId);
    const eventFilter = eventPartOf(c.filter);
    /** Visible by what the index row tells (type from the key): before loading the event. */
    const mayShow = async (h: SearchHit): Promise<boolean> => {
      const view = await gate(h.room_id);
      const type = SEARCH_KEYS[h.key as SearchKey];
      if (!view || !type) return false;
      return view.canSee({ stream_ordering: h.stream_ordering, type, state_key: type === "m.room.message" ? null : "" }) && eventMatches(eventFilter, { type, sender: h.sender });
    };

    // The page: raw hits in order, kept when visible and matching the filter.
    const page: Candidate[] = [];
    const examined: SearchHit[] = [];
    let offset = cursor.n ?? 0;
    let before = cursor.b;
    let exhausted = false;
    const batch = Math.min(Math.max(limit * 2, 20), 500);
    for (let round = 0; round < MAX_ROUNDS && page.length < limit && !exhausted; round++) {
      const hits = await searchEvents(this.storage.db, this.storage.dialect, { ...base, order: c.orderBy, before, offset: c.orderBy === "rank" ? offset : 0, limit: batch });
      const shown = new Set<string>();
      for (const h of hits) if (await mayShow(h)) shown.add(h.event_id);
      const rows = new Map((await this.events.getMany([...shown])).map((r) => [r.event_id, r]));
      let used = 0;
      for (const h of hits) {
        used++;
        offset++;
        before = h.stream_ordering;
        examined.push(h);
        const row = rows.get(h.event_id);
        if (row && (await this.finalCheck(gate, row, eventFilter))) page.push({ hit: h, row });
        if (page.length >= limit) break;
      }
      if (hits.length < batch && used === hits.length) exhausted = true;
    }

    const next: Cursor | undefined = exhausted ? undefined : c.orderBy === "rank" ? { ...cursor, n: offset } : { ...cursor, b: before };
    const out: RoomEventsResults = {
      count: await this.count(base, mayShow),
      highlights: highlightsFor(terms, page.map((p) => p.row)),
      results: [],
    };
    if (next) out.next_batch = encodeCursor(next);

    const now = this.now();
    const events = await serializeEvents(this.storage, page.map((p) => p.row), viewer, now);
    for (let i = 0; i < page.length; i++) {
      const r: SearchResult = { rank: page[i]!.hit.rank, result: events[i]! };
      if (c.eventContext) r.context = await this.contextOf(viewer, (await gate(page[i]!.row.room_id))!, page[i]!.row, c.eventContext);
      out.results.push(r);
    }
    if (c.groupBy.length) out.groups = await this.groups(c, base, cursor, next, page, examined);
    if (c.includeState) {
      out.state = {};
      for (const roomId of new Set(page.map((p) => p.row.room_id))) out.state[roomId] = await this.reader.state(viewer, roomId);
    }
    return out;
  }

  /** The SQL side of the search: rooms, keys, senders and the stream head. Undefined: nothing to search. */
  private async baseQuery(userId: string, c: RoomEventsCriteria, terms: string[], cursor: Cursor): Promise<Omit<SearchQuery, "order" | "limit"> | undefined> {
    if (terms.length === 0) return undefined;
    const typeFilter = { types: c.filter?.types, not_types: c.filter?.not_types };
    // Keys whose event type the filter excludes need not be searched at all.
    const keys = (c.keys ?? (Object.keys(SEARCH_KEYS) as SearchKey[])).filter((k) => eventMatches(typeFilter, { type: SEARCH_KEYS[k], sender: "" }));
    if (keys.length === 0) return undefined;

    const scope: Scope = cursor.g ?? {};
    let senders = c.filter?.senders;
    if (scope.sender !== undefined) {
      if (senders && !senders.includes(scope.sender)) return undefined;
      senders = [scope.sender];
    }

    const forgotten = await this.rooms.forgottenBy(userId);
    const memberships = await this.events.roomsForUser(userId, ["join", "leave", "ban"]);
    const rooms: string[] = [];
    const boundedRooms: Array<{ roomId: string; upTo: number }> = [];
    for (const m of memberships) {
      if (forgotten.has(m.room_id)) continue;
      if (c.filter?.rooms && !c.filter.rooms.includes(m.room_id)) continue;
      if (c.filter?.not_rooms?.includes(m.room_id)) continue;
      if (scope.room_id !== undefined && m.room_id !== scope.room_id) continue;
      if (m.membership === "join") rooms.push(m.room_id);
      // Up to their leave or ban; canSee decides within that.
      else boundedRooms.push({ roomId: m.room_id, upTo: Number(m.stream_ordering) });
    }
    if (rooms.length === 0 && boundedRooms.length === 0) return undefined;
    return { terms, keys, rooms, boundedRooms, senders, notSenders: c.filter?.not_senders, upTo: cursor.h };
  }

  /** Per room, once per request: the user's view, or null when the room is not searchable. */
  private gate(userId: string): (roomId: string) => Promise<VisibilityView | null> {
    const memo = new Map<string, Promise<VisibilityView | null>>();
    return (roomId) => {
      let p = memo.get(roomId);
      if (!p) {
        p = (async () => {
          if (await this.events.currentStateEvent(roomId, "m.room.encryption", "")) return null;
          const view = await this.reader.visibility.view(roomId, userId);
          return view.canReadRoom() ? view : null;
        })();
        memo.set(roomId, p);
      }
      return p;
    };
  }

  /** The loaded event itself: still unredacted, visible, and matching the whole filter. */
  private async finalCheck(gate: (roomId: string) => Promise<VisibilityView | null>, row: EventRow, f: RoomEventFilter | undefined): Promise<boolean> {
    if (row.redacted_by !== null) return false;
    const view = await gate(row.room_id);
    if (!view || !view.canSee(row)) return false;
    const content = (JSON.parse(row.json) as PDU).content ?? {};
    return eventMatches(f, { type: row.type, sender: row.sender, content });
  }

  /** Visible hits in the whole (scoped) result set, up to COUNT_CAP raw hits examined. */
  private async count(base: Omit<SearchQuery, "order" | "limit">, mayShow: (h: SearchHit) => Promise<boolean>): Promise<number> {
    const hits = await searchEvents(this.storage.db, this.storage.dialect, { ...base, order: "none", limit: COUNT_CAP });
    let n = 0;
    for (const h of hits) if (await mayShow(h)) n++;
    return n;
  }

  /**
   * Groups of this page (spec "Groups"): per value, the result ids in page order, `order` the
   * 1-based position of the group's first result in the page (lower comes first), and, when the
   * whole search has more, a next_batch that continues within the group.
   */
  private async groups(
    c: RoomEventsCriteria,
    base: Omit<SearchQuery, "order" | "limit">,
    cursor: Cursor,
    next: Cursor | undefined,
    page: Candidate[],
    examined: SearchHit[],
  ): Promise<Partial<Record<GroupKey, Record<string, GroupValue>>>> {
    const out: Partial<Record<GroupKey, Record<string, GroupValue>>> = {};
    // For `rank`, a group's cursor counts the raw hits of that group already examined: those of
    // this request plus those before its starting offset (fetched only when needed).
    let prefix: SearchHit[] | undefined;
    const tally = async (k: GroupKey, v: string): Promise<number> => {
      if ((cursor.g ?? {})[k] === v) return next!.n!;
      if (prefix === undefined) {
        const n = cursor.n ?? 0;
        prefix = n > 0 ? await searchEvents(this.storage.db, this.storage.dialect, { ...base, order: "rank", limit: n, offset: 0 }) : [];
      }
      return [...prefix, ...examined].filter((h) => h[k] === v).length;
    };
    for (const k of c.groupBy) {
      const groups: Record<string, GroupValue> = {};
      page.forEach((p, i) => {
        const v = k === "room_id" ? p.row.room_id : p.row.sender;
        (groups[v] ??= { order: i + 1, results: [] }).results.push(p.row.event_id);
      });
      if (next) {
        for (const [v, g] of Object.entries(groups)) {
          const scoped: Cursor = { ...next, g: { ...(cursor.g ?? {}), [k]: v } };
          if (c.orderBy === "rank") scoped.n = await tally(k, v);
          g.next_batch = encodeCursor(scoped);
        }
      }
      out[k] = groups;
    }
    return out;
  }

  /** Events around a result (as /context does) and, if asked, the senders' profiles at the result. */
  private async contextOf(viewer: Viewer, view: VisibilityView, row: EventRow, opts: NonNullable<RoomEventsCriteria["eventContext"]>): Promise<NonNullable<SearchResult["context"]>> {
    const pos = Number(row.stream_ordering);
    const beforeSide = await this.around(view, row.room_id, pos, "b", Math.min(opts.beforeLimit, MAX_CONTEXT_LIMIT));
    const afterSide = await this.around(view, row.room_id, pos, "f", Math.min(opts.afterLimit, MAX_CONTEXT_LIMIT));
    const now = this.now();
    const ctx: NonNullable<SearchResult["context"]> = {
      // Tokens for /messages: backwards from just before the earliest event, forwards after the latest.
      start: roomToken(beforeSide.edge - 1),
      end: roomToken(afterSide.edge),
      events_before: await serializeEvents(this.storage, beforeSide.rows, viewer, now),
      events_after: await serializeEvents(this.storage, afterSide.rows, viewer, now),
    };
    if (opts.includeProfile) {
      // "historic profile information": the senders' member events in the state at the result.
      const senders = new Set([row.sender, ...beforeSide.rows.map((r) => r.sender), ...afterSide.rows.map((r) => r.sender)]);
      const members = await this.events.stateAt(row.room_id, pos, ["m.room.member"]);
      const info: Record<string, { displayname?: string; avatar_url?: string }> = {};
      for (const m of members) {
        if (!senders.has(m.state_key)) continue;
        const content = (JSON.parse(m.json) as PDU).content ?? {};
        const p: { displayname?: string; avatar_url?: string } = {};
        if (typeof content.displayname === "string") p.displayname = content.displayname;
        if (typeof content.avatar_url === "string") p.avatar_url = content.avatar_url;
        info[m.state_key] = p;
      }
      ctx.profile_info = info;
    }
    return ctx;
  }

  /**
   * Up to `n` visible events on one side of `pos`, nearest first; `edge` is the last position
   * examined (or `pos` when none), from which the context's pagination tokens are made.
   */
  private async around(view: VisibilityView, roomId: string, pos: number, dir: "b" | "f", n: number): Promise<{ rows: EventRow[]; edge: number }> {
    const rows: EventRow[] = [];
    let edge = pos;
    if (n <= 0) return { rows, edge };
    const readLimit = Math.min(view.readLimit(), this.writer.currentPosition());
    const want = n + 10;
    for (let round = 0; round < 5 && rows.length < n; round++) {
      const batch =
        dir === "b"
          ? await this.events.range(roomId, { upTo: Math.min(edge - 1, readLimit), dir: "b", limit: want })
          : await this.events.range(roomId, { after: edge, upTo: readLimit, dir: "f", limit: want });
      let used = 0;
      for (const r of batch) {
        used++;
        edge = Number(r.stream_ordering);
        if (view.canSee(r)) rows.push(r);
        if (rows.length >= n) break;
      }
      if (batch.length < want && used === batch.length) break;
    }
    return { rows, edge };
  }
}

/**
 * Words to highlight (spec: "useful for stemming which may change the query terms"): the query
 * words themselves, and every word of the results that one of them matches as a prefix, as written.
 */
function highlightsFor(terms: string[], rows: EventRow[]): string[] {
  const out = new Set(terms);
  for (const r of rows) {
    const content = (JSON.parse(r.json) as PDU).content ?? {};
    for (const field of ["body", "name", "topic"]) {
      const text = content[field];
      if (typeof text !== "string") continue;
      for (const word of text.slice(0, 10_000).match(/[\p{L}\p{N}\p{M}]+/gu) ?? []) {
        if (out.size >= MAX_HIGHLIGHTS) return [...out];
        if (searchTokens(word).some((t) => terms.some((q) => t.startsWith(q)))) out.add(word);
      }
    }
  }
  return [...out];
}
