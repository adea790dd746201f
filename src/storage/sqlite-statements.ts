// A prepared-statement cache for better-sqlite3 under Kysely. Kysely's SQLite driver calls
// `prepare(sql)` for every query; preparing (parsing and planning the SQL) cost more than running
// most of our queries (bench/rooms.ts: about a fifth of a message send). Kysely produces the same
// SQL text for the same query shape, so the statements repeat and can be kept. Safe because
// better-sqlite3 runs a statement synchronously to completion (`all`/`run`); a statement being
// iterated (`.stream()`, unused here) is never handed out twice: busy ones are prepared afresh.
import type { Database as SqliteDb, Statement } from "better-sqlite3";
import type { SqliteDatabase } from "kysely";

const MAX_STATEMENTS = 2000;

export function withStatementCache(db: SqliteDb, max = MAX_STATEMENTS): SqliteDatabase {
  const cache = new Map<string, Statement>();
  return {
    close: () => db.close(),
    prepare(sql: string) {
      const hit = cache.get(sql);
      if (hit && !hit.busy) return hit;
      const st = db.prepare(sql);
      if (!hit) {
        // Oldest out first: a bound on memory for queries whose text varies (e.g. `in (?, ?, …)`).
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
        cache.set(sql, st);
      }
      return st;
    },
  };
}
