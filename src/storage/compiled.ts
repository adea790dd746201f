// Queries of the send path compiled once instead of per call. Kysely builds and compiles a query
// on every execution (an insert of an event row: ~70 µs; of 63 push-action rows: ~370 µs, more
// than SQLite takes to run it), and the send path runs the same few shapes every time
// (bench/rooms.ts). A shape is compiled once per dialect with a marker in place of each value;
// the markers' order in the compiled parameters says where each real value goes, so the SQL text
// stays Kysely's own (same placeholders, same quoting) and the values stay parameters.
import { CompiledQuery, type Compilable, type QueryResult } from "kysely";
import type { Db } from "./database.js";

type Values = Record<string, unknown>;

interface Shape {
  sql: string;
  /** For each parameter, in order: the index of the value set and the name of the value. */
  slots: Array<[number, string]>;
  query: CompiledQuery["query"];
}

const MARK = "\u0000rempart-compiled\u0000";
const marker = (set: number, name: string) => `${MARK}${set}\u0000${name}`;

// Per dialect (the adapter object is shared by a database and its transactions), then per shape key.
const shapes = new WeakMap<object, Map<string, Shape>>();

function shapeOf(db: Db, key: string, names: readonly string[], sets: number, build: (values: Values[]) => Compilable): Shape {
  const adapter = db.getExecutor().adapter;
  let byKey = shapes.get(adapter);
  if (!byKey) shapes.set(adapter, (byKey = new Map()));
  let shape = byKey.get(key);
  if (shape) return shape;
  const marked = Array.from({ length: sets }, (_, i) => Object.fromEntries(names.map((n) => [n, marker(i, n)])));
  const compiled = build(marked).compile();
  const slots = compiled.parameters.map((p): [number, string] => {
    if (typeof p !== "string" || !p.startsWith(MARK)) throw new Error(`compiled query ${key}: a parameter is not a value of the shape`);
    const [set, name] = p.slice(MARK.length).split("\u0000") as [string, string];
    return [Number(set), name];
  });
  if (slots.length !== sets * names.length) throw new Error(`compiled query ${key}: expected ${sets * names.length} parameters, got ${slots.length}`);
  shape = { sql: compiled.sql, slots, query: compiled.query };
  byKey.set(key, shape);
  return shape;
}

/**
 * Runs the query `build` makes from `values` (one value set per row, or one for a select), with
 * its SQL compiled only the first time for `key` and this many value sets. `build` must use every
 * value once as a parameter, and nothing else may vary between calls with the same key.
 */
export function runCompiled<R = unknown>(db: Db, key: string, values: Values[], build: (values: Values[]) => Compilable): Promise<QueryResult<R>> {
  const names = Object.keys(values[0] ?? {});
  const shape = shapeOf(db, `${key}/${values.length}`, names, values.length, build);
  const parameters = shape.slots.map(([set, name]) => values[set]![name]);
  return db.executeQuery<R>(CompiledQuery.raw(shape.sql, parameters));
}
