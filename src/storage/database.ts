// Opens the database (SQLite by default, PostgreSQL for production) and applies migrations.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { Kysely, PostgresDialect, Migrator, type Migration, type MigrationProvider } from "kysely";
import SQLite from "better-sqlite3";
import type { Database } from "./schema.js";
import { migrations } from "./migrations/index.js";
import { withStatementCache } from "./sqlite-statements.js";
import { QueuedSqliteDialect } from "./sqlite-queue.js";
import { withPreparedInserts } from "./pg-prepared.js";

export type Dialect = "sqlite" | "postgres";
export type Db = Kysely<Database>;

export interface Storage {
  db: Db;
  dialect: Dialect;
  close(): Promise<void>;
}

// pg is loaded only when the database is PostgreSQL: on SQLite it would cost ~20 ms of start-up
// and ~2.5 MB of resident memory for nothing (bench/foundation.ts measures both).
let pgModule: Promise<typeof import("pg").default> | undefined;
const loadPg = () =>
  (pgModule ??= import("pg").then(({ default: pg }) => {
    // PostgreSQL returns int8 (bigint) as strings; every bigint we store (timestamps, stream
    // positions) fits in a double, so parse them as numbers once for the whole process.
    pg.types.setTypeParser(20, (v: string) => Number(v));
    return pg;
  }));

export const isPostgresUrl = (database: string): boolean => /^postgres(ql)?:\/\//i.test(database);

export async function openStorage(database: string, opts: { migrate?: boolean } = {}): Promise<Storage> {
  let db: Db;
  let dialect: Dialect;
  if (isPostgresUrl(database)) {
    dialect = "postgres";
    const pg = await loadPg();
    const pool = new pg.Pool({ connectionString: database, max: 10 });
    // An idle connection that the server ends (restart, failover, pg_terminate_backend, a dropped
    // database) is reported on the pool; without a listener Node would crash the process. The pool
    // replaces the connection, and queries running on it fail with their own error.
    pool.on("error", () => undefined);
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: withPreparedInserts(pool) }) });
  } else {
    dialect = "sqlite";
    const file = database.replace(/^sqlite:(\/\/)?/i, "");
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    const sqlite = new SQLite(file);
    sqlite.pragma("journal_mode = WAL");
    sqlite.pragma("synchronous = NORMAL");
    sqlite.pragma("foreign_keys = ON");
    sqlite.pragma("busy_timeout = 5000");
    // Statement journals and temporary tables in memory, not in temporary files (when group commit
    // gave each write a savepoint, each page a write changed was copied to a journal file first, one
    // pwrite per page: ~10 % of the CPU per send into a shared room, bench/rooms.ts).
    sqlite.pragma("temp_store = MEMORY");
    // Pages read through a memory map of the file instead of one pread() each: on this machine a
    // system call is expensive, and loading the state of 300 rooms of 300 members (a first
    // initial sync after a restart) read 64 MB of events, ~16,000 preads.
    sqlite.pragma("mmap_size = 1073741824");
    // Checkpoint the WAL every ~40 MB rather than every ~4 MB: each checkpoint syncs the database
    // file, and at the default they cost about as much as all the commits between them (room
    // sends: ~400 → ~650/s, bench/rooms.ts). The WAL is cut back to 64 MB after a checkpoint.
    sqlite.pragma("wal_autocheckpoint = 10000");
    sqlite.pragma("journal_size_limit = 67108864");
    db = new Kysely<Database>({ dialect: new QueuedSqliteDialect({ database: withStatementCache(sqlite) }) });
  }
  const storage: Storage = { db, dialect, close: () => db.destroy() };
  if (opts.migrate !== false) await migrate(storage);
  return storage;
}

export async function migrate(storage: Storage): Promise<void> {
  const provider: MigrationProvider = {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const [name, m] of Object.entries(migrations)) {
        out[name] = { up: (db) => m.up(db, storage.dialect) };
      }
      return out;
    },
  };
  // Migrations are numbered per feature and may land in any order: a database that already has a
  // later one still gets an earlier one that arrived afterwards.
  const migrator = new Migrator({ db: storage.db, provider, allowUnorderedMigrations: true });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === "Error");
    throw new Error(`database migration ${failed?.migrationName ?? ""} failed: ${(error as Error).message ?? error}`);
  }
}

