// SQL of the security console's read side (docs/security-console.md): alerts since a time, and the
// audit records the console aggregates (a user's sessions, records of a time range). The records'
// JSON stays opaque here; src/security/console.ts interprets it.
import type { Db } from "./database.js";

export interface TrailRow {
  seq: number;
  ts: number;
  kind: string;
  data: string;
}

const row = (r: { seq: number | string; ts: number | string; kind: string; data: string }): TrailRow => ({ seq: Number(r.seq), ts: Number(r.ts), kind: r.kind, data: r.data });

export const securityConsoleRepo = (db: Db) => ({
  /** Stored alerts, newest first, optionally only those raised at or after `since`. */
  alerts: (since: number | undefined, limit: number) => {
    let q = db.selectFrom("security_alerts").selectAll();
    if (since !== undefined) q = q.where("ts", ">=", since);
    return q.orderBy("id", "desc").limit(limit).execute();
  },

  /** Session records (who is reading, referred to by reads) of one user. The user id is matched as
   * its JSON encoding inside the record, then checked exactly by the caller. */
  async sessionsOf(userId: string): Promise<TrailRow[]> {
    const needle = `%"u":${JSON.stringify(userId)}%`;
    const rows = await db.selectFrom("audit_log").select(["seq", "ts", "kind", "data"]).where("kind", "=", "session").where("data", "like", needle).orderBy("seq").execute();
    return rows.map(row);
  },

  /** Session records by sequence number. */
  async sessionsBySeq(seqs: number[]): Promise<TrailRow[]> {
    if (seqs.length === 0) return [];
    const out: TrailRow[] = [];
    for (let i = 0; i < seqs.length; i += 500) {
      const rows = await db.selectFrom("audit_log").select(["seq", "ts", "kind", "data"]).where("kind", "=", "session").where("seq", "in", seqs.slice(i, i + 500)).execute();
      out.push(...rows.map(row));
    }
    return out;
  },

  /** Records of the given kinds with ts >= since, oldest first, at most `limit`. */
  async range(since: number, kinds: string[], limit: number): Promise<TrailRow[]> {
    const rows = await db.selectFrom("audit_log").select(["seq", "ts", "kind", "data"]).where("ts", ">=", since).where("kind", "in", kinds).orderBy("seq").limit(limit).execute();
    return rows.map(row);
  },
});
