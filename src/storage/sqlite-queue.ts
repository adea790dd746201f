// Kysely's SQLite driver with a first-come, first-served queue for its single connection.
//
// Kysely (0.28) guards the one better-sqlite3 connection with a mutex whose waiters all await the
// same promise: each release wakes every waiter, one takes the connection and the others go back
// to sleep. With n queries waiting that is O(n) per query, O(n²) for the lot: 1,000 long-polls
// woken by one message (bench/sync.ts) spent ~16 % of the server's CPU in that loop. Here a
// release hands the connection to the next waiter only. The inner mutex then never has a waiter.
import { SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDialectConfig } from "kysely";

/** A lock handed over in arrival order: a release wakes exactly one waiter. */
export class FifoLock {
  private held = false;
  private readonly waiting: Array<() => void> = [];

  lock(): Promise<void> {
    if (!this.held) {
      this.held = true;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  unlock(): void {
    const next = this.waiting.shift();
    // Still held: ownership passes straight to the next waiter, nobody can slip in between.
    if (next) next();
    else this.held = false;
  }
}

class QueuedSqliteDriver extends SqliteDriver {
  private readonly queue = new FifoLock();

  override async acquireConnection(): Promise<DatabaseConnection> {
    await this.queue.lock();
    return super.acquireConnection();
  }

  override async releaseConnection(): Promise<void> {
    await super.releaseConnection();
    this.queue.unlock();
  }
}

export class QueuedSqliteDialect extends SqliteDialect {
  constructor(private readonly settings: SqliteDialectConfig) {
    super(settings);
  }

  override createDriver(): Driver {
    return new QueuedSqliteDriver(this.settings);
  }
}
