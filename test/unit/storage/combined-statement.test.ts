// Combined statements (PostgreSQL group commit): inserts of one shape become one multi-row insert,
// others their own member of a WITH; every placeholder is renumbered to its value.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CompiledQuery } from "kysely";
import { combinable, combineInserts } from "../../../src/storage/combined-statement.js";

const q = (sql: string, ...parameters: unknown[]) => CompiledQuery.raw(sql, parameters);

test("one query is sent as it is", () => {
  const only = q(`insert into "a" ("x") values ($1)`, 1);
  assert.equal(combineInserts([only]), only);
});

test("inserts of one shape are merged into one multi-row insert, in order", () => {
  const c = combineInserts([q(`insert into "a" ("x", "y") values ($1, $2) on conflict do nothing`, 1, 2), q(`insert into "a" ("x", "y") values ($1, $2), ($3, $4) on conflict do nothing`, 3, 4, 5, 6)]);
  assert.equal(c.sql, `insert into "a" ("x", "y") values ($1, $2), ($3, $4), ($5, $6) on conflict do nothing`);
  assert.deepEqual(c.parameters, [1, 2, 3, 4, 5, 6]);
});

test("different shapes share one WITH; a conflict clause with values is never merged", () => {
  const upsert = `insert into "s" ("k", "v") values ($1, $2) on conflict ("k") do update set "v" = $3`;
  const c = combineInserts([
    q(`insert into "a" ("x") values ($1)`, "a1"),
    q(`INSERT INTO b (x, v) VALUES ($1, $2::tsvector) ON CONFLICT (x) DO NOTHING`, "b1", "'t':1"),
    q(upsert, "k1", "v1", "v1"),
    q(`insert into "a" ("x") values ($1)`, "a2"),
    q(upsert, "k2", "v2", "v2"),
  ]);
  assert.equal(
    c.sql,
    `WITH w0 AS (insert into "a" ("x") values ($1), ($2)), ` +
      `w1 AS (INSERT INTO b (x, v) VALUES ($3, $4::tsvector) ON CONFLICT (x) DO NOTHING), ` +
      `w2 AS (insert into "s" ("k", "v") values ($5, $6) on conflict ("k") do update set "v" = $7), ` +
      `w3 AS (insert into "s" ("k", "v") values ($8, $9) on conflict ("k") do update set "v" = $10) SELECT 1`,
  );
  assert.deepEqual(c.parameters, ["a1", "a2", "b1", "'t':1", "k1", "v1", "v1", "k2", "v2", "v2"]);
});

test("upserts that copy the proposed row keep the last row per key (PostgreSQL refuses a row twice)", () => {
  const upsert = `insert into "r" ("user_id", "room_id", "pos") values ($1, $2, $3) on conflict ("user_id", "room_id") do update set "pos" = "excluded"."pos"`;
  const c = combineInserts([q(upsert, "@a", "!r", 1), q(upsert, "@b", "!r", 2), q(upsert, "@a", "!r", 3), q(upsert, "@a", "!s", 4)]);
  assert.equal(c.sql, `insert into "r" ("user_id", "room_id", "pos") values ($1, $2, $3), ($4, $5, $6), ($7, $8, $9) on conflict ("user_id", "room_id") do update set "pos" = "excluded"."pos"`);
  assert.deepEqual(c.parameters, ["@a", "!r", 3, "@b", "!r", 2, "@a", "!s", 4]);
  // An update that does not copy every other column is not merged: its duplicates fail the statement.
  const partial = `insert into "r" ("user_id", "room_id", "pos", "n") values ($1, $2, $3, $4) on conflict ("user_id", "room_id") do update set "pos" = "excluded"."pos"`;
  const p = combineInserts([q(partial, "@a", "!r", 1, 1), q(partial, "@a", "!r", 2, 2)]);
  assert.match(p.sql, /^WITH w0 AS \(.*\), w1 AS \(.*\) SELECT 1$/);
});

test("a statement with a string literal is not combinable (a $1 in it would be text)", () => {
  assert.equal(combinable(q(`insert into "a" ("x") values ('$1')`)), false);
  assert.equal(combinable(q(`insert into "a" ("x") values ($1)`, 1)), true);
});
