// Deferred writes (PostgreSQL): a unit of work of the room writer runs against a Db that records
// its inserts instead of sending them, so that group-commit.ts can send the inserts of one or many
// units as a single statement (combined-statement.ts). On PostgreSQL every statement is a round
// trip (~0.1 ms of both processes' CPU, more when the 2 cores are busy), and a message send was 7:
// BEGIN, the event, its txn id, its search entry, the implicit read, the push actions, COMMIT. A
// single statement outside BEGIN is its own transaction: atomic, and with synchronous_commit on,
// flushed to disk before PostgreSQL answers, so the durability of a 200 answer is unchanged.
//
// Only what can be deferred without changing what the unit sees is recorded:
// - INSERT … VALUES (no RETURNING, no sub-select): recorded, its table noted as written;
// - SELECT of tables no recorded insert of the batch writes: run at once on the pool (the same
//   committed data the unit's transaction would have read under READ COMMITTED);
// - anything else (UPDATE, DELETE, a SELECT of a written table, a transaction): NeedsTransaction,
//   and the caller runs the unit again in an ordinary transaction.
import { Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, type CompiledQuery, type DatabaseConnection, type Driver, type QueryResult } from "kysely";
import type { Database } from "./schema.js";
import type { Db } from "./database.js";

/** The unit does something that cannot be deferred: run it in a transaction instead. */
export class NeedsTransaction extends Error {
  constructor(sql: string) {
    super(`cannot be deferred: ${sql.slice(0, 80)}`);
  }
}

const INSERT = /^\s*insert\s+into\s+"?(\w+)"?/i;
const SELECT = /^\s*select\b/i;
const TABLES = /\b(?:from|join)\s+"?(\w+)"?/gi;

interface Recording {
  queries: CompiledQuery[];
  /** Tables with recorded inserts not yet sent (of this unit and of earlier units of its batch). */
  written: Set<string>;
}

export class DeferredWrites {
  /** The Db handed to a unit while it is recorded. */
  readonly db: Db;
  private current?: Recording;

  constructor(private readonly real: Db) {
    const connection: DatabaseConnection = {
      executeQuery: <R>(q: CompiledQuery) => this.execute(q) as Promise<QueryResult<R>>,
      streamQuery: () => {
        throw new NeedsTransaction("stream");
      },
    };
    const driver: Driver = {
      init: async () => undefined,
      acquireConnection: async () => connection,
      beginTransaction: async () => {
        throw new NeedsTransaction("BEGIN");
      },
      commitTransaction: async () => undefined,
      rollbackTransaction: async () => undefined,
      releaseConnection: async () => undefined,
      destroy: async () => undefined,
    };
    this.db = new Kysely<Database>({
      dialect: {
        createAdapter: () => new PostgresAdapter(),
        createDriver: () => driver,
        createIntrospector: (db) => new PostgresIntrospector(db),
        createQueryCompiler: () => new PostgresQueryCompiler(),
      },
    });
  }

  /**
   * Runs `work` against the recording Db and returns its inserts, in order. `written` holds the
   * tables that earlier units of the same batch insert into; this unit's tables are added to it.
   * One unit at a time (the group commit's queue records its units one after the other).
   */
  async record(work: (db: Db) => Promise<void>, written: Set<string>): Promise<CompiledQuery[]> {
    if (this.current) throw new Error("deferred writes: one unit at a time");
    const rec: Recording = { queries: [], written };
    this.current = rec;
    try {
      await work(this.db);
      return rec.queries;
    } finally {
      this.current = undefined;
    }
  }

  private async execute(q: CompiledQuery): Promise<QueryResult<unknown>> {
    const rec = this.current;
    if (!rec) throw new Error("deferred writes: a query outside of record()");
    const insert = INSERT.exec(q.sql);
    if (insert && !/\b(returning|select)\b/i.test(q.sql)) {
      rec.queries.push(q);
      rec.written.add(insert[1]!.toLowerCase());
      return { rows: [] };
    }
    if (SELECT.test(q.sql) && ![...q.sql.matchAll(TABLES)].some((m) => rec.written.has(m[1]!.toLowerCase()))) {
      return this.real.executeQuery(q);
    }
    throw new NeedsTransaction(q.sql);
  }
}
