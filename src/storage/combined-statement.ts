// Several PostgreSQL inserts as one statement: `WITH w0 AS (INSERT …), w1 AS (INSERT …) SELECT 1`,
// the inserts of one shape merged into one multi-row insert.
// PostgreSQL runs every data-modifying statement of a WITH exactly once, all on one snapshot, and
// checks foreign keys at the end of the whole statement, so inserts of rows that refer to each
// other (an event and its txn id) may go together. Inserts must not depend on each other's rows
// otherwise (deferred-writes.ts only records plain INSERT … VALUES), and two of them may not
// upsert the same row (PostgreSQL refuses: "cannot affect row a second time"): the statement
// fails, and group-commit.ts sends its units one by one instead.
import { CompiledQuery } from "kysely";

/** PostgreSQL's limit is 65,535 bind parameters a statement; half leaves room for one more unit. */
export const MAX_COMBINED_PARAMETERS = 32_767;

/** Kysely's PostgreSQL placeholders. Our SQL has no string literals (values are parameters). */
const PLACEHOLDER = /\$(\d+)/g;

/** Can `q` be a member of a combined statement? (No literal in which `$1` could be text.) */
export const combinable = (q: CompiledQuery): boolean => !q.sql.includes("'") && q.parameters.length <= MAX_COMBINED_PARAMETERS;

/**
 * `insert into T (cols) values (…), (…) [on conflict … without parameters]`, split into the part
 * before the rows, the rows (placeholders, casts and parentheses only) and the part after them.
 */
const MERGEABLE = /^(insert\s+into\s+.+?\s+values\s+)([\s$\d,():\w]+?)((?:\s+on\s+conflict\s+[^$]*)?)$/is;

/**
 * One statement doing all of `queries` (each must be combinable); a single query is returned as is.
 * Inserts of the same shape (same table, columns and conflict clause) become one multi-row insert:
 * a batch of 64 sends is then ~5 members whatever its size, where one member per insert made
 * PostgreSQL's planning grow faster than the batch (320 members: 70 µs each, 640: 176 µs).
 */
export function combineInserts(queries: readonly CompiledQuery[]): CompiledQuery {
  if (queries.length === 1) return queries[0]!;
  const parameters: unknown[] = [];
  const members: Array<{ head: string; rows: string[]; tail: string } | string> = [];
  const shapes = new Map<string, { head: string; rows: string[]; tail: string }>();
  for (const q of queries) {
    const offset = parameters.length;
    parameters.push(...q.parameters);
    const sql = q.sql.replace(PLACEHOLDER, (_, n: string) => `$${Number(n) + offset}`);
    const m = MERGEABLE.exec(sql);
    if (!m) {
      members.push(sql);
      continue;
    }
    const [, head, rows, tail] = m as unknown as [string, string, string, string];
    const key = `${head}\u0000${tail}`;
    const shape = shapes.get(key);
    if (shape) shape.rows.push(rows);
    else {
      const fresh = { head, rows: [rows], tail };
      shapes.set(key, fresh);
      members.push(fresh);
    }
  }
  const statements = members.map((m) => (typeof m === "string" ? m : `${m.head}${m.rows.join(", ")}${m.tail}`));
  if (statements.length === 1) return CompiledQuery.raw(statements[0]!, parameters);
  return CompiledQuery.raw(`WITH ${statements.map((st, i) => `w${i} AS (${st})`).join(", ")} SELECT 1`, parameters);
}
