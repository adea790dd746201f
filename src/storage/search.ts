// Full-text search index (client-server API "Server Side Search"): SQLite FTS5 or a PostgreSQL
// tsvector with a GIN index, behind one interface that returns the same hits on both engines.
//
// Text normalisation is done here, in TypeScript, for both engines, before indexing and before
// querying: NFKD, lower case, combining marks removed ("é" → "e", as FTS5's `remove_diacritics`
// does), then split into runs of letters and digits. Each engine receives only those tokens:
// - SQLite: the tokens joined by spaces go into the FTS5 column; its unicode61 tokenizer finds
//   the same tokens again (they hold nothing it would fold or split).
// - PostgreSQL: the tsvector and tsquery are built as literals ('tok':1 'tok2':2 / 'tok':* & …),
//   so neither PostgreSQL's parser nor any dictionary changes them. This needs no extension
//   (`unaccent` is not installed by default and CREATE EXTENSION needs privileges an operator may
//   not grant), works on a stock PostgreSQL 15, and cannot differ from SQLite's tokens.
// Queries are prefix queries with AND between words ("caf ele" finds "Éléphant au café").
// Ranks differ in scale between engines (FTS5 bm25, PostgreSQL ts_rank with length
// normalisation) but order the same way for the same texts; ties go to the most recent.
import { sql, type RawBuilder } from "kysely";
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
  key: string;
  sender: string;
  /** Higher is more relevant; comparable only within one engine. */
  rank: number;
}

/** Longest token kept; longer ones are cut (PostgreSQL refuses lexemes over 2 KiB). */
const MAX_TOKEN_CHARS = 64;
/** Words of a query that are used; the rest are ignored. */
export const MAX_QUERY_TERMS = 16;

/** The normalised tokens of a text (see the header): the unit both engines index and match. */
export function searchTokens(text: string): string[] {
  const folded = text.toLowerCase().normalize("NFKD").replace(/\p{M}+/gu, "");
  return (folded.match(/[\p{L}\p{N}]+/gu) ?? []).map((t) => (t.length > MAX_TOKEN_CHARS ? t.slice(0, MAX_TOKEN_CHARS) : t));
}

/** The distinct words of a search term, normalised, in order, at most MAX_QUERY_TERMS. */
export function queryTerms(text: string): string[] {
  return [...new Set(searchTokens(text))].slice(0, MAX_QUERY_TERMS);
}

/** PostgreSQL tsvector literal with positions (positions above 16383 are clamped by PostgreSQL). */
function tsvectorLiteral(tokens: string[]): string {
  return tokens.map((t, i) => `'${t}':${i + 1}`).join(" ");
}

export async function insertSearchEntry(db: Db, dialect: Dialect, e: SearchEntry): Promise<void> {
  const tokens = searchTokens(e.value);
  if (tokens.length === 0) return;
  if (dialect === "sqlite") {
    // rowid = stream position: redactions delete by rowid, and "recent" order and pagination
    // bounds use FTS5's rowid index instead of scanning. One entry per event (REPLACE keeps it so).
    await sql`INSERT OR REPLACE INTO event_search (rowid, value, event_id, room_id, key, stream_ordering) VALUES (${e.stream_ordering}, ${tokens.join(" ")}, ${e.event_id}, ${e.room_id}, ${e.key}, ${e.stream_ordering})`.execute(db);
  } else {
    await sql`INSERT INTO event_search (event_id, room_id, key, stream_ordering, value, vector) VALUES (${e.event_id}, ${e.room_id}, ${e.key}, ${e.stream_ordering}, ${tokens.join(" ")}, ${tsvectorLiteral(tokens)}::tsvector) ON CONFLICT (event_id) DO NOTHING`.execute(db);
  }
}

/**
 * Many entries at once (the bulk importer): on PostgreSQL one statement per 200 entries instead of
 * one round trip each; on SQLite the same prepared statement per entry (no round trip to save).
 */
export async function insertSearchEntries(db: Db, dialect: Dialect, entries: SearchEntry[]): Promise<void> {
  if (dialect === "sqlite") {
    for (const e of entries) await insertSearchEntry(db, dialect, e);
    return;
  }
  const rows = entries.map((e) => ({ e, tokens: searchTokens(e.value) })).filter((x) => x.tokens.length > 0);
  for (let i = 0; i < rows.length; i += 200) {
    const values = rows.slice(i, i + 200).map(({ e, tokens }) => sql`(${e.event_id}, ${e.room_id}, ${e.key}, ${e.stream_ordering}, ${tokens.join(" ")}, ${tsvectorLiteral(tokens)}::tsvector)`);
    await sql`INSERT INTO event_search (event_id, room_id, key, stream_ordering, value, vector) VALUES ${sql.join(values)} ON CONFLICT (event_id) DO NOTHING`.execute(db);
  }
}

export async function deleteSearchEntries(db: Db, eventId: string, dialect?: Dialect): Promise<void> {
  if (dialect === "sqlite") {
    // event_id is not indexed in FTS5: go through the events table to the rowid (= position).
    await sql`DELETE FROM event_search WHERE rowid = (SELECT stream_ordering FROM events WHERE event_id = ${eventId})`.execute(db);
  } else {
    await sql`DELETE FROM event_search WHERE event_id = ${eventId}`.execute(db);
  }
}

export interface SearchQuery {
  /** Normalised words (queryTerms); every one must match, as a prefix. */
  terms: string[];
  keys: string[];
  /** Rooms searched in full. */
  rooms: string[];
  /** Rooms searched up to a position only (rooms the user has left: up to their leave). */
  boundedRooms: Array<{ roomId: string; upTo: number }>;
  senders?: string[];
  notSenders?: string[];
  /** "none": no ordering (counting). */
  order: "rank" | "recent" | "none";
  /** Only hits at or below this position (the stream head when the search began). */
  upTo: number;
  /** Only hits strictly below this position (keyset pagination of "recent"). */
  before?: number;
  offset?: number;
  limit: number;
}

/** Hits in the given rooms for the given keys, best first ("rank") or newest first ("recent"). */
export async function searchEvents(db: Db, dialect: Dialect, q: SearchQuery): Promise<SearchHit[]> {
  if (q.terms.length === 0 || q.keys.length === 0 || (q.rooms.length === 0 && q.boundedRooms.length === 0) || q.limit <= 0) return [];
  if (q.senders && q.senders.length === 0) return [];
  const pos = dialect === "sqlite" ? sql`s.rowid` : sql`s.stream_ordering`;
  const where: RawBuilder<unknown>[] = [];
  const roomConds: RawBuilder<unknown>[] = [];
  if (q.rooms.length) roomConds.push(sql`s.room_id IN (${sql.join(q.rooms)})`);
  for (const b of q.boundedRooms) roomConds.push(sql`(s.room_id = ${b.roomId} AND ${pos} <= ${b.upTo})`);
  where.push(sql`(${sql.join(roomConds, sql` OR `)})`);
  where.push(sql`s.key IN (${sql.join(q.keys)})`);
  where.push(sql`${pos} <= ${q.upTo}`);
  if (q.before !== undefined) where.push(sql`${pos} < ${q.before}`);
  if (q.senders) where.push(sql`e.sender IN (${sql.join(q.senders)})`);
  if (q.notSenders?.length) where.push(sql`e.sender NOT IN (${sql.join(q.notSenders)})`);
  const conds = sql.join(where, sql` AND `);
  const offset = q.offset ?? 0;

  let rows;
  if (dialect === "sqlite") {
    const match = q.terms.map((w) => `"${w}"*`).join(" ");
    const order = q.order === "rank" ? sql`ORDER BY s.rank, s.rowid DESC` : q.order === "recent" ? sql`ORDER BY s.rowid DESC` : sql``;
    // FTS5's `rank` is bm25(), more negative when more relevant: negated so higher is better.
    rows = await sql<SearchHit>`SELECT s.event_id, s.room_id, s.rowid AS stream_ordering, s.key, e.sender, -s.rank AS rank
      FROM event_search s JOIN events e ON e.event_id = s.event_id
      WHERE s.event_search MATCH ${match} AND ${conds} ${order} LIMIT ${q.limit} OFFSET ${offset}`.execute(db);
  } else {
    const tsq = q.terms.map((w) => `'${w}':*`).join(" & ");
    const order = q.order === "rank" ? sql`ORDER BY rank DESC, s.stream_ordering DESC` : q.order === "recent" ? sql`ORDER BY s.stream_ordering DESC` : sql``;
    // Normalisation 1 divides by 1 + log(length): short texts rank above long ones, as with bm25.
    rows = await sql<SearchHit>`SELECT s.event_id, s.room_id, s.stream_ordering, s.key, e.sender, ts_rank(s.vector, q.query, 1) AS rank
      FROM event_search s JOIN events e ON e.event_id = s.event_id CROSS JOIN (SELECT ${tsq}::tsquery AS query) q
      WHERE s.vector @@ q.query AND ${conds} ${order} LIMIT ${q.limit} OFFSET ${offset}`.execute(db);
  }
  return rows.rows.map((r) => ({ ...r, stream_ordering: Number(r.stream_ordering), rank: Number(r.rank) }));
}
