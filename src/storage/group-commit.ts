// Group commit: writes queued in the same turn of the event loop (or while a batch runs) share one
// transaction, one savepoint each, so that N concurrent writers cost one commit instead of N
// (a commit writes every dirty page: the index leaves that all new events touch, once per batch
// instead of once per event). Each unit of work still succeeds or fails on its own: a failure
// rolls back to its savepoint and rejects only its caller. A lone writer gets a plain
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

  private async together(batch: Pending[]): Promise<void> {
    const outcome: Array<{ ok: true } | { ok: false; error: unknown }> = [];
    let trx: Awaited<ReturnType<ReturnType<Db["startTransaction"]>["execute"]>> | undefined;
    try {
      trx = await this.db.startTransaction().execute();
      for (let i = 0; i < batch.length; i++) {
        const name = `gc${i}`;
        const sp = await trx.savepoint(name).execute();
        try {
          await batch[i]!.work(sp);
          await sp.releaseSavepoint(name).execute();
          outcome.push({ ok: true });
        } catch (error) {
          await sp.rollbackToSavepoint(name).execute();
          await sp.releaseSavepoint(name).execute();
          outcome.push({ ok: false, error });
        }
      }
      await trx.commit().execute();
    } catch (e) {
      // The transaction itself failed (connection, commit): nothing of the batch is stored.
      if (trx) await trx.rollback().execute().catch(() => undefined);
      for (const p of batch) p.reject(e);
      return;
    }
    batch.forEach((p, i) => {
      const o = outcome[i]!;
      if (o.ok) p.resolve();
      else p.reject(o.error);
    });
  }
}
