// The room writer (DESIGN.md invariant 1): every event, from a client or from the server itself,
// is built here (prev_events, auth_events, depth, hashes, signature), authorised by its room
// version's rules against the current state, persisted with the new current state and its stream
// position in one transaction, then published. Writes into one room are serialised (built one
// after the other, committed in that order; on SQLite a message's commit may overlap the building
// of the next, see send()); different rooms proceed in parallel.
import { randomBytes } from "node:crypto";
import type { Storage } from "../storage/database.js";
import { eventsRepo, type StateRow } from "../storage/events.js";
import { roomsRepo } from "../storage/rooms.js";
import type { SigningKey } from "../matrix/signing.js";
import { signEvent } from "../matrix/signing.js";
import { eventIdFor } from "../matrix/event-id.js";
import { authorizeEvent, canRedact } from "../matrix/auth-rules.js";
import { buildEventWith, eventRowFor, MAX_EVENT_BYTES } from "./event-build.js";
import { EventSigner } from "../matrix/signer.js";
import { powerLevelsFrom } from "../matrix/power-levels.js";
import { stateKey, type PDU, type StateKey } from "../matrix/pdu.js";
import { requireRoomVersion, type RoomVersionId } from "../matrix/room-versions.js";
import { MatrixError, forbidden, notFound } from "../http/errors.js";
import { KeyedMutex } from "./keyed-mutex.js";
import { StreamIdGenerator } from "./stream-ids.js";
import type { Notifier } from "./notifier.js";
import { applyRedaction } from "./redactions.js";
import { searchEntriesFor } from "./search-index.js";
import { insertSearchEntry } from "../storage/search.js";
import { GroupCommit } from "../storage/group-commit.js";
import { SearchIndexQueue } from "./search-queue.js";
import { TxnIds } from "./txn-ids.js";

/** What a caller asks to write; the writer fills in everything else. */
export interface EventDraft {
  type: string;
  sender: string;
  content: Record<string, unknown>;
  state_key?: string;
  /** For m.room.redaction: the event being redacted. */
  redacts?: string;
}

export interface WriteOptions {
  /** The sending device's transaction, echoed back to it and used for idempotency. */
  txn?: { deviceId: string; txnId: string };
}

export interface Persisted {
  eventId: string;
  streamOrdering: number;
  pdu: PDU;
}

/** The current state of a room, as the writer knows it (read-only for everyone else). */
export interface RoomSnapshot {
  roomId: string;
  version: RoomVersionId;
  createEvent: PDU;
  state: ReadonlyMap<StateKey, PDU>;
  latest: { eventId: string; depth: number; streamOrdering: number };
}

/** A room as the writer holds it, lent to the bulk importer under the room's lock. */
export type WritableRoom = RoomCacheEntry;

interface RoomCacheEntry {
  roomId: string;
  version: RoomVersionId;
  createEvent: PDU;
  state: Map<StateKey, PDU>;
  /** The newest committed event (what readers of snapshot() may rely on). */
  latest: { eventId: string; depth: number; streamOrdering: number };
  /** The newest event built, committed or still in the commit queue: the next event's prev_events. */
  tip: { eventId: string; depth: number };
  /** The room's last event handed to the commit queue and not yet settled. */
  inflight?: InFlight;
  /**
   * Set when an event of the room failed and the entry was dropped for a reload: an event still
   * being built on it (waiting for its signature) must not be stored (it points at the failed one).
   */
  stale?: boolean;
}

/**
 * One event of a room on its way to the database. A message may be queued behind earlier ones of
 * its room that are not committed yet (pipelining, see send()); if one of them fails, every later
 * one fails too, since it points at the failed event (prev_events) and was numbered after it.
 */
interface InFlight {
  failed: boolean;
  /** Settles (never rejects) when the event is committed or abandoned. */
  settled: Promise<void>;
}

export { MAX_EVENT_BYTES };
const CACHE_ROOMS = 2000;

/** A send queued for commit: the room's lock is released, the caller still waits for the commit. */
interface Queued {
  committed: Promise<Persisted>;
}
const isQueued = (v: Persisted | Queued): v is Queued => "committed" in v;
/** The first event of a send's txnId when it was used before (writer.send()). */
type Replayed = () => Promise<Persisted | undefined>;

/**
 * Work that must commit atomically with an event (e.g. push actions for unread counts). Runs inside
 * the writer's transaction, after the event row is written, with the room state as it was before
 * the event (as push rule evaluation expects); throwing aborts the whole write. It may run more
 * than once for one event (on PostgreSQL its writes are first recorded to be sent with others, see
 * storage/group-commit.ts), so it must change nothing but rows written through `tx` (or state it
 * overwrites, keyed by the event).
 */
export type PersistHook = (tx: Storage["db"], room: RoomSnapshot, pdu: PDU, streamOrdering: number) => Promise<void>;

/**
 * A server policy (e.g. src/policy) judging an event sent into an existing room, under the room's
 * lock, before it is built; throwing a MatrixError refuses it. Room creation's own events are
 * judged up front by the creator of the request instead.
 */
export type EventCheck = (room: RoomSnapshot, draft: EventDraft) => Promise<void>;

export interface WriterOptions {
  /** SQLite: longest wait of a new event's search entries before their batch is written. */
  searchIndexIntervalMs?: number;
  /** How long a send's txnId is remembered (a retry later is a new send). */
  txnRetentionMs?: number;
  /** Reports background work that failed and will be retried (search index batches). */
  onBackgroundError?: (what: string, e: unknown) => void;
}

export class RoomWriter {
  private mutex = new KeyedMutex();
  private hooks: PersistHook[] = [];
  private checks: EventCheck[] = [];
  private cache = new Map<string, RoomCacheEntry>();
  /** Entries dropped from the cache so far: a load that saw this change may have read too early. */
  private drops = 0;
  /** Sends' transaction ids, per device (txn-ids.ts). */
  private readonly txnIds: TxnIds<Persisted>;
  /**
   * Whether messages may be queued behind uncommitted ones of their room: the group commit's queue
   * runs in order on both engines (one transaction per batch on SQLite, combined statements on PostgreSQL), so a
   * room's events commit in the order they were built, and the events of one busy room share commits.
   */
  private readonly pipelining = true;
  private readonly events;
  private readonly rooms;
  private readonly commits;
  /** SQLite only: new events' search entries, written in batches (search-queue.ts). */
  private readonly searchQueue: SearchIndexQueue | undefined;
  /** Hashes and signs new events, on its own thread while several sends are in progress. */
  private readonly signer: EventSigner;
  /**
   * Sends in progress (send()), per room. Events are signed on the signing thread only
   * while sends into other rooms are in progress: the main thread then has their work to do
   * meanwhile. Sends into one room are built one after the other under its lock, so there the
   * hand-over would only lengthen the lock (and, fewer messages sharing each commit, cost more:
   * 64 clients in one room, 1.7 → 3.4 ms of CPU per send).
   */
  private sendingIn = new Map<string, number>();

  private constructor(
    private readonly storage: Storage,
    private readonly serverName: string,
    private readonly key: SigningKey,
    private readonly now: () => number,
    private readonly notifier: Notifier,
    readonly streamIds: StreamIdGenerator,
    opts: WriterOptions,
  ) {
    this.events = eventsRepo(storage.db);
    this.rooms = roomsRepo(storage.db);
    this.commits = new GroupCommit(storage.db, storage.dialect === "sqlite" ? "transaction" : "statements");
    this.signer = new EventSigner(serverName, key);
    this.txnIds = new TxnIds(this.events, { retentionMs: opts.txnRetentionMs ?? 24 * 3_600_000 }, now);
    this.searchQueue =
      storage.dialect === "sqlite"
        ? new SearchIndexQueue(storage, this.commits, {
            intervalMs: opts.searchIndexIntervalMs ?? 250,
            currentPosition: () => this.streamIds.current(),
            onError: (e) => opts.onBackgroundError?.("search index batch", e),
          })
        : undefined;
  }

  static async open(storage: Storage, serverName: string, key: SigningKey, now: () => number, notifier: Notifier, opts: WriterOptions = {}): Promise<RoomWriter> {
    const max = await eventsRepo(storage.db).maxStreamOrdering();
    if (storage.dialect === "sqlite") await SearchIndexQueue.recover(storage, max);
    return new RoomWriter(storage, serverName, key, now, notifier, await StreamIdGenerator.persisted(storage.db, "events_reserved", max), opts);
  }

  /** Makes every committed event searchable now (searches call it first). */
  async flushSearchIndex(): Promise<void> {
    await this.searchQueue?.flush();
  }

  /** Forgets the txnIds past their retention (called periodically). */
  pruneTxnIds(): Promise<void> {
    return this.txnIds.prune();
  }

  /** Writes what is still pending (the server is stopping; no event is being sent any more). */
  async close(): Promise<void> {
    await this.searchQueue?.close();
    await this.signer.close();
  }

  addPersistHook(hook: PersistHook): void {
    this.hooks.push(hook);
  }

  addEventCheck(check: EventCheck): void {
    this.checks.push(check);
  }

  /** The position up to which every event is persisted: the "now" of the event stream. */
  currentPosition(): number {
    return this.streamIds.current();
  }

  /**
   * Creates a room: the m.room.create event, then `initial(roomId)` events, all under the room's
   * lock so nobody can write in between.
   */
  async createRoom(creator: string, version: RoomVersionId, createContent: Record<string, unknown>, initial: (roomId: string) => EventDraft[]): Promise<{ roomId: string; events: Persisted[] }> {
    const rv = requireRoomVersion(version);
    const content: Record<string, unknown> = { ...createContent, room_version: version };
    if (!rv.implicitRoomCreator) content.creator = creator;
    const ts = this.now();
    // v12 (content/rooms/v12.md): the room id is derived from the create event, which has no room_id.
    const provisionalRoomId = rv.createEventHasRoomId ? `!${randomBytes(12).toString("base64url").replace(/[-_]/g, "x")}:${this.serverName}` : undefined;
    const draft: Record<string, unknown> = { type: "m.room.create", state_key: "", sender: creator, content, origin_server_ts: ts, prev_events: [], auth_events: [], depth: 1 };
    if (provisionalRoomId) draft.room_id = provisionalRoomId;
    const signed = signEvent(draft, version, this.serverName, this.key) as Record<string, unknown>;
    const eventId = eventIdFor(signed, version);
    const roomId = provisionalRoomId ?? `!${eventId.slice(1)}`;
    const createPdu = { ...signed, event_id: eventId } as unknown as PDU;

    return this.mutex.run(roomId, async () => {
      const auth = authorizeEvent(createPdu, new Map(), version, { createEvent: createPdu });
      if (!auth.allowed) throw new MatrixError(400, "M_BAD_JSON", `Cannot create room: ${auth.reason}`);
      const entry: RoomCacheEntry = { roomId, version, createEvent: createPdu, state: new Map(), latest: { eventId, depth: 0, streamOrdering: 0 }, tip: { eventId, depth: 0 } };
      const persisted: Persisted[] = [];
      persisted.push(
        await this.persist(entry, createPdu, undefined, async (tx) => {
          await roomsRepo(tx).insert({ room_id: roomId, room_version: version, creator, created_ts: ts, is_public: 0, blocked: 0 });
        }),
      );
      this.remember(entry);
      for (const d of initial(roomId)) persisted.push(await this.buildAndPersist(entry, d));
      return { roomId, events: persisted };
    });
  }

  /**
   * Sends one event into an existing room. Resolves once the event is committed. A message (not
   * a state event, not a redaction) releases the room's lock as soon as it is queued for commit
   * (where the commits are ordered, see `pipelining`), so the next message of the room is built
   * while it commits and both can share one commit: a busy room is no longer one commit per event.
   */
  async send(roomId: string, draft: EventDraft, opts: WriteOptions = {}): Promise<Persisted> {
    this.sendingIn.set(roomId, (this.sendingIn.get(roomId) ?? 0) + 1);
    try {
      return await this.sendCounted(roomId, draft, opts);
    } finally {
      const n = this.sendingIn.get(roomId)! - 1;
      if (n === 0) this.sendingIn.delete(roomId);
      else this.sendingIn.set(roomId, n);
    }
  }

  private async sendCounted(roomId: string, draft: EventDraft, opts: WriteOptions): Promise<Persisted> {
    // The device's txnIds are read before the lock if they are not known yet (txn-ids.ts).
    const asked = opts.txn ? this.txnIds.ask({ userId: draft.sender, deviceId: opts.txn.deviceId, txnId: opts.txn.txnId }) : undefined;
    const out = await this.mutex.run(roomId, async (): Promise<Persisted | Queued> => {
      let replayed: Replayed | undefined;
      if (asked) {
        // Two identical requests racing store one event, and a retry waits for the first.
        const known = this.txnIds.known(asked);
        if (known) return { committed: known };
        // Awaited before anything is stored.
        replayed = async () => {
          const eventId = await this.txnIds.seen(asked);
          return eventId ? this.existing(eventId) : undefined;
        };
      }
      const pipelined = this.pipelining && draft.state_key === undefined && draft.type !== "m.room.redaction";
      let built: Persisted | Queued;
      try {
        const entry = await this.load(roomId);
        for (const c of this.checks) await c(entry, draft);
        built = await this.buildAndPersist(entry, draft, opts, pipelined, replayed);
      } catch (e) {
        // A replayed txnId answers its first event, even where sending it again would now fail.
        const first = await replayed?.().catch(() => undefined);
        if (first) return first;
        throw e;
      }
      if (asked) this.txnIds.queued(asked, isQueued(built) ? built.committed : Promise.resolve(built));
      return built;
    });
    return isQueued(out) ? out.committed : out;
  }

  /** The room's current state (cached). Throws 404 for an unknown room. */
  async snapshot(roomId: string): Promise<RoomSnapshot> {
    return this.load(roomId);
  }

  /** The room's snapshot if the room is in memory, without loading it (nor marking it as used). */
  cachedSnapshot(roomId: string): RoomSnapshot | undefined {
    return this.cache.get(roomId);
  }

  /**
   * Runs `fn` holding the room's write lock, then forgets the cached state: for work that changes
   * a room's rows outside the event path (the admin purge), so no event is written in between and
   * the next write reloads (and finds the room gone).
   */
  async exclusive<T>(roomId: string, fn: () => Promise<T>): Promise<T> {
    return this.mutex.run(roomId, async () => {
      try {
        // Messages queued before the lock was taken commit first, and their search entries are
        // written, so that `fn` (the purge) finds every row of the room.
        await this.cache.get(roomId)?.inflight?.settled;
        await this.searchQueue?.flush();
        return await fn();
      } finally {
        this.drop(roomId);
        // The purge deleted the room's txnIds.
        this.txnIds.forgetAll();
      }
    });
  }

  /**
   * For the bulk importer (rooms/importer.ts): runs `fn` under the room's write lock with the
   * writer's own cached room, whose state and forward extremity `fn` advances as it persists, and
   * the server's event checks. If `fn` throws, the cached room is dropped so the next write reloads.
   */
  async withRoom<T>(roomId: string, fn: (room: WritableRoom, checks: readonly EventCheck[]) => Promise<T>): Promise<T> {
    return this.mutex.run(roomId, async () => {
      // Messages queued before the lock was taken commit first, so the import extends them.
      await this.cache.get(roomId)?.inflight?.settled;
      // And their search entries are written: an imported redaction must find them to delete.
      await this.searchQueue?.flush();
      const entry = await this.load(roomId);
      try {
        return await fn(entry, this.checks);
      } catch (e) {
        this.drop(roomId);
        throw e;
      }
    });
  }

  async roomExists(roomId: string): Promise<boolean> {
    return this.cache.has(roomId) || (await this.rooms.get(roomId)) !== undefined;
  }

  private async existing(eventId: string): Promise<Persisted> {
    const row = await this.events.get(eventId);
    if (!row) throw new MatrixError(500, "M_UNKNOWN", "Transaction refers to a missing event");
    return { eventId, streamOrdering: Number(row.stream_ordering), pdu: JSON.parse(row.json) as PDU };
  }

  private async load(roomId: string): Promise<RoomCacheEntry> {
    for (;;) {
      const hit = this.cache.get(roomId);
      if (hit) {
        this.cache.delete(roomId);
        this.cache.set(roomId, hit);
        return hit;
      }
      const drops = this.drops;
      const room = await this.rooms.get(roomId);
      if (!room) throw notFound("Unknown room");
      const [rows, latest] = await Promise.all([this.events.currentState(roomId), this.events.latest(roomId)]);
      // Read outside the room's lock (snapshot()): an entry made meanwhile by a writer may know
      // events these rows do not, and one dropped meanwhile may have committed some: read again.
      if (this.cache.has(roomId) || this.drops !== drops) continue;
      const entry = this.entryFrom(roomId, room.room_version, rows, latest);
      this.remember(entry);
      return entry;
    }
  }

  private entryFrom(roomId: string, version: string, rows: StateRow[], latest: { event_id: string; depth: number | string; stream_ordering: number | string } | undefined): RoomCacheEntry {
    const state = new Map<StateKey, PDU>();
    for (const r of rows) state.set(stateKey(r.type, r.state_key), JSON.parse(r.json) as PDU);
    const createEvent = state.get(stateKey("m.room.create", ""));
    if (!createEvent || !latest) throw new MatrixError(500, "M_UNKNOWN", "Room state is incomplete");
    return {
      roomId,
      version: version as RoomVersionId,
      createEvent,
      state,
      latest: { eventId: latest.event_id, depth: Number(latest.depth), streamOrdering: Number(latest.stream_ordering) },
      tip: { eventId: latest.event_id, depth: Number(latest.depth) },
    };
  }

  private remember(entry: RoomCacheEntry): void {
    this.cache.set(entry.roomId, entry);
    if (this.cache.size <= CACHE_ROOMS) return;
    // Oldest out first, but never a room with events in the commit queue: reloaded from the
    // database, it would not know them and would fork its history.
    for (const [id, e] of this.cache) {
      if (e.inflight) continue;
      this.drop(id);
      return;
    }
  }

  private drop(roomId: string): void {
    if (this.cache.delete(roomId)) this.drops++;
  }

  /** Send-time rule for redactions (auth-rules.ts canRedact): own events, or the redact level. */
  private async checkRedaction(entry: RoomCacheEntry, draft: EventDraft): Promise<void> {
    if (!draft.redacts) throw new MatrixError(400, "M_BAD_JSON", "A redaction needs the id of the event it redacts");
    const target = await this.events.get(draft.redacts);
    if (!target || target.room_id !== entry.roomId) throw notFound("Event not found");
    const pl = powerLevelsFrom(entry.state.get(stateKey("m.room.power_levels", ""))?.content, entry.createEvent, entry.version);
    if (!canRedact(draft.sender, { sender: target.sender }, pl, entry.version)) throw forbidden("You cannot redact this event");
  }

  private async buildAndPersist(entry: RoomCacheEntry, draft: EventDraft, opts?: WriteOptions): Promise<Persisted>;
  private async buildAndPersist(entry: RoomCacheEntry, draft: EventDraft, opts: WriteOptions, pipelined: boolean, replayed?: Replayed): Promise<Persisted | Queued>;
  private async buildAndPersist(entry: RoomCacheEntry, draft: EventDraft, opts: WriteOptions = {}, pipelined = false, replayed?: Replayed): Promise<Persisted | Queued> {
    if (draft.type === "m.room.redaction") await this.checkRedaction(entry, draft);
    // Built on the room's tip: the newest event queued, which may not be committed yet (send()).
    const base = { roomId: entry.roomId, version: entry.version, createEvent: entry.createEvent, state: entry.state, latest: entry.tip };
    const elsewhere = this.sendingIn.size > (this.sendingIn.has(entry.roomId) ? 1 : 0);
    const pdu = await buildEventWith(base, draft, this.now(), this.serverName, this.signer, elsewhere);
    // The txnId was used before: its first event is the answer, and nothing is stored.
    const first = await replayed?.();
    if (first) return first;
    // While it was being signed (or its txnId looked up), an earlier event of the room may have
    // failed: this one points at the failed history (as a message queued behind a failed one, see
    // InFlight). Checked after the last await: from here to the queueing nothing else runs.
    if (entry.stale) throw new MatrixError(500, "M_UNKNOWN", "An earlier event of this room could not be stored; retry");
    // Authorised: the target's search entries still waiting for their batch never get written.
    if (draft.type === "m.room.redaction" && draft.redacts) this.searchQueue?.forget(draft.redacts);
    const committed = this.persist(entry, pdu, opts.txn);
    return pipelined ? { committed } : committed;
  }

  /** Writes the event, its state effects, search and relation index, and txn in one transaction. */
  private async persist(entry: RoomCacheEntry, pdu: PDU, txn: WriteOptions["txn"], extra?: (tx: Storage["db"]) => Promise<void>): Promise<Persisted> {
    const position = this.streamIds.allocate();
    const isState = typeof pdu.state_key === "string";
    const { row, stored, key, membership } = eventRowFor(entry.roomId, pdu, position, entry.state, txn);
    let redactedTarget: PDU | undefined;
    const search = searchEntriesFor(pdu).map((s) => ({ ...s, event_id: pdu.event_id, room_id: entry.roomId, stream_ordering: position }));
    // Queued behind the room's previous event, if that one is not committed yet (see send()).
    const previous = entry.inflight;
    let settle!: () => void;
    const unit: InFlight = { failed: false, settled: new Promise<void>((r) => (settle = r)) };
    entry.inflight = unit;
    entry.tip = { eventId: pdu.event_id, depth: pdu.depth };
    try {
      // Events of other rooms (and earlier messages of this one) being persisted at the same
      // moment share this transaction. `run` queues the work before its first await, in order.
      // The work may run twice: on SQLite after a batch rolled back for another unit's failure, on
      // PostgreSQL recorded, then in a transaction of its own when it does something that cannot
      // be deferred (group-commit.ts); it only writes through `tx`.
      await this.commits.run(
        async (tx) => {
          if (previous?.failed) throw new MatrixError(500, "M_UNKNOWN", "An earlier event of this room could not be stored; retry");
          if (extra) await extra(tx);
          const events = eventsRepo(tx);
          await events.insert(row);
          if (isState) {
            await events.upsertCurrentState({ room_id: entry.roomId, type: pdu.type, state_key: pdu.state_key!, event_id: pdu.event_id, stream_ordering: position, membership });
          }
          if (txn) await events.insertTxn({ user_id: pdu.sender, device_id: txn.deviceId, txn_id: txn.txnId, event_id: pdu.event_id, created_ts: this.now() });
          if (!this.searchQueue) for (const s of search) await insertSearchEntry(tx, this.storage.dialect, s);
          if (pdu.type === "m.room.redaction") redactedTarget = await applyRedaction(tx, this.storage.dialect, entry, pdu);
          for (const h of this.hooks) await h(tx, entry, pdu, position);
        },
        // Marked by the queue as soon as the unit fails (its work or its commit), before it moves
        // on, so the room's next queued event sees it.
        () => (unit.failed = true),
      );
    } catch (e) {
      unit.failed = true;
      this.streamIds.finish(position);
      // The cached room's tip is this failed event: it must be reloaded from the database, but
      // only once the room's earlier events still in the commit queue are settled, or the reload
      // would not see them and the next event would fork the history (on PostgreSQL the queue
      // commits while requests are served). Until then every write built on this entry fails,
      // since it is queued behind this failed unit (entry.inflight stays on it).
      await previous?.settled;
      entry.stale = true;
      if (this.cache.get(entry.roomId) === entry) this.drop(entry.roomId);
      if (entry.inflight === unit) entry.inflight = undefined;
      settle();
      throw e;
    }
    if (entry.inflight === unit) entry.inflight = undefined;
    settle();
    if (key) entry.state.set(key, pdu);
    if (redactedTarget && typeof redactedTarget.state_key === "string") {
      // A redacted state event still holds its place in state, with its redacted content.
      const k = stateKey(redactedTarget.type, redactedTarget.state_key);
      if (entry.state.get(k)?.event_id === redactedTarget.event_id) entry.state.set(k, redactedTarget);
    }
    entry.latest = { eventId: pdu.event_id, depth: pdu.depth, streamOrdering: position };
    // Queued before the position counts as persisted: the search mark never passes an event
    // whose entries are not written or queued (search-queue.ts).
    if (search.length > 0) this.searchQueue?.add(search);
    this.streamIds.finish(position);
    this.notifier.publishRoomEvent({
      roomId: entry.roomId,
      eventId: pdu.event_id,
      streamOrdering: position,
      type: pdu.type,
      stateKey: isState ? pdu.state_key! : null,
      sender: pdu.sender,
      membershipOf: membership ? pdu.state_key : undefined,
    });
    return { eventId: pdu.event_id, streamOrdering: position, pdu: stored };
  }
}

