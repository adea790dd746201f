// Export of the audit trail as OCSF 1.3 events (JSON lines to a file, batches POSTed to an HTTP
// collector), so that the trail also lives off the box. Each sink keeps its own cursor (the last
// exported seq) in the database: a sink that is down is caught up when it returns, never skipped.
//   reads          → API Activity (6003), activity Read
//   media reads    → File Hosting Activity (6006), activity Download
//   login/logout/refresh → Authentication (3002)
//   registration, password change, deactivation, device deletion → Account Change (3001)
//   admin actions  → API Activity (6003), by HTTP method
//   containment    → Detection Finding (2004)
import { appendFileSync } from "node:fs";
import type { Logger } from "pino";
import type { Storage } from "../../storage/database.js";
import { auditRepo, type AuditRow } from "../../storage/audit.js";
import type { ReadGateConfig } from "../containment.js";

type Json = Record<string, unknown>;

const CLASS: Record<number, [string, number, string]> = {
  3001: ["Account Change", 3, "Identity & Access Management"],
  3002: ["Authentication", 3, "Identity & Access Management"],
  6003: ["API Activity", 6, "Application Activity"],
  6006: ["File Hosting Activity", 6, "Application Activity"],
  2004: ["Detection Finding", 2, "Findings"],
};

const AUTH_ACTIVITY: Record<string, [number, string]> = {
  login: [1, "Logon"],
  logout: [2, "Logoff"],
  logout_all: [2, "Logoff"],
  refresh: [99, "Token Refresh"],
};
const ACCOUNT_ACTIVITY: Record<string, [number, string]> = {
  register: [1, "Create"],
  "account.locked": [9, "Lock"],
  password: [3, "Password Change"],
  deactivate: [5, "Disable"],
  delete_device: [99, "Device Delete"],
  delete_devices: [99, "Device Delete"],
};
const METHOD_ACTIVITY: Record<string, [number, string]> = { POST: [1, "Create"], GET: [2, "Read"], PUT: [3, "Update"], DELETE: [4, "Delete"] };

function base(classUid: number, activity: [number, string], row: AuditRow, serverName: string, success: boolean): Json {
  const [className, categoryUid, categoryName] = CLASS[classUid]!;
  return {
    class_uid: classUid,
    class_name: className,
    category_uid: categoryUid,
    category_name: categoryName,
    activity_id: activity[0],
    activity_name: activity[1],
    type_uid: classUid * 100 + activity[0],
    time: row.ts,
    severity_id: success ? 1 : 3,
    status_id: success ? 1 : 2,
    status: success ? "Success" : "Failure",
    metadata: { version: "1.3.0", product: { name: "Rempart", vendor_name: "Rempart" }, uid: `${serverName}:${row.seq}`, sequence: row.seq, log_name: "audit" },
  };
}

function actorOf(session: Json | undefined, d: Json): Json {
  const user = (session?.u ?? d.u) as string | undefined;
  const out: Json = {};
  if (user) out.actor = { user: { uid: user, name: user }, session: session ? { uid: String(session.sid) } : undefined, device: { uid: (session?.d ?? d.d) as string | undefined } };
  const ip = (session?.ip ?? d.ip) as string | undefined;
  if (ip) out.src_endpoint = { ip };
  const ua = (session?.ua ?? d.ua) as string | undefined;
  if (ua) out.http_request = { user_agent: ua };
  return out;
}

/** One audit record as an OCSF event (undefined for session records: they enrich the others). */
export function toOcsf(row: AuditRow, sessionOf: (seq: number) => Json | undefined, serverName: string): Json | undefined {
  const d = JSON.parse(row.data) as Json;
  const session = typeof d.s === "number" ? sessionOf(d.s) : undefined;
  const unmapped = { rempart: d, hash: row.hash };
  switch (row.kind) {
    case "session":
      return undefined;
    case "read": {
      const ok = d.x === undefined;
      if (d.mx !== undefined) {
        return { ...base(6006, [2, "Download"], row, serverName, ok), ...actorOf(session, d), file: { uid: d.mx, name: d.mx, size: d.b }, unmapped };
      }
      const rooms = d.rs ? Object.keys(d.rs as Json) : d.r ? [d.r as string] : [];
      return {
        ...base(6003, [2, "Read"], row, serverName, ok),
        ...actorOf(session, d),
        api: { operation: d.e, response: { code: ok ? 200 : undefined } },
        resources: rooms.map((r) => ({ uid: r, type: "Matrix room" })),
        unmapped,
      };
    }
    case "auth":
    case "account": {
      const table = row.kind === "auth" ? AUTH_ACTIVITY : ACCOUNT_ACTIVITY;
      // Login-security events have dotted names (login.failed, account.locked): their first word
      // names the activity (Logon, …); the full name stays in the record.
      const act = table[d.e as string] ?? table[String(d.e).split(".")[0]!] ?? [99, String(d.e)];
      return { ...base(row.kind === "auth" ? 3002 : 3001, act, row, serverName, d.x === "allow"), ...actorOf(undefined, d), user: d.u ? { uid: d.u } : undefined, unmapped };
    }
    case "admin":
      return {
        ...base(6003, METHOD_ACTIVITY[d.m as string] ?? [99, String(d.m)], row, serverName, d.x === "allow"),
        ...actorOf(undefined, d),
        api: { operation: `${d.m} ${d.e}`, response: { code: d.c } },
        unmapped,
      };
    case "containment": {
      const sev = d.a === "lock" ? 5 : d.a === "step_up" ? 4 : 3;
      return {
        ...base(2004, [1, "Create"], row, serverName, true),
        severity_id: sev,
        ...actorOf(session, d),
        finding_info: { uid: `${serverName}:${row.seq}`, title: `Bulk reading: ${d.m} ${d.v} over limit ${d.l} (${d.k})`, types: ["read_gate"] },
        remediation: { desc: d.a },
        unmapped,
      };
    }
    default:
      return { ...base(6003, [99, row.kind], row, serverName, true), unmapped };
  }
}

interface Sink {
  name: string;
  send(lines: Json[]): Promise<void>;
}

/** Exports new records to every configured sink on a timer; a failed sink retries from its cursor. */
export class AuditExporter {
  private readonly repo;
  private readonly sinks: Sink[] = [];
  private readonly sessions = new Map<number, Json>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    storage: Storage,
    private readonly serverName: string,
    private readonly cfg: ReadGateConfig["audit"],
    private readonly log: Logger,
  ) {
    this.repo = auditRepo(storage.db);
    if (cfg.export_file) {
      const file = cfg.export_file;
      this.sinks.push({ name: `file:${file}`, send: async (lines) => appendFileSync(file, lines.map((l) => JSON.stringify(l) + "\n").join(""), { mode: 0o600 }) });
    }
    if (cfg.export_url) {
      const url = cfg.export_url;
      this.sinks.push({
        name: `http:${url}`,
        send: async (lines) => {
          const res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(lines), signal: AbortSignal.timeout(10_000) });
          if (!res.ok) throw new Error(`collector answered ${res.status}`);
        },
      });
    }
  }

  start(): void {
    if (this.sinks.length === 0 || this.timer) return;
    this.timer = setInterval(() => void this.runOnce(), this.cfg.export_interval_ms);
    this.timer.unref();
  }

  /** One export round for every sink (also the final round at shutdown). */
  async runOnce(): Promise<void> {
    while (this.running) await this.running;
    this.running = (async () => {
      for (const sink of this.sinks) {
        try {
          await this.exportTo(sink);
        } catch (e) {
          this.log.warn({ sink: sink.name.replace(/\/\/[^@/]*@/, "//"), err: { message: (e as Error).message } }, "audit export failed; will retry");
        }
      }
    })();
    try {
      await this.running;
    } finally {
      this.running = undefined;
    }
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.sinks.length) await this.runOnce();
  }

  private async exportTo(sink: Sink): Promise<void> {
    let cursor = await this.repo.exportCursor(sink.name);
    for (;;) {
      const rows = await this.repo.page(cursor, this.cfg.export_batch);
      if (rows.length === 0) return;
      for (const r of rows) if (r.kind === "session") this.remember(r);
      await this.fillMissingSessions(rows);
      const lines = rows.map((r) => toOcsf(r, (seq) => this.sessions.get(seq), this.serverName)).filter((x): x is Json => x !== undefined);
      if (lines.length) await sink.send(lines);
      cursor = rows[rows.length - 1]!.seq;
      await this.repo.setExportCursor(sink.name, cursor);
    }
  }

  private remember(r: AuditRow): void {
    if (this.sessions.size > 100_000) this.sessions.clear();
    this.sessions.set(r.seq, JSON.parse(r.data) as Json);
  }

  /** Session records written before this process's cursor: fetched once, by seq. */
  private async fillMissingSessions(rows: AuditRow[]): Promise<void> {
    for (const r of rows) {
      const s = (JSON.parse(r.data) as Json).s;
      if (typeof s !== "number" || this.sessions.has(s)) continue;
      const [row] = await this.repo.page(s - 1, 1);
      if (row && row.seq === s && row.kind === "session") this.remember(row);
    }
  }
}
