// A fresh PostgreSQL database per measured server, created from an admin URL (role with CREATEDB)
// and dropped afterwards, so every cold start runs the migrations on an empty database.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { assertLoopback } from "./loopback.js";

export interface FreshDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

const pending = new Set<FreshDatabase>();

async function withAdmin<T>(adminUrl: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    return await f(c);
  } finally {
    await c.end();
  }
}

export async function freshPostgresDatabase(adminUrl: string, prefix = "rempart_bench"): Promise<FreshDatabase> {
  assertLoopback(adminUrl, "PostgreSQL");
  const name = `${prefix}_${process.pid}_${randomBytes(4).toString("hex")}`;
  await withAdmin(adminUrl, (c) => c.query(`CREATE DATABASE ${name}`));
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  const db: FreshDatabase = {
    url: u.toString(),
    name,
    drop: async () => {
      pending.delete(db);
      await withAdmin(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
  pending.add(db);
  return db;
}

/**
 * A database kept from one run to the next (bench:sync --keep with --postgres): created empty
 * (dropped first if it exists) unless `reuse`, and never dropped by this process.
 */
export async function keptPostgresDatabase(adminUrl: string, name: string, reuse: boolean): Promise<{ url: string; name: string }> {
  assertLoopback(adminUrl, "PostgreSQL");
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`bad database name ${name}`);
  if (!reuse) {
    await withAdmin(adminUrl, async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${name}`);
    });
  }
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return { url: u.toString(), name };
}

/** Drops every database created by this process and not yet dropped (for `finally` blocks). */
export async function dropAllDatabases(): Promise<void> {
  for (const db of [...pending]) await db.drop().catch((e) => console.error(`could not drop ${db.name}: ${e}`));
}

/**
 * Refreshes the planner's statistics of a database the bench just filled. PostgreSQL's autovacuum
 * does this in production (it is on by default); on this machine's PostgreSQL it is off, and a
 * planner that believes the tables empty picks plans no deployment would run.
 */
export async function analyze(url: string): Promise<void> {
  assertLoopback(url, "PostgreSQL");
  await withAdmin(url, (c) => c.query("ANALYZE"));
}
