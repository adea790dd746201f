// Full-text search index: SQLite FTS5 or PostgreSQL tsvector, behind one interface.
import { sql } from "kysely";
import type { Db, Dialect } from "./database.js";

export interface SearchEntry {
  event_id: string;
  room_id: string;
  key: string;
  value: string;
  stream_ordering: number;
}

export interface SearchHit {
  event_id: string;
  room_id: string;
  stream_ordering: number;
  rank: number;
}

export async function insertSearchEntry(db: Db, dialect: Dialect, e: SearchEntry): Promise<void> {
  if (dialect === "sqlite") {
    await sql`INSERT INTO event_search (value, event_id, room_id, key, stream_ordering) VALUES (${e.value}, ${e.event_id}, ${e.room_id}, ${e.key}, ${e.stream_ordering})`.execute(db);
  } else {
    await sql`INSERT INTO event_search (event_id, room_id, key, stream_ordering, value, vector) VALUES (${e.event_id}, ${e.room_id}, ${e.key}, ${e.stream_ordering}, ${e.value}, to_tsvector('simple', ${e.value})) ON CONFLICT (event_id) DO NOTHING`.execute(db);
  }
}

export async function deleteSearchEntries(db: Db, eventId: string): Promise<void> {
  await sql`DELETE FROM event_search WHERE event_id = ${eventId}`.execute(db);
}

/** Turns user text into a safe prefix query for either engine (no operator injection). */
function terms(text: string): string[] {
  return (text.normalize("NFKC").toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 16);
}

/**
 * Hits in the given rooms for the given keys, best first (order "rank") or newest first ("recent").
 * `before` pages through results by stream position for "recent", by offset for "rank".
 */
export async function searchEvents(
  db: Db,
  dialect: Dialect,
  q: { text: string; roomIds: string[]; keys: string[]; order: "rank" | "recent"; limit: number; offset: number },
): Promise<{ hits: SearchHit[]; count: number }> {
  const t = terms(q.text);
  if (t.length === 0 || q.roomIds.length === 0) return { hits: [], count: 0 };
  const rooms = sql.join(q.roomIds.map((r) => sql`${r}`));
  const keys = sql.join(q.keys.map((k) => sql`${k}`));
  if (dialect === "sqlite") {
    const match = t.map((w) => `"${w}"*`).join(" ");
    const order = q.order === "rank" ? sql`rank` : sql`stream_ordering DESC`;
    const rows = await sql<SearchHit>`SELECT event_id, room_id, stream_ordering, -rank AS rank FROM event_search WHERE event_search MATCH ${match} AND room_id IN (${rooms}) AND key IN (${keys}) ORDER BY ${order} LIMIT ${q.limit} OFFSET ${q.offset}`.execute(db);
    const count = await sql<{ n: number }>`SELECT count(*) AS n FROM event_search WHERE event_search MATCH ${match} AND room_id IN (${rooms}) AND key IN (${keys})`.execute(db);
    return { hits: rows.rows.map((r) => ({ ...r, stream_ordering: Number(r.stream_ordering), rank: Number(r.rank) })), count: Number(count.rows[0]?.n ?? 0) };
  }
  const tsq = t.map((w) => `${w}:*`).join(" & ");
  const order = q.order === "rank" ? sql`rank DESC, stream_ordering DESC` : sql`stream_ordering DESC`;
  const rows = await sql<SearchHit>`SELECT event_id, room_id, stream_ordering, ts_rank_cd(vector, to_tsquery('simple', ${tsq})) AS rank FROM event_search WHERE vector @@ to_tsquery('simple', ${tsq}) AND room_id IN (${rooms}) AND key IN (${keys}) ORDER BY ${order} LIMIT ${q.limit} OFFSET ${q.offset}`.execute(db);
  const count = await sql<{ n: number }>`SELECT count(*) AS n FROM event_search WHERE vector @@ to_tsquery('simple', ${tsq}) AND room_id IN (${rooms}) AND key IN (${keys})`.execute(db);
  return { hits: rows.rows.map((r) => ({ ...r, stream_ordering: Number(r.stream_ordering), rank: Number(r.rank) })), count: Number(count.rows[0]?.n ?? 0) };
}
