// Named prepared statements for the writes PostgreSQL sees over and over (the room writer's
// combined statements, storage/combined-statement.ts). An unnamed statement is parsed, analysed
// and planned at every execution: for a message's statement (four inserts in one WITH) that was
// ~40 % of the backend's CPU for it (~360 → ~220 µs, measured with node-postgres on this
// machine). A named one is parsed once per connection; node-postgres then sends only Bind and
// Execute. Only inserts are named (their generic plan is the custom one: VALUES), once a text was
// seen a few times, and only short texts (a message or a few: a batch of many messages shares its
// one parse already, and its plan is large), at most MAX_NAMED per process, so that what each
// connection keeps stays small.
import { createHash } from "node:crypto";
import type pg from "pg";

const MAX_NAMED = 200;
const MAX_TEXT = 4000;
const SEEN_BEFORE_NAMING = 3;
const INSERT = /^\s*(?:with\s+w0\s+as\s+\(\s*)?insert\s+into\s/i;

/** Text → name, once it has earned one; counts of texts seen (bounded). */
const names = new Map<string, string>();
const seen = new Map<string, number>();

export function statementName(text: string): string | undefined {
  const hit = names.get(text);
  if (hit !== undefined) return hit;
  if (names.size >= MAX_NAMED || text.length > MAX_TEXT || !INSERT.test(text)) return undefined;
  const n = (seen.get(text) ?? 0) + 1;
  if (n < SEEN_BEFORE_NAMING) {
    if (seen.size > 10 * MAX_NAMED) seen.clear();
    seen.set(text, n);
    return undefined;
  }
  seen.delete(text);
  const name = `rempart_${createHash("sha256").update(text).digest("hex").slice(0, 24)}`;
  names.set(text, name);
  return name;
}

type Query = pg.PoolClient["query"];

/** Makes every connection of `pool` send named statements for the texts statementName() names. */
export function withPreparedInserts(pool: pg.Pool): pg.Pool {
  pool.on("connect", (client: pg.PoolClient) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: Query }).query = ((text: unknown, values?: unknown, cb?: unknown) => {
      const name = typeof text === "string" && Array.isArray(values) && cb === undefined ? statementName(text) : undefined;
      return name ? query({ name, text, values }) : cb === undefined ? query(text, values) : query(text, values, cb);
    }) as Query;
  });
  return pool;
}
