// Group commit: writes queued in the same turn of the event loop (or while a batch runs) share one
// transaction, so that N concurrent writers cost one commit instead of N (a commit writes every
// dirty page: the index leaves that all new events touch, once per batch instead of once per
// event). Each unit of work still succeeds or fails on its own: after a failure the batch is
// rolled back, the failing unit rejected, and the others run again one transaction each. A lone writer gets a plain
// transaction, exactly as without batching. Units run in the order they were queued (the room
// writer relies on it to queue a room's messages behind each other).
import type { Db } from "./database.js";

type Work = (tx: Db) => Promise<void>;

interface Pending {
  work: Work;
  resolve: () => void;
  reject: (e: unknown) => void;
}

/** Enough to amortise a commit; small enough that one batch does not hold the database long. */
const MAX_BATCH = 128;

export class GroupCommit {
  private queue: Pending[] = [];
  private draining = false;

  constructor(
    private readonly db: Db,
    private readonly batching: boolean,
  ) {}

  /** Runs `work` inside a transaction (possibly shared); resolves once it is committed. */
  run(work: Work): Promise<void> {
    if (!this.batching) return this.db.transaction().execute(work);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ work, resolve, reject });
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
        if (batch.length === 1) await this.single(batch[0]!);
        else await this.together(batch);
      }
    } finally {
      this.draining = false;
    }
  }

  private async single(p: Pending): Promise<void> {
    try {
      await this.db.transaction().execute(p.work);
      p.resolve();
    } catch (e) {
      p.reject(e);
    }
  }

  /**
   * All units in one transaction, without savepoints: a savepoint per unit cost two more
   * statements and, on SQLite, a copy of every page the unit changed (its rollback journal). When
   * a unit fails, it is rejected with its error and the transaction rolled back; every other unit
   * then runs again in a transaction of its own (all of them if the commit itself failed), so each
   * still succeeds or fails on its own. A unit's work may therefore run twice, the first run rolled
   * back: it must not keep anything of a run that did not commit (the room writer's units and the
   * search index batches take care of it).
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
        if (failed && i === failed.index) batch[i]!.reject(failed.error);
        else await this.single(batch[i]!);
      }
      return;
    }
    for (const p of batch) p.resolve();
  }
}
