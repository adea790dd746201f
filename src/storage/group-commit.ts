// Group commit: writes queued in the same turn of the event loop (or while a batch runs) are
// committed together, so that N concurrent writers cost one commit instead of N. Each unit of work
// still succeeds or fails on its own: a failure rejects only its caller. Units run in the order
// they were queued, one batch at a time (the room writer relies on it to queue a room's messages
// behind each other, see writer.ts send()). Two ways to share a commit:
// - "transaction" (SQLite): one transaction per batch. A commit writes every dirty page (the index
//   leaves that all new events touch), once per batch instead of per event. A failing unit rolls
//   the batch back and the others run again one transaction each (together()).
// - "statements" (PostgreSQL): each unit is recorded (deferred-writes.ts) and the inserts of the
//   whole batch go as one statement (combined-statement.ts), its own implicit transaction: one
//   round trip and one WAL flush for the batch, where a unit in its own transaction was ~7 round
//   trips. A unit that cannot be recorded runs in its own transaction, in its place in the order;
//   if a combined statement fails, its units are sent one by one, so only the culprit fails.
import type { CompiledQuery } from "kysely";
import type { Db } from "./database.js";
import { DeferredWrites, NeedsTransaction } from "./deferred-writes.js";
import { combinable, combineInserts, MAX_COMBINED_PARAMETERS } from "./combined-statement.js";

type Work = (tx: Db) => Promise<void>;

export type GroupCommitMode = "transaction" | "statements";

interface Pending {
  work: Work;
  resolve: () => void;
  reject: (e: unknown) => void;
  /** Called at once when the unit fails, before the queue moves on to the next unit. */
  onFail?: () => void;
}

interface Recorded {
  p: Pending;
  queries: CompiledQuery[];
  parameters: number;
}

/** Enough to amortise a commit; small enough that one batch does not hold the database long. */
const MAX_BATCH = 128;

export class GroupCommit {
  private queue: Pending[] = [];
  private draining = false;
  private readonly deferred?: DeferredWrites;

  constructor(
    private readonly db: Db,
    private readonly mode: GroupCommitMode,
  ) {
    if (mode === "statements") this.deferred = new DeferredWrites(db);
  }

  /**
   * Runs `work` inside a transaction (possibly shared); resolves once it is committed. `onFail`
   * runs as soon as the unit is known to have failed, before any later unit runs.
   */
  run(work: Work, onFail?: () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ work, resolve, reject, onFail });
      if (!this.draining) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        // better-sqlite3 runs a whole transaction without ever returning to the event loop (its
        // awaits are microtasks only), so requests that arrived meanwhile are still unread: let
        // them in first (one loop turn), or every batch would hold a single write.
        await new Promise<void>((resolve) => setImmediate(resolve));
        const batch = this.queue.splice(0, MAX_BATCH);
        if (this.mode === "statements") await this.statements(batch);
        else if (batch.length === 1) await this.single(batch[0]!);
        else await this.together(batch);
      }
    } finally {
      this.draining = false;
    }
  }

  private fail(p: Pending, e: unknown): void {
    p.onFail?.();
    p.reject(e);
  }

  private async single(p: Pending): Promise<void> {
    try {
      await this.db.transaction().execute(p.work);
      p.resolve();
    } catch (e) {
      this.fail(p, e);
    }
  }

  /**
   * "transaction" mode: all units in one transaction, without savepoints (a savepoint per unit
   * cost two more statements and, on SQLite, a copy of every page the unit changed: 64 clients in
   * 64 rooms 0.60 → 0.47 ms of CPU per send, bench/rooms.ts). When a unit fails, the transaction
   * is rolled back and the other units run again, each in a transaction of its own, in queue
   * order; the failing unit is failed in its place in that order (before any unit queued behind
   * it runs again). All of them again if the commit itself failed. So a unit's work may run twice,
   * the first run rolled back: it must keep nothing of a run that did not commit.
   */
  private async together(batch: Pending[]): Promise<void> {
    let failed: { index: number; error: unknown } | undefined;
    try {
      await this.db.transaction().execute(async (tx) => {
        for (let i = 0; i < batch.length; i++) {
          try {
            await batch[i]!.work(tx);
          } catch (error) {
            failed = { index: i, error };
            throw error;
          }
        }
      });
    } catch {
      for (let i = 0; i < batch.length; i++) {
        if (failed && i === failed.index) this.fail(batch[i]!, failed.error);
        else await this.single(batch[i]!);
      }
      return;
    }
    for (const p of batch) p.resolve();
  }

  /** "statements" mode: consecutive recordable units share a statement, in queue order. */
  private async statements(batch: Pending[]): Promise<void> {
    let segment: Recorded[] = [];
    let parameters = 0;
    let written = new Set<string>();
    const flush = async () => {
      if (segment.length > 0) await this.sendSegment(segment);
      segment = [];
      parameters = 0;
      written = new Set();
    };
    /** The unit recorded against the segment so far; undefined when it failed (and is rejected). */
    const recordOrFail = async (p: Pending): Promise<Recorded | "transaction" | undefined> => {
      try {
        return await this.record(p, written);
      } catch (e) {
        this.fail(p, e);
        return undefined;
      }
    };
    for (const p of batch) {
      let r = await recordOrFail(p);
      if (r !== undefined && r !== "transaction" && parameters + r.parameters > MAX_COMBINED_PARAMETERS) {
        // Recorded again after the flush: if a unit of the flushed segment fails, a unit queued
        // behind it in its room must see that (writer.ts persist()).
        await flush();
        r = await recordOrFail(p);
      }
      if (r === undefined) continue;
      if (r === "transaction") {
        // Runs after the units before it are committed, and sees their rows.
        await flush();
        await this.single(p);
        continue;
      }
      segment.push(r);
      parameters += r.parameters;
    }
    await flush();
  }

  /** The unit's inserts, or "transaction" when it must run in a transaction of its own. */
  private async record(p: Pending, written: Set<string>): Promise<Recorded | "transaction"> {
    const mine = new Set(written);
    let queries: CompiledQuery[];
    try {
      queries = await this.deferred!.record(p.work, mine);
    } catch (e) {
      if (e instanceof NeedsTransaction) return "transaction";
      throw e;
    }
    if (!queries.every(combinable)) return "transaction";
    const parameters = queries.reduce((n, q) => n + q.parameters.length, 0);
    if (parameters > MAX_COMBINED_PARAMETERS) return "transaction";
    for (const t of mine) written.add(t);
    return { p, queries, parameters };
  }

  private async sendSegment(segment: Recorded[]): Promise<void> {
    try {
      await this.db.executeQuery(combineInserts(segment.flatMap((r) => r.queries)));
      for (const r of segment) r.p.resolve();
      return;
    } catch (e) {
      if (segment.length === 1) {
        this.fail(segment[0]!.p, e);
        return;
      }
    }
    // One unit made the statement fail (a constraint, two upserts of one row): nothing of it is
    // stored. Each unit again, alone and recorded afresh (a unit queued behind a failed one of
    // its room must now see that failure, see writer.ts persist()).
    for (const r of segment) {
      try {
        const again = await this.record(r.p, new Set());
        if (again === "transaction") await this.single(r.p);
        else await this.sendSegment([again]);
      } catch (e) {
        this.fail(r.p, e);
      }
    }
  }
}
