// The audit trail and the read gate's other tables (docs/read-gate.md). All SQL of the audit lives
// here; the chain itself (hashes, order) is computed by security/audit/chain.ts.
import { sql } from "kysely";
import type { Db, Dialect } from "./database.js";

export interface AuditRow {
  seq: number;
  ts: number;
  kind: string;
  data: string;
  hash: string;
}

export interface CheckpointRow {
  seq: number;
  ts: number;
  hash: string;
  key_id: string;
  signature: string;
}

const num = (r: AuditRow): AuditRow => ({ ...r, seq: Number(r.seq), ts: Number(r.ts) });

export const auditRepo = (db: Db, dialect: Dialect = "sqlite") => ({
  /** Appends a batch in one statement (so all of it or none; the writer retries the whole batch).
   * The batch travels as one JSON parameter unpacked by the database: binding five parameters per
   * row and compiling a statement per batch cost more than the insert itself. */
  async append(rows: AuditRow[]): Promise<void> {
    if (rows.length === 0) return;
    const json = JSON.stringify(rows.map((r) => [r.seq, r.ts, r.kind, r.data, r.hash]));
    if (dialect === "postgres") {
      await sql`INSERT INTO audit_log (seq, ts, kind, data, hash)
        SELECT (e->>0)::bigint, (e->>1)::bigint, e->>2, e->>3, e->>4 FROM json_array_elements(${json}::json) AS e`.execute(db);
    } else {
      await sql`INSERT INTO audit_log (seq, ts, kind, data, hash)
        SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]'), json_extract(value, '$[4]')
        FROM json_each(${json})`.execute(db);
    }
  },

  async last(): Promise<AuditRow | undefined> {
    const r = await db.selectFrom("audit_log").selectAll().orderBy("seq", "desc").limit(1).executeTakeFirst();
    return r && num(r);
  },

  async first(): Promise<AuditRow | undefined> {
    const r = await db.selectFrom("audit_log").selectAll().orderBy("seq", "asc").limit(1).executeTakeFirst();
    return r && num(r);
  },

  /** Records with seq > after, in chain order. */
  async page(after: number, limit: number): Promise<AuditRow[]> {
    const rows = await db.selectFrom("audit_log").selectAll().where("seq", ">", after).orderBy("seq").limit(limit).execute();
    return rows.map(num);
  },

  async count(): Promise<number> {
    const r = await db.selectFrom("audit_log").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow();
    return Number(r.n);
  },

  /** Total stored bytes of the records' columns (payload, not index overhead). */
  async payloadBytes(): Promise<number> {
    const r = await db
      .selectFrom("audit_log")
      .select(sql<number>`coalesce(sum(length(data) + length(hash) + length(kind) + 16), 0)`.as("b"))
      .executeTakeFirstOrThrow();
    return Number(r.b);
  },

  insertCheckpoint: (c: CheckpointRow) => db.insertInto("audit_checkpoints").values(c).onConflict((oc) => oc.column("seq").doNothing()).execute(),

  async checkpoints(): Promise<CheckpointRow[]> {
    const rows = await db.selectFrom("audit_checkpoints").selectAll().orderBy("seq").execute();
    return rows.map((r) => ({ ...r, seq: Number(r.seq), ts: Number(r.ts) }));
  },

  /** Retention: deletes records up to and including `seq` (a checkpoint, which stays as the anchor). */
  async pruneThrough(seq: number): Promise<number> {
    return db.transaction().execute(async (tx) => {
      const r = await tx.deleteFrom("audit_log").where("seq", "<=", seq).executeTakeFirst();
      await tx.deleteFrom("audit_checkpoints").where("seq", "<", seq).execute();
      return Number(r.numDeletedRows);
    });
  },

  async exportCursor(sink: string): Promise<number> {
    const r = await db.selectFrom("audit_export_cursors").select("seq").where("sink", "=", sink).executeTakeFirst();
    return r ? Number(r.seq) : 0;
  },

  setExportCursor: (sink: string, seq: number) =>
    db.insertInto("audit_export_cursors").values({ sink, seq }).onConflict((oc) => oc.column("sink").doUpdateSet({ seq })).execute(),
});

export const alertsRepo = (db: Db) => ({
  insert: async (a: { ts: number; user_id: string; kind: string; detail: string }) =>
    Number((await db.insertInto("security_alerts").values({ ...a, delivered: 0 }).returning("id").executeTakeFirstOrThrow()).id),
  markDelivered: (id: number) => db.updateTable("security_alerts").set({ delivered: 1 }).where("id", "=", id).execute(),
  list: (limit = 100) => db.selectFrom("security_alerts").selectAll().orderBy("id", "desc").limit(limit).execute(),
});

export const readGateRepo = (db: Db) => ({
  /** Timestamps of a user's membership events in a room, oldest first (to find when they joined). */
  membershipTimeline: (roomId: string, userId: string) =>
    db
      .selectFrom("events")
      .select(["origin_server_ts", "membership"])
      .where("room_id", "=", roomId)
      .where("type", "=", "m.room.member")
      .where("state_key", "=", userId)
      .orderBy("stream_ordering")
      .execute(),

  baselines: (userId: string) => db.selectFrom("read_baselines").select(["metric", "peak"]).where("user_id", "=", userId).execute(),

  upsertBaseline: (userId: string, metric: string, peak: number, ts: number) =>
    db
      .insertInto("read_baselines")
      .values({ user_id: userId, metric, peak, updated_ts: ts })
      .onConflict((oc) => oc.columns(["user_id", "metric"]).doUpdateSet({ peak, updated_ts: ts }))
      .execute(),

  tokenHashById: async (id: number) => (await db.selectFrom("access_tokens").select("token_hash").where("id", "=", id).executeTakeFirst())?.token_hash,

  insertSteppedUp: (tokenHash: string, userId: string, ts: number) =>
    db.insertInto("stepped_up_tokens").values({ token_hash: tokenHash, user_id: userId, ts }).onConflict((oc) => oc.column("token_hash").doNothing()).execute(),

  /** When the user was last stepped up (survives a restart: containment escalates from it). Step-ups
   * are rare, so the table stays small and needs no index on user_id. */
  lastStepUp: async (userId: string): Promise<number | undefined> => {
    const r = await db.selectFrom("stepped_up_tokens").select((eb) => eb.fn.max("ts").as("ts")).where("user_id", "=", userId).executeTakeFirst();
    return r?.ts === null || r?.ts === undefined ? undefined : Number(r.ts);
  },

  steppedUpHashes: async () => (await db.selectFrom("stepped_up_tokens").select("token_hash").execute()).map((r) => r.token_hash),
});
