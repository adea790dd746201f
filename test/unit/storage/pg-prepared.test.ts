// Which statements PostgreSQL gets as named prepared statements (src/storage/pg-prepared.ts):
// inserts and the writer's combined inserts, once seen a few times, under a name that depends only
// on the text; never reads, updates or deletes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { statementName } from "../../../src/storage/pg-prepared.js";

test("an insert is named from its third execution on, always with the same name", () => {
  const text = `insert into "t_named_a" ("a") values ($1)`;
  assert.equal(statementName(text), undefined);
  assert.equal(statementName(text), undefined);
  const name = statementName(text);
  assert.match(name ?? "", /^rempart_[0-9a-f]{24}$/);
  assert.equal(statementName(text), name);
  const combined = `WITH w0 AS (insert into "t_named_b" ("a") values ($1)), w1 AS (insert into "t_named_c" ("b") values ($2)) SELECT 1`;
  for (let i = 0; i < 2; i++) statementName(combined);
  assert.notEqual(statementName(combined), undefined);
  assert.notEqual(statementName(combined), name);
});

test("long texts (batches of many rows) are never named", () => {
  const text = `insert into "t_long" ("a") values ${Array.from({ length: 600 }, (_, i) => `($${i + 1})`).join(", ")}`;
  for (let i = 0; i < 5; i++) assert.equal(statementName(text), undefined);
});

test("reads, updates and deletes are never named", () => {
  for (const text of [`select * from "t" where "a" = $1`, `update "t" set "a" = $1`, `delete from "t" where "a" = $1`, `WITH x AS (select 1) select * from x`]) {
    for (let i = 0; i < 5; i++) assert.equal(statementName(text), undefined, text);
  }
});
