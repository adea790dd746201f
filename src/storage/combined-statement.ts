// Several PostgreSQL inserts as one statement: `WITH w0 AS (INSERT …), w1 AS (INSERT …) SELECT 1`,
// the inserts of one shape merged into one multi-row insert. PostgreSQL runs every data-modifying
// statement of a WITH exactly once, all on one snapshot, and checks foreign keys at the end of the
// whole statement, so inserts of rows that refer to each other (an event and its txn id) may go
// together. Inserts must not depend on each other's rows otherwise (deferred-writes.ts only records
// plain INSERT … VALUES), and a statement may not upsert one row twice (PostgreSQL refuses: "cannot
// affect row a second time"): upserts that only copy the proposed row (`SET c = excluded.c` for
// every other column) keep the last row per key, as running them in order would; any other
// duplicate fails the statement, and group-commit.ts sends its units one by one instead.
import { CompiledQuery } from "kysely";

/** PostgreSQL's limit is 65,535 bind parameters a statement; half leaves room for one more unit. */
export const MAX_COMBINED_PARAMETERS = 32_767;

/** Kysely's PostgreSQL placeholders. Our SQL has no string literals (values are parameters). */
const PLACEHOLDER = /\$(\d+)/g;

/** Can `q` be a member of a combined statement? (No literal in which `$1` could be text.) */
export const combinable = (q: CompiledQuery): boolean => !q.sql.includes("'") && q.parameters.length <= MAX_COMBINED_PARAMETERS;

/** `insert into T (cols) values (…), (…) [on conflict …]`: before the rows, the rows, after them. */
const INSERT_ROWS = /^(insert\s+into\s+.+?\(([^()]*)\)\s+values\s+)([\s$\d,():\w]+?)((?:\s+on\s+conflict\s+[^$]*)?)$/is;
const TUPLE = /\(([^()]*)\)/g;
const ENTRY = /^\s*\$(\d+)((?:::\w+)?)\s*$/;
const DO_UPDATE = /^\s+on\s+conflict\s+\(([^()]*)\)\s+do\s+update\s+set\s+(.+)$/is;
const COPY = /^\s*"?(\w+)"?\s*=\s*"?excluded"?\."?(\w+)"?\s*$/i;

const names = (list: string) => list.split(",").map((c) => c.trim().replace(/^"|"$/g, ""));

interface Row {
  /** Each value's placeholder suffix (a cast, or ""). */
  casts: string[];
  values: unknown[];
}

interface Rows {
  head: string;
  tail: string;
  rows: Row[];
  /** For an upsert that copies the proposed row: the positions of the conflict columns in a row. */
  key?: number[];
  byKey: Map<string, number>;
}

/** What an insert's SQL says once parsed: how to merge it, and where each row takes its values. */
interface Parsed {
  shapeKey: string;
  head: string;
  tail: string;
  key?: number[];
  casts: string[];
  /** Per row, the index in the query's parameters of each value. */
  rows: number[][];
}

/** Parsed SQL by text: the send path repeats a few shapes (compiled.ts), parsing each cost ~20 µs. */
const parsedCache = new Map<string, Parsed | "raw">();
const MAX_PARSED = 1000;

function parse(sql: string): Parsed | "raw" {
  let p = parsedCache.get(sql);
  if (p) return p;
  p = parseInsert(sql) ?? "raw";
  if (parsedCache.size >= MAX_PARSED) parsedCache.clear();
  parsedCache.set(sql, p);
  return p;
}

/** For `on conflict (k) do update set c = excluded.c, …` covering every other column: the key's positions. */
function copyingUpsertKey(columns: string[], tail: string): number[] | undefined | "no" {
  if (tail.trim() === "" || /do\s+nothing\s*$/i.test(tail)) return undefined;
  const m = DO_UPDATE.exec(tail);
  if (!m) return "no";
  const key = names(m[1]!);
  const set = m[2]!.split(",").map((a) => COPY.exec(a));
  if (set.some((s) => !s || s[1] !== s[2])) return "no";
  const updated = new Set(set.map((s) => s![1]!));
  const others = columns.filter((c) => !key.includes(c));
  if (others.length !== updated.size || others.some((c) => !updated.has(c))) return "no";
  const positions = key.map((k) => columns.indexOf(k));
  return positions.includes(-1) ? "no" : positions;
}

function parseInsert(sql: string): Parsed | undefined {
  const m = INSERT_ROWS.exec(sql);
  if (!m) return undefined;
  const [, head, columns, region, tail] = m as unknown as [string, string, string, string, string];
  const key = copyingUpsertKey(names(columns), tail);
  if (key === "no" || region.replace(TUPLE, "").replace(/[\s,]/g, "") !== "") return undefined;
  const rows: number[][] = [];
  let casts: string[] | undefined;
  for (const [, inner] of region.matchAll(TUPLE)) {
    const row: number[] = [];
    const rowCasts: string[] = [];
    for (const entry of inner!.split(",")) {
      const e = ENTRY.exec(entry);
      if (!e) return undefined;
      row.push(Number(e[1]) - 1);
      rowCasts.push(e[2]!);
    }
    if (casts && casts.join(",") !== rowCasts.join(",")) return undefined;
    casts = rowCasts;
    rows.push(row);
  }
  if (!casts) return undefined;
  return { shapeKey: `${head}\u0000${casts.join(",")}\u0000${tail}`, head, tail, key, casts, rows };
}

/** One statement doing all of `queries` (each must be combinable); a single query is returned as is. */
export function combineInserts(queries: readonly CompiledQuery[]): CompiledQuery {
  if (queries.length === 1) return queries[0]!;
  const members: Array<Rows | CompiledQuery> = [];
  const shapes = new Map<string, Rows>();
  for (const q of queries) {
    const p = parse(q.sql);
    if (p === "raw") {
      members.push(q);
      continue;
    }
    let shape = shapes.get(p.shapeKey);
    if (!shape) {
      shape = { head: p.head, tail: p.tail, rows: [], key: p.key, byKey: new Map() };
      shapes.set(p.shapeKey, shape);
      members.push(shape);
    }
    for (const indexes of p.rows) {
      const row: Row = { casts: p.casts, values: indexes.map((i) => q.parameters[i]) };
      if (!shape.key) {
        shape.rows.push(row);
        continue;
      }
      // The later upsert of a row wins, as it would run after the earlier one.
      const k = JSON.stringify(shape.key.map((i) => row.values[i]));
      const at = shape.byKey.get(k);
      if (at === undefined) shape.byKey.set(k, shape.rows.push(row) - 1);
      else shape.rows[at] = row;
    }
  }
  const parameters: unknown[] = [];
  const statements = members.map((m) => {
    if ("head" in m) {
      const tuples = m.rows.map((r) => `(${r.values.map((v, i) => `$${parameters.push(v)}${r.casts[i]}`).join(", ")})`);
      return `${m.head}${tuples.join(", ")}${m.tail}`;
    }
    const offset = parameters.length;
    parameters.push(...m.parameters);
    return m.sql.replace(PLACEHOLDER, (_, n: string) => `$${Number(n) + offset}`);
  });
  if (statements.length === 1) return CompiledQuery.raw(statements[0]!, parameters);
  return CompiledQuery.raw(`WITH ${statements.map((st, i) => `w${i} AS (${st})`).join(", ")} SELECT 1`, parameters);
}
