// The full-text search index of new events, written in batches on SQLite.
//
// Why: an FTS5 table writes a new index segment at every commit that touched it, and merges
// segments as they pile up. Indexing each message in its own commit cost ~165 µs of a send's
// ~1 ms of server CPU (bench/rooms.ts, measured with the statement timings of better-sqlite3):
// the insert itself and, above all, the pages FTS5 writes at commit. Batched, one FTS5 commit
// serves hundreds of messages. PostgreSQL (a tsvector column, a GIN index with its pending list)
// keeps indexing inside the event's own transaction: there the queue is not used.
//
// What stays true:
// - A search sees every event committed before it: searches flush the queue first.
// - A redacted event's text never reaches the index after its redaction (forget()), and a purged
//   room's pending entries are flushed before the purge deletes the room's rows.
// - A crash loses no entry: the stream position up to which every event's entries are in the
//   index ("search_indexed" in the streams table) is written with each batch, and at start the
//   events after it are indexed again from their stored JSON (recover()).
import type { Storage } from "../storage/database.js";
import type { GroupCommit } from "../storage/group-commit.js";
import { insertSearchEntries, type SearchEntry } from "../storage/search.js";
import { streamsRepo } from "../storage/streams.js";
import { eventsRepo } from "../storage/events.js";
import { searchEntriesFor } from "./search-index.js";
import type { PDU } from "../matrix/pdu.js";

/** The streams row that holds the position up to which the index is complete. */
export const SEARCH_MARK = "search_indexed";
/** A batch is written at once when it reaches this many entries. */
const MAX_PENDING = 512;
/** Redactions remembered for entries that arrive after them (see forget()). */
const FORGET_TTL_MS = 60_000;
/** Events re-indexed per transaction at start. */
const RECOVERY_BATCH = 500;

export interface SearchQueueOptions {
  /** Longest time an entry waits before its batch is written. */
  intervalMs: number;
  /** The position up to which every event is persisted (the writer's stream). */
  currentPosition: () => number;
  /** Reports a batch that could not be written (it is kept and retried). */
  onError: (e: unknown) => void;
}

export class SearchIndexQueue {
  private pending: SearchEntry[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** Redacted event ids whose entries must be dropped if they are still to come, with when. */
  private forgotten = new Map<string, number>();
  private closed = false;

  constructor(
    private readonly storage: Storage,
    private readonly commits: GroupCommit,
    private readonly opts: SearchQueueOptions,
  ) {}

  /**
   * Indexes, at start, the events after the mark: those whose batch a crash lost. A database
   * without a mark (new, or written before batching, when every event was indexed as it was
   * stored) starts with the mark at its newest event (`newest`, the writer's own start-up read).
   */
  static async recover(storage: Storage, newest: number): Promise<void> {
    const streams = streamsRepo(storage.db);
    const events = eventsRepo(storage.db);
    const mark = await streams.stored(SEARCH_MARK);
    if (mark === undefined) {
      await streams.raiseTo(SEARCH_MARK, newest);
      return;
    }
    let from = mark;
    while (from < newest) {
      const rows = await events.after(from, RECOVERY_BATCH);
      if (rows.length === 0) break;
      const upTo = Number(rows[rows.length - 1]!.stream_ordering);
      // A redacted event is stored redacted: its text is gone, so it yields no entry.
      const entries = rows.flatMap((r) => searchEntriesFor(JSON.parse(r.json) as PDU).map((s) => ({ ...s, event_id: r.event_id, room_id: r.room_id, stream_ordering: Number(r.stream_ordering) })));
      await storage.db.transaction().execute(async (tx) => {
        await insertSearchEntries(tx, storage.dialect, entries);
        await streamsRepo(tx).raiseTo(SEARCH_MARK, upTo);
      });
      from = upTo;
    }
  }

  /** Queues the entries of an event just committed (before its position is published). */
  add(entries: SearchEntry[]): void {
    for (const e of entries) {
      if (this.forgotten.has(e.event_id)) continue;
      this.pending.push(e);
    }
    if (this.pending.length >= MAX_PENDING) void this.flushQuietly();
    else if (this.pending.length > 0 && !this.timer && !this.closed) {
      this.timer = setTimeout(() => void this.flushQuietly(), this.opts.intervalMs);
      this.timer.unref();
    }
  }

  /**
   * An event is being redacted: its pending entries are dropped, and entries of it queued later
   * (its commit racing the redaction) too. Entries already written are deleted by the redaction.
   */
  forget(eventId: string): void {
    const now = Date.now();
    for (const [id, at] of this.forgotten) if (now - at > FORGET_TTL_MS) this.forgotten.delete(id);
    this.forgotten.set(eventId, now);
    this.pending = this.pending.filter((e) => e.event_id !== eventId);
  }

  /** Writes every pending entry (and the mark); resolves once committed. */
  async flush(): Promise<void> {
    // One batch at a time; a flush asked for during one writes what arrived since, after it.
    while (this.flushing) await this.flushing;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.flushing = this.writeBatch();
    try {
      await this.flushing;
    } finally {
      this.flushing = undefined;
    }
  }

  /** Writes what is pending and stops the timer (the server is stopping). */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
  }

  private async flushQuietly(): Promise<void> {
    try {
      await this.flush();
    } catch (e) {
      this.opts.onError(e);
      // Kept for the next attempt.
      if (!this.timer && !this.closed && this.pending.length > 0) {
        this.timer = setTimeout(() => void this.flushQuietly(), this.opts.intervalMs);
        this.timer.unref();
      }
    }
  }

  private async writeBatch(): Promise<void> {
    let batch: SearchEntry[] | undefined;
    let upTo = 0;
    try {
      await this.commits.run(async (tx) => {
        // Taken when the batch first runs, in the commit queue's order: every event up to `upTo`
        // is committed, and its entries were queued before its position counted as persisted.
        // Taken once: group commit may run this work a second time (group-commit.ts).
        if (!batch) {
          batch = this.pending;
          this.pending = [];
          upTo = this.opts.currentPosition();
        }
        await insertSearchEntries(tx, this.storage.dialect, batch.filter((e) => !this.forgotten.has(e.event_id)));
        await streamsRepo(tx).raiseTo(SEARCH_MARK, upTo);
      });
    } catch (e) {
      // Back in front, unless redacted meanwhile.
      this.pending = [...(batch ?? []).filter((x) => !this.forgotten.has(x.event_id)), ...this.pending];
      throw e;
    }
  }
}
