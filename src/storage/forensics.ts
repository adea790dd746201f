// The forensic report's SQL (docs/read-gate.md "Forensic report"): reading the audit trail by kind
// and time, and resolving the event ranges recorded by the read gate against the events table.
// The trail has no per-user column (one compact record per read; a read refers to its session
// record by seq), so the report scans the records of the period and filters in memory.
import { sql } from "kysely";
import type { Db } from "./database.js";
import type { AuditRow } from "./audit.js";

export interface RangeEvent {
  event_id: string;
  type: string;
  sender: string;
  stream_ordering: number;
}

const PAGE = 5000;

export const forensicsRepo = (db: Db) => ({
  /** Records of the given kinds with since <= ts < until, in seq order, a page at a time. */
  async *scan(kinds: readonly string[], since: number, until: number): AsyncGenerator<AuditRow[]> {
    let after = 0;
    for (;;) {
      const rows = await db
        .selectFrom("audit_log")
        .selectAll()
        .where("seq", ">", after)
        .where("kind", "in", kinds)
        .where("ts", ">=", since)
        .where("ts", "<", until)
        .orderBy("seq")
        .limit(PAGE)
        .execute();
      if (rows.length === 0) return;
      yield rows.map((r) => ({ ...r, seq: Number(r.seq), ts: Number(r.ts) }));
      after = Number(rows[rows.length - 1]!.seq);
      if (rows.length < PAGE) return;
    }
  },

  /** Records by seq (the session records that reads refer to, wherever they sit in time). */
  async bySeq(seqs: readonly number[]): Promise<AuditRow[]> {
    const out: AuditRow[] = [];
    for (let i = 0; i < seqs.length; i += 500) {
      const rows = await db.selectFrom("audit_log").selectAll().where("seq", "in", seqs.slice(i, i + 500)).execute();
      for (const r of rows) out.push({ ...r, seq: Number(r.seq), ts: Number(r.ts) });
    }
    return out;
  },

  /** Stream positions of events (to turn a recorded first/last event id into a range). */
  async positions(eventIds: readonly string[]): Promise<Map<string, { room_id: string; pos: number }>> {
    const out = new Map<string, { room_id: string; pos: number }>();
    if (eventIds.length === 0) return out;
    const rows = await db.selectFrom("events").select(["event_id", "room_id", "stream_ordering"]).where("event_id", "in", eventIds).execute();
    for (const r of rows) out.set(r.event_id, { room_id: r.room_id, pos: Number(r.stream_ordering) });
    return out;
  },

  /** The events of a room with lo <= stream_ordering <= hi (optionally only the newest `limit`). */
  async range(roomId: string, lo: number, hi: number, limit?: number): Promise<RangeEvent[]> {
    let q = db
      .selectFrom("events")
      .select(["event_id", "type", "sender", "stream_ordering"])
      .where("room_id", "=", roomId)
      .where("stream_ordering", ">=", lo)
      .where("stream_ordering", "<=", hi)
      .orderBy("stream_ordering", "desc");
    if (limit !== undefined) q = q.limit(limit);
    const rows = await q.execute();
    return rows.map((r) => ({ ...r, stream_ordering: Number(r.stream_ordering) }));
  },

  /** The events of many ranges at once ({room, lo, hi} inclusive), in one statement per 100 ranges:
   * a query per read record costs more than the rows it returns. */
  async ranges(specs: readonly { room: string; lo: number; hi: number }[]): Promise<(RangeEvent & { room_id: string })[]> {
    const out: (RangeEvent & { room_id: string })[] = [];
    for (let i = 0; i < specs.length; i += 100) {
      const part = specs.slice(i, i + 100);
      const rows = await db
        .selectFrom("events")
        .select(["event_id", "type", "sender", "stream_ordering", "room_id"])
        .where((eb) => eb.or(part.map((p) => eb.and([eb("room_id", "=", p.room), eb("stream_ordering", ">=", p.lo), eb("stream_ordering", "<=", p.hi)]))))
        .execute();
      for (const r of rows) out.push({ ...r, stream_ordering: Number(r.stream_ordering) });
    }
    return out;
  },

  /** The oldest record's time, for a report over "everything". */
  async firstTs(): Promise<number | undefined> {
    const r = await db.selectFrom("audit_log").select(sql<number>`min(ts)`.as("t")).executeTakeFirst();
    return r?.t === null || r?.t === undefined ? undefined : Number(r.t);
  },
});
