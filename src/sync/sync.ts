// GET /sync (client-server API "Syncing"): initial, incremental and long-poll. The response is
// assembled from pieces: room sections (room-sync.ts), account data, ephemeral data, and the
// extensions other modules add (end-to-end encryption fills to_device and device lists).
import type { Storage } from "../storage/database.js";
import { eventsRepo } from "../storage/events.js";
import { roomsRepo } from "../storage/rooms.js";
import { accountDataRepo } from "../storage/account-data.js";
import { streamsRepo } from "../storage/streams.js";
import type { RoomWriter } from "../rooms/writer.js";
import type { HistoryVisibility } from "../rooms/visibility.js";
import type { Notifier } from "../rooms/notifier.js";
import type { Filter } from "../accounts/filters.js";
import type { Typing } from "./typing.js";
import type { Receipts } from "./receipts.js";
import { RoomSyncBuilder, type Timeline } from "./room-sync.js";
import type { EventRow } from "../storage/events.js";
import { LazyMembersSent } from "./lazy-members.js";
import { RoomActivity, type MembershipRow } from "./room-activity.js";
import { Waiters, type Waiter } from "./waiters.js";
import { SyncFilter } from "./sync-filter.js";
import { StoredStates, snapshotSource, type StoredRoomState } from "./room-state.js";
import { currentStateRepo } from "../storage/current-state.js";
import { emptyToken, formatToken, parseToken, type StreamName, type SyncToken } from "./token.js";
import type { ClientEvent } from "../rooms/serialize.js";

export interface SyncUser {
  userId: string;
  deviceId: string;
}

export interface SyncRequest {
  since?: string;
  timeoutMs: number;
  filter?: Filter;
  fullState: boolean;
}

type Json = Record<string, unknown>;

export interface SyncResponse {
  next_batch: string;
  rooms: { join: Record<string, Json>; invite: Record<string, Json>; leave: Record<string, Json>; knock: Record<string, Json> };
  account_data: { events: Json[] };
  presence: { events: Json[] };
  to_device: { events: Json[] };
  device_lists: { changed: string[]; left: string[] };
  device_one_time_keys_count: Record<string, number>;
  device_unused_fallback_key_types?: string[];
  [k: string]: unknown;
}

/** A stream that another module feeds into sync (to-device messages, device lists…). */
export interface SyncExtension {
  stream: StreamName;
  current(): number;
  /** Adds its data to the response; returns true if it added anything a client must see. */
  fill(user: SyncUser, since: number | undefined, upTo: number, response: SyncResponse, joinedRoomIds: string[]): Promise<boolean>;
}

/** Unread counts per room, supplied by the push module. */
export interface UnreadCounts {
  forRooms(user: SyncUser, roomIds: string[], threaded: boolean): Promise<Map<string, { unread_notifications: Json; unread_thread_notifications?: Json }>>;
}

export const MAX_SYNC_TIMEOUT_MS = 60_000;

let shortcuts = true;

/** Tests only: answer quiet incremental syncs through build() too, and let build() visit every
 * room of the user, to compare the answers with and without the shortcuts. */
export function setSyncShortcuts(on: boolean): void {
  shortcuts = on;
}

/** How soon a long-poll looks again for an event published but not yet visible. */
const HIDDEN_RETRY_MS = 10;

export class SyncService {
  private readonly events;
  private readonly rooms;
  private readonly accountData;
  private readonly storedStates: StoredStates;
  private readonly builder: RoomSyncBuilder;
  private readonly lazySent = new LazyMembersSent();
  private readonly activity: RoomActivity;
  private readonly waiters: Waiters;
  private extensions: SyncExtension[] = [];
  private unread?: UnreadCounts;
  private globalDefaults = new Map<string, (userId: string) => Promise<Json>>();
  private readonly indexes = new WeakMap<MembershipRow[], MembershipIndex>();
  private accountDataPosition = 0;

  private constructor(
    private readonly storage: Storage,
    private readonly writer: RoomWriter,
    private readonly visibility: HistoryVisibility,
    private readonly notifier: Notifier,
    private readonly typing: Typing,
    private readonly receipts: Receipts,
    private readonly now: () => number,
  ) {
    this.events = eventsRepo(storage.db);
    this.rooms = roomsRepo(storage.db);
    this.accountData = accountDataRepo(storage.db);
    this.storedStates = new StoredStates(currentStateRepo(storage.db, storage.dialect));
    this.activity = new RoomActivity(notifier, writer.currentPosition());
    this.waiters = new Waiters(notifier);
    this.builder = new RoomSyncBuilder(storage, now, this.lazySent, this.activity);
  }

  static async open(storage: Storage, writer: RoomWriter, visibility: HistoryVisibility, notifier: Notifier, typing: Typing, receipts: Receipts, now: () => number): Promise<SyncService> {
    const s = new SyncService(storage, writer, visibility, notifier, typing, receipts, now);
    s.accountDataPosition = await streamsRepo(storage.db).current("account_data");
    return s;
  }

  addExtension(ext: SyncExtension): void {
    this.extensions.push(ext);
  }

  setUnreadCounts(u: UnreadCounts): void {
    this.unread = u;
  }

  /**
   * Global account data that exists for every user before it is first written (m.push_rules):
   * an initial sync sends the provider's content when the user has no stored event of that type.
   */
  setGlobalAccountDataDefault(type: string, provider: (userId: string) => Promise<Json>): void {
    this.globalDefaults.set(type, provider);
  }

  /** Account data writes report their stream position here (kept in memory: no query per sync). */
  accountDataWritten(position: number): void {
    this.accountDataPosition = Math.max(this.accountDataPosition, position);
  }

  currentToken(): SyncToken {
    const t = emptyToken();
    t.events = this.writer.currentPosition();
    t.account_data = this.accountDataPosition;
    t.receipts = this.receipts.current();
    t.typing = this.typing.current();
    for (const e of this.extensions) t[e.stream] = e.current();
    return t;
  }

  async sync(user: SyncUser, req: SyncRequest): Promise<SyncResponse> {
    const since = req.since ? parseToken(req.since) : undefined;
    const filter = new SyncFilter(req.filter);
    if (!since || req.fullState) this.lazySent.reset(`${user.userId}|${user.deviceId}`);
    const timeout = Math.min(Math.max(req.timeoutMs, 0), MAX_SYNC_TIMEOUT_MS);
    const deadline = Date.now() + timeout;
    // Subscribe before building, so nothing published in between is missed.
    const waiter = since && !req.fullState && timeout > 0 ? this.waiters.subscribe(user.userId) : undefined;
    try {
      for (;;) {
        const upTo = this.currentToken();
        const quiet = since && !req.fullState && (waiter || shortcuts) ? await this.quiet(user, since, upTo) : undefined;
        if (waiter && quiet) {
          // A parked long-poll with nothing new: wait without building (no query at all).
          const remaining = deadline - Date.now();
          if (remaining > 0) {
            waiter.watchRooms(quiet);
            if (await this.waitFor(waiter, quiet, upTo, remaining)) continue;
          }
        }
        // Nothing new (an idle client's incremental sync, a long-poll's timeout): no room to look at.
        const { response, hasContent, roomIds } = quiet && shortcuts ? await this.buildQuiet(user, since!, upTo, filter, quiet) : await this.build(user, since, upTo, filter, req.fullState);
        if (!waiter || hasContent) return response;
        waiter.watchRooms(roomIds);
        const remaining = deadline - Date.now();
        if (remaining <= 0) return response;
        if (!(await this.waitFor(waiter, roomIds, upTo, remaining))) return response;
      }
    } finally {
      waiter?.close();
    }
  }

  /**
   * Waits for news; true to look again. An event already published in one of the rooms but above
   * the visible position (a write with an earlier position still in flight, in another room)
   * brings no further notice when it becomes visible: look again shortly instead.
   */
  private async waitFor(waiter: Waiter, roomIds: string[], upTo: SyncToken, remaining: number): Promise<boolean> {
    if (!this.activity.anyAfter(roomIds, upTo.events)) return waiter.wait(remaining);
    await waiter.wait(Math.min(remaining, HIDDEN_RETRY_MS));
    return true;
  }

  /**
   * What build() answers when quiet() found nothing new since the token, without its walk over
   * every membership (~0.15 ms for 300 rooms). Under quiet()'s conditions build() adds nothing:
   * no membership changed after the token (no invite, knock or leave section, no fresh join), no
   * joined room has an event in (since, upTo] and typing and receipts bring nothing (no joined
   * section), account data has not moved. What remains are the extensions' fills, which run here
   * exactly as there: the spec ("GET /sync") sends device_one_time_keys_count and
   * device_unused_fallback_key_types in every answer, and to-device acknowledges on the token.
   * Same object, same key order, so the same bytes (test/integration/sync-fast-reply.test.ts).
   */
  private async buildQuiet(user: SyncUser, since: SyncToken, upTo: SyncToken, filter: SyncFilter, roomIds: string[]): Promise<{ response: SyncResponse; hasContent: boolean; roomIds: string[] }> {
    const response = emptyResponse(upTo);
    const joined = joinedIncluded(this.indexOf(await this.memberships(user.userId)), filter);
    const hasContent = await this.fillExtensions(user, since, upTo, response, joined);
    return { response, hasContent, roomIds };
  }

  private async fillExtensions(user: SyncUser, since: SyncToken | undefined, upTo: SyncToken, response: SyncResponse, joined: string[]): Promise<boolean> {
    let hasContent = false;
    for (const ext of this.extensions) {
      const s = since?.[ext.stream];
      if (await ext.fill(user, s, upTo[ext.stream], response, joined)) hasContent = true;
    }
    return hasContent;
  }

  private async build(user: SyncUser, since: SyncToken | undefined, upTo: SyncToken, filter: SyncFilter, fullState: boolean): Promise<{ response: SyncResponse; hasContent: boolean; roomIds: string[] }> {
    const response = emptyResponse(upTo);
    let hasContent = false;
    const memberships = await this.memberships(user.userId);
    const index = this.indexOf(memberships);
    const allRoomIds = index.roomIds;
    const joined = joinedIncluded(index, filter);
    const sinceEvents = since?.events ?? 0;

    const active = since && !fullState ? await this.activeRooms(joined, sinceEvents, upTo.events) : new Set(joined);

    // Account data (global and per room).
    const ad = since && since.account_data >= upTo.account_data ? [] : await this.accountData.since(user.userId, since?.account_data ?? 0);
    const roomAccountData = new Map<string, Json[]>();
    for (const row of ad) {
      if (Number(row.stream_id) > upTo.account_data) continue;
      const ev = { type: row.type, content: JSON.parse(row.content) as Json };
      if (row.room_id === "") {
        if (filter.globalAccountData(row.type)) response.account_data.events.push(ev);
      } else if (filter.roomAccountData(row.type, row.room_id)) {
        const list = roomAccountData.get(row.room_id) ?? [];
        list.push(ev);
        roomAccountData.set(row.room_id, list);
      }
    }
    if (!since) {
      for (const [type, provider] of this.globalDefaults) {
        if (!filter.globalAccountData(type) || ad.some((r) => r.room_id === "" && r.type === type)) continue;
        response.account_data.events.push({ type, content: await provider(user.userId) });
      }
    }
    response.account_data.events = limited(response.account_data.events, filter.f.account_data?.limit);
    if (response.account_data.events.length) hasContent = true;

    // Ephemeral: typing and receipts of joined rooms.
    const typing = since && since.typing === upTo.typing ? new Map<string, string[]>() : this.typing.changes(joined, since?.typing ?? 0);
    const receipts = since && since.receipts >= upTo.receipts ? new Map<string, Json>() : await this.receipts.changes(user.userId, joined, since?.receipts ?? 0);

    // An incremental sync visits only the rooms that can have something for it (a membership
    // newer than the token, new events, typing, receipts, account data), in the list's order:
    // every other room is skipped by the loop below anyway.
    const visit = since && !fullState && shortcuts ? candidates(index, memberships, sinceEvents, [active.keys(), typing.keys(), receipts.keys(), roomAccountData.keys()]) : memberships;
    const preparing: Array<() => Promise<JoinedSection>> = [];
    // Rooms whose whole state the response needs with lazy-loaded members but whose state is not in
    // memory: read from the database without their members (room-state.ts), all in a few statements.
    const unloaded: string[] = [];
    const prepared: Array<{ roomId: string; after: number }> = [];
    let stored: Map<string, StoredRoomState> | undefined;
    for (const m of visit) {
      const roomId = m.room_id;
      if (!filter.roomIncluded(roomId)) continue;
      const memberPos = Number(m.stream_ordering);
      const changedSince = !since || memberPos > sinceEvents;
      if (memberPos > upTo.events) continue; // written after this sync's snapshot: next time
      if (m.membership === "join") {
        const fresh = !since || fullState || changedSince;
        // A joined room with nothing new for an incremental sync: skipped before anything is made
        // for it (`visit` leaves most of them out already; all of them come here when it cannot).
        if (!fresh && !active.has(roomId) && !typing.has(roomId) && !receipts.has(roomId) && !roomAccountData.has(roomId)) continue;
        const ephemeral = limited(this.ephemeralFor(roomId, typing, receipts, filter), filter.f.room?.ephemeral?.limit);
        const rad = limited(roomAccountData.get(roomId) ?? [], filter.f.room?.account_data?.limit);
        if (!fresh && !active.has(roomId) && ephemeral.length === 0 && rad.length === 0) continue;
        if (fresh && filter.lazyMembers && !this.writer.cachedSnapshot(roomId)) unloaded.push(roomId);
        prepared.push({ roomId, after: fresh ? 0 : sinceEvents });
        preparing.push(async () => ({ ...(await this.prepareJoined(user, roomId, fresh ? undefined : sinceEvents, upTo.events, filter, fresh, stored?.get(roomId))), ephemeral, rad }));
        hasContent = true;
      } else if (m.membership === "invite" || m.membership === "knock") {
        if (!changedSince) continue;
        const snap = await this.writer.snapshot(roomId);
        if (m.membership === "invite") response.rooms.invite[roomId] = { invite_state: { events: this.builder.strippedState(snap, user.userId) } };
        else response.rooms.knock[roomId] = { knock_state: { events: this.builder.strippedState(snap, user.userId) } };
        hasContent = true;
      } else {
        // leave / ban: new since the token, or on an initial sync when the filter asks for them.
        if (since ? !changedSince : !filter.includeLeave) continue;
        if (!since && (await this.rooms.forgottenBy(user.userId)).has(roomId)) continue;
        response.rooms.leave[roomId] = await this.leftRoom(user, roomId, since ? sinceEvents : undefined, memberPos, filter);
        hasContent = true;
      }
    }

    if (unloaded.length) stored = await this.storedStates.get(unloaded, upTo.events);
    if (prepared.length > 1) await this.prefetch(user, prepared, upTo.events, filter, stored);
    // Joined rooms are prepared a few at a time: each is several reads one after the other, and on
    // PostgreSQL each read is a round trip (a first initial sync of 300 rooms waited on ~2,000 of
    // them in a row); the pool serves several at once. SQLite serves them in order anyway.
    const joinedSections = await inParallel(preparing, 8);

    // The state and timelines of all joined rooms: loaded and serialised in batches, not per room.
    const stateRows = await this.builder.loadMany(joinedSections.flatMap((r) => r.picks));
    const timelines = await this.serializeTimelines(user, joinedSections);
    for (const r of joinedSections) {
      const state = this.builder.finishState(r.roomId, r.picks.map((id) => stateRows.get(id)).filter((x): x is EventRow => x !== undefined), r.tl.rows, user, filter);
      response.rooms.join[r.roomId] = {
        timeline: { events: await this.project(filter, timelines.get(r.roomId) ?? []), limited: r.tl.limited, prev_batch: r.tl.prevBatch },
        state: { events: await this.project(filter, state) },
        summary: r.summary,
        ephemeral: { events: r.ephemeral },
        account_data: { events: r.rad },
      };
    }

    if (this.unread) {
      const joinedIds = Object.keys(response.rooms.join);
      const counts = await this.unread.forRooms(user, joinedIds, filter.timeline?.unread_thread_notifications === true);
      for (const id of joinedIds) Object.assign(response.rooms.join[id]!, counts.get(id) ?? { unread_notifications: { notification_count: 0, highlight_count: 0 } });
    }

    if (await this.fillExtensions(user, since, upTo, response, joined)) hasContent = true;
    return { response, hasContent, roomIds: allRoomIds };
  }

  /**
   * Nothing in (since, upTo] can concern the user: returns the rooms to watch, or undefined when
   * there may be news (the build then decides). Every answer comes from memory (positions of each
   * stream, the user's cached memberships, each room's newest positions): a parked long-poll costs
   * no query. Conservative: streams other than room events only count as quiet when they have not
   * moved at all.
   */
  private async quiet(user: SyncUser, since: SyncToken, upTo: SyncToken): Promise<string[] | undefined> {
    if (since.account_data < upTo.account_data || since.receipts < upTo.receipts) return undefined;
    for (const e of this.extensions) if (since[e.stream] < upTo[e.stream]) return undefined;
    const m = this.indexOf(await this.memberships(user.userId));
    if (m.newest > since.events) return undefined;
    if (since.events < upTo.events) {
      // The rooms that had events since the token (usually a few), not each of the user's rooms.
      const window = this.activity.roomsWithEventsIn(since.events, upTo.events);
      if (window) {
        for (const r of window) if (m.byRoom.get(r)?.membership === "join") return undefined;
      } else for (const r of m.joined) if (this.activity.hasEventIn(r, since.events, upTo.events) !== false) return undefined;
    }
    if (since.typing !== upTo.typing && this.typing.changes(m.joined, since.typing).size > 0) return undefined;
    return m.roomIds;
  }

  private memberships(userId: string): Promise<MembershipRow[]> {
    return this.activity.membershipsOf(userId, () => this.events.roomsForUser(userId, ["join", "invite", "knock", "leave", "ban"]));
  }

  /** What quiet() and build() look up in a user's memberships, made once per list (the list is
   * kept until one of them changes, room-activity.ts). Read-only: shared by concurrent syncs. */
  private indexOf(rows: MembershipRow[]): MembershipIndex {
    let m = this.indexes.get(rows);
    if (!m) {
      m = { byRoom: new Map(), at: new Map(), roomIds: [], joined: [], newest: 0, byNewest: [] };
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        m.byRoom.set(r.room_id, r);
        m.at.set(r.room_id, i);
        m.roomIds.push(r.room_id);
        if (r.membership === "join") m.joined.push(r.room_id);
        m.newest = Math.max(m.newest, Number(r.stream_ordering));
        m.byNewest.push(i);
      }
      m.byNewest.sort((a, b) => Number(rows[b]!.stream_ordering) - Number(rows[a]!.stream_ordering));
      this.indexes.set(rows, m);
    }
    return m;
  }

  /** Rooms with new events in (since, upTo]: from memory, and one query for the rooms it cannot
   * place. May hold rooms that are not among `joined` (the caller asks only about those). */
  private async activeRooms(joined: string[], since: number, upTo: number): Promise<Set<string>> {
    if (since >= upTo) return new Set<string>();
    const window = this.activity.roomsWithEventsIn(since, upTo);
    if (window) return new Set(window);
    const active = new Set<string>();
    const unknown: string[] = [];
    for (const roomId of joined) {
      const has = this.activity.hasEventIn(roomId, since, upTo);
      if (has) active.add(roomId);
      else if (has === undefined) unknown.push(roomId);
    }
    if (unknown.length) for (const r of await this.events.roomsWithEventsIn(unknown, since, upTo)) active.add(r.room_id);
    return active;
  }

  private view(roomId: string, userId: string) {
    return this.activity.viewOf(roomId, userId, () => this.visibility.view(roomId, userId));
  }

  /**
   * What preparing many rooms reads room by room, read for all of them in a few statements (a first
   * sync in 300 rooms made ~900 reads, one after the other per room; on PostgreSQL each a round
   * trip): the user's history-visibility views of the rooms, the first range of each timeline, and
   * in rooms read from the database (`stored`) the member events of the user and of those ranges'
   * senders. What is read is shared with prepareJoined through the caches it reads from.
   */
  private async prefetch(user: SyncUser, rooms: Array<{ roomId: string; after: number }>, upTo: number, filter: SyncFilter, stored: Map<string, StoredRoomState> | undefined): Promise<void> {
    this.loadViews(user.userId, rooms.map((r) => r.roomId));
    const items = await Promise.all(rooms.map(async (r) => ({ ...r, view: await this.view(r.roomId, user.userId) })));
    const ranges = await this.builder.prefetchTimelines(items, upTo, filter);
    if (!stored?.size || !filter.lazyMembers) return;
    const wanted: Array<[StoredRoomState, Set<string>]> = [];
    for (const [roomId, state] of stored) wanted.push([state, new Set([user.userId, ...(ranges.get(roomId) ?? []).map((r) => r.sender)])]);
    await this.storedStates.addMembers(wanted);
  }

  /**
   * Starts loading, with one query, the user's views of the rooms about to be prepared that are not
   * in memory yet. Each is registered before the query runs, so a membership or visibility change
   * meanwhile drops it as it would drop a view loaded alone.
   */
  private loadViews(userId: string, roomIds: string[]): void {
    const missing = roomIds.filter((r) => !this.activity.hasView(r, userId));
    if (missing.length < 2) return;
    const views = this.visibility.viewsOf(missing, userId);
    views.catch(() => undefined); // each room's view below carries the failure to its sync
    for (const r of missing) void this.activity.viewOf(r, userId, async () => (await views).get(r) ?? this.visibility.view(r, userId)).catch(() => undefined);
  }

  private ephemeralFor(roomId: string, typing: Map<string, string[]>, receipts: Map<string, Json>, filter: SyncFilter): Json[] {
    const out: Json[] = [];
    const t = typing.get(roomId);
    if (t && filter.ephemeral("m.typing", roomId)) out.push({ type: "m.typing", content: { user_ids: t } });
    const r = receipts.get(roomId);
    if (r && filter.ephemeral("m.receipt", roomId)) out.push({ type: "m.receipt", content: r });
    return out;
  }

  /** A joined room: its new timeline, and which state the client needs before it (loaded later,
   * with every other room's). `stored`: the room's state read from the database (room-state.ts),
   * for a full state with lazy-loaded members of a room not in memory. */
  private async prepareJoined(user: SyncUser, roomId: string, since: number | undefined, upTo: number, filter: SyncFilter, full: boolean, stored?: StoredRoomState): Promise<PreparedRoom> {
    const snap = stored ? undefined : await this.writer.snapshot(roomId);
    const view = await this.view(roomId, user.userId);
    const tl = await this.builder.timeline(roomId, view, since ?? 0, upTo, filter);
    const atHead = upTo >= (stored ? stored.latest : snap!.latest.streamOrdering);
    let candidates: Map<string, string>;
    // With lazy-loaded members only the timeline's senders and the user matter among members.
    const lazy = filter.lazyMembers ? new Set([user.userId, ...tl.rows.map((r) => r.sender)]) : undefined;
    if (stored && lazy) await this.storedStates.addMembers([[stored, lazy]]);
    const current = stored ?? snapshotSource(snap!);
    if (full) candidates = await this.builder.stateBeforeTimeline(current, tl.rows, atHead, upTo, lazy && { members: lazy, membersOnly: false });
    else if (tl.limited && tl.rows.length) candidates = await this.builder.stateDelta(roomId, since!, Number(tl.rows[0]!.stream_ordering) - 1);
    else if (lazy) candidates = await this.builder.stateBeforeTimeline(current, tl.rows, atHead, upTo, { members: lazy, membersOnly: true });
    else candidates = new Map();
    // Incrementally, only lazy members are added beyond the delta; other state came before.
    if (!full && !(tl.limited && tl.rows.length) && filter.lazyMembers) {
      for (const k of [...candidates.keys()]) if (!k.startsWith("m.room.member\u0000")) candidates.delete(k);
    }
    const parts = stored ? this.builder.storedSummaryParts(stored, atHead) : this.builder.summaryParts(snap!);
    return { roomId, tl, picks: this.builder.pickState(roomId, candidates, tl.rows, user, filter), summary: this.builder.summary(parts, user.userId) };
  }

  /** Serialises the timelines of many rooms with a few calls (aggregations are loaded per call). */
  private async serializeTimelines(user: SyncUser, rooms: PreparedRoom[]): Promise<Map<string, ClientEvent[]>> {
    const out = new Map<string, ClientEvent[]>();
    for (let i = 0; i < rooms.length; ) {
      const chunk: PreparedRoom[] = [];
      let n = 0;
      while (i < rooms.length && (chunk.length === 0 || n + rooms[i]!.tl.rows.length <= 1000)) {
        n += rooms[i]!.tl.rows.length;
        chunk.push(rooms[i++]!);
      }
      const events = await this.builder.serializeTimeline(chunk.flatMap((r) => r.tl.rows), user);
      let at = 0;
      for (const r of chunk) {
        out.set(r.roomId, events.slice(at, at + r.tl.rows.length));
        at += r.tl.rows.length;
      }
    }
    return out;
  }

  /** A room the user left: the timeline up to their leave. */
  private async leftRoom(user: SyncUser, roomId: string, since: number | undefined, leavePos: number, filter: SyncFilter): Promise<Json> {
    const snap = await this.writer.snapshot(roomId);
    const view = await this.view(roomId, user.userId);
    const tl = await this.builder.timeline(roomId, view, since ?? 0, leavePos, filter);
    const candidates = since === undefined || tl.limited ? await this.builder.stateBeforeTimeline(snapshotSource(snap), tl.rows, false, leavePos) : new Map<string, string>();
    const state = await this.builder.selectState(roomId, candidates, tl.rows, user, filter);
    return {
      timeline: { events: await this.project(filter, await this.builder.serializeTimeline(tl.rows, user)), limited: tl.limited, prev_batch: tl.prevBatch },
      state: { events: await this.project(filter, state) },
      account_data: { events: [] },
    };
  }

  /** `event_format` ("federation": the PDU as stored, with the client's unsigned) and `event_fields`. */
  private async project(filter: SyncFilter, events: ClientEvent[]): Promise<Json[]> {
    let out = events as unknown as Json[];
    if (filter.f.event_format === "federation" && events.length) {
      const rows = new Map((await this.events.getMany(events.map((e) => e.event_id))).map((r) => [r.event_id, r]));
      out = events.map((e) => {
        const row = rows.get(e.event_id);
        if (!row) return e as unknown as Json;
        const { unsigned: _stored, ...pdu } = JSON.parse(row.json) as Json;
        return { ...pdu, event_id: e.event_id, unsigned: e.unsigned };
      });
    }
    return filter.f.event_fields ? out.map((e) => filter.project(e as unknown as ClientEvent)) : out;
  }
}

interface MembershipIndex {
  byRoom: Map<string, MembershipRow>;
  /** Each room's place in the list. */
  at: Map<string, number>;
  /** Places in the list, newest membership first. */
  byNewest: number[];
  /** Every room of the list, in its order; and the joined ones. */
  roomIds: string[];
  joined: string[];
  /** The newest membership position. */
  newest: number;
}

interface PreparedRoom {
  roomId: string;
  tl: Timeline;
  /** Ids of the state events to send before the timeline. */
  picks: string[];
  summary: Json;
}

/** The memberships, in the list's order, of the rooms named in `rooms` or changed after `since`. */
function candidates(m: MembershipIndex, rows: MembershipRow[], since: number, rooms: Iterable<string>[]): MembershipRow[] {
  const picked = new Set<number>();
  for (const list of rooms) {
    for (const r of list) {
      const i = m.at.get(r);
      if (i !== undefined) picked.add(i);
    }
  }
  for (const i of m.byNewest) {
    if (Number(rows[i]!.stream_ordering) <= since) break;
    picked.add(i);
  }
  return [...picked].sort((a, b) => a - b).map((i) => rows[i]!);
}

/** The joined rooms the filter lets through (the shared list itself when it has no room filter). */
function joinedIncluded(m: MembershipIndex, filter: SyncFilter): string[] {
  if (!filter.f.room?.rooms && !filter.f.room?.not_rooms) return m.joined;
  return m.joined.filter((r) => filter.roomIncluded(r));
}

/** A response with nothing in it yet (its keys in the order clients have always received them). */
function emptyResponse(upTo: SyncToken): SyncResponse {
  return {
    next_batch: formatToken(upTo),
    rooms: { join: {}, invite: {}, leave: {}, knock: {} },
    account_data: { events: [] },
    presence: { events: [] },
    to_device: { events: [] },
    device_lists: { changed: [], left: [] },
    device_one_time_keys_count: {},
  };
}

/** A filter's `limit` on a list of events: the newest ones. */
function limited<T>(events: T[], limit: number | undefined): T[] {
  if (limit === undefined || events.length <= limit) return events;
  return limit === 0 ? [] : events.slice(-limit);
}

type JoinedSection = PreparedRoom & { ephemeral: Json[]; rad: Json[] };

/**
 * Runs `tasks` with at most `n` at a time; their results in the tasks' order. Rejects with the
 * first failure once all have settled.
 */
async function inParallel<T>(tasks: Array<() => Promise<T>>, n: number): Promise<T[]> {
  const out = new Array<T>(tasks.length);
  let next = 0;
  let failure: { e: unknown } | undefined;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      try {
        out[i] = await tasks[i]!();
      } catch (e) {
        failure ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, worker));
  if (failure) throw failure.e;
  return out;
}
