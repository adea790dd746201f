// Several PostgreSQL inserts as one statement: `WITH w0 AS (INSERT …), w1 AS (INSERT …) SELECT 1`.
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

/** One statement doing all of `queries` (each must be combinable); a single query is returned as is. */
export function combineInserts(queries: readonly CompiledQuery[]): CompiledQuery {
  if (queries.length === 1) return queries[0]!;
  const parameters: unknown[] = [];
  const members = queries.map((q, i) => {
    const offset = parameters.length;
    parameters.push(...q.parameters);
    return `w${i} AS (${q.sql.replace(PLACEHOLDER, (_, n: string) => `$${Number(n) + offset}`)})`;
  });
  return CompiledQuery.raw(`WITH ${members.join(", ")} SELECT 1`, parameters);
}
