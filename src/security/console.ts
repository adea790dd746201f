// The security console's service (docs/security-console.md): what admins watch (alerts, meters, top
// readers, a user's reads per minute with containment moments, a room's readers, the audit chain's
// status) and the two one-click answers (lock, end sessions). Reads come from the audit trail, so
// they survive a restart; current meter values come from the in-memory meters (docs/read-gate.md).
import type { KeyObject } from "node:crypto";
import type { Storage } from "../storage/database.js";
import { securityConsoleRepo, type TrailRow } from "../storage/security-console.js";
import type { AccountLocks } from "../accounts/locks.js";
import type { Sessions } from "../accounts/sessions.js";
import type { Accounts } from "../accounts/accounts.js";
import type { WebSessions } from "./web-sessions.js";
import type { AuditTrail } from "./audit/chain.js";
import type { Containment, ReadGateConfig } from "./containment.js";
import { METRICS, type Meters } from "./meters.js";
import { verifyTrail, type VerifyResult } from "./audit/verify.js";
import { forbidden, invalidParam, notFound } from "../http/errors.js";

/** At most this many records are aggregated per question (a bound on memory and time). */
const MAX_RECORDS = 200_000;

interface ReadRec {
  s?: number;
  e?: string;
  r?: string;
  rs?: Record<string, unknown>;
  n?: number;
  x?: string;
}

export interface SecurityConsoleDeps {
  storage: Storage;
  cfg: ReadGateConfig;
  meters: Meters;
  containment: Containment;
  locks: AccountLocks;
  sessions: Sessions;
  webSessions: WebSessions;
  accounts: Accounts;
  audit: AuditTrail;
  publicKey: KeyObject;
  serverName: string;
  now: () => number;
}

const parse = (r: TrailRow): Record<string, unknown> => {
  try {
    return JSON.parse(r.data) as Record<string, unknown>;
  } catch {
    return {};
  }
};

export class SecurityConsole {
  private readonly repo;

  constructor(private readonly d: SecurityConsoleDeps) {
    this.repo = securityConsoleRepo(d.storage.db);
  }

  async alerts(since: number | undefined, limit: number) {
    const rows = await this.repo.alerts(since, limit);
    return rows.map((a) => ({ id: Number(a.id), ts: Number(a.ts), user_id: a.user_id, kind: a.kind, detail: safeJson(a.detail), delivered: Number(a.delivered) === 1 }));
  }

  /** Current meter values of a user over the window, against the configured thresholds. */
  async meters(userId: string) {
    await this.localUser(userId);
    const now = this.d.now();
    const values = this.d.meters.values(`u:${userId}`, now);
    const metrics = METRICS.map((m) => ({ metric: m, value: values[m], threshold: this.d.cfg.thresholds[m], ratio: round(values[m] / this.d.cfg.thresholds[m]) }));
    return {
      user_id: userId,
      window_ms: this.d.cfg.window_ms,
      step_up_factor: this.d.cfg.step_up_factor,
      lock_factor: this.d.cfg.lock_factor,
      metrics,
      read_blocked: this.d.containment.isLocked(userId),
      lock: await this.d.locks.status(userId),
    };
  }

  /** Who read the most in the current window, from the trail's read records. */
  async readers(limit: number) {
    const now = this.d.now();
    const since = now - this.d.cfg.window_ms;
    const agg = await this.aggregate(since, () => true);
    const users = [...agg.values()].sort((a, b) => b.reads - a.reads || b.rooms.size - a.rooms.size).slice(0, limit);
    return {
      since,
      window_ms: this.d.cfg.window_ms,
      readers: users.map((u) => ({ user_id: u.userId, reads: u.reads, rooms: u.rooms.size, events: u.events, refused: u.refused, last_ts: u.last })),
    };
  }

  /** Who read a room in the last `minutes`. */
  async roomReaders(roomId: string, minutes: number) {
    const since = this.d.now() - minutes * 60_000;
    const agg = await this.aggregate(since, (rec) => rec.r === roomId || (rec.rs !== undefined && Object.hasOwn(rec.rs, roomId)));
    const readers = [...agg.values()].sort((a, b) => b.reads - a.reads).map((u) => ({ user_id: u.userId, reads: u.reads, events: u.events, refused: u.refused, last_ts: u.last }));
    return { room_id: roomId, since, readers };
  }

  /** A user's reads per minute over the last `minutes`, with the containment steps taken. */
  async timeline(userId: string, minutes: number) {
    await this.localUser(userId);
    await this.d.audit.flush();
    const now = this.d.now();
    const start = Math.floor((now - minutes * 60_000) / 60_000) * 60_000;
    const mine = new Set((await this.repo.sessionsOf(userId)).filter((r) => parse(r).u === userId).map((r) => r.seq));
    const reads = new Array<number>(minutes + 1).fill(0);
    const refused = new Array<number>(minutes + 1).fill(0);
    const containment: { ts: number; action: string; metric: string; value: number; limit: number }[] = [];
    if (mine.size > 0) {
      for (const r of await this.repo.range(start, ["read", "containment"], MAX_RECORDS)) {
        const rec = parse(r);
        if (typeof rec.s !== "number" || !mine.has(rec.s)) continue;
        const i = Math.min(minutes, Math.floor((r.ts - start) / 60_000));
        if (r.kind === "read") {
          reads[i]!++;
          if (rec.x === "throttled" || rec.x === "denied") refused[i]!++;
        } else containment.push({ ts: r.ts, action: String(rec.a), metric: String(rec.m), value: Number(rec.v), limit: Number(rec.l) });
      }
    }
    return {
      user_id: userId,
      start,
      minutes: reads.map((n, i) => ({ ts: start + i * 60_000, reads: n, refused: refused[i]! })),
      containment,
      lock: await this.d.locks.status(userId),
    };
  }

  async verifyAudit(): Promise<VerifyResult> {
    await this.d.audit.flush();
    return verifyTrail(this.d.storage, this.d.publicKey, this.d.serverName);
  }

  /** Locks an account (every session ends at once; 401 M_USER_LOCKED from then on). */
  async lock(userId: string, reason: string, by: string): Promise<void> {
    await this.target(userId, by);
    await this.d.locks.lock(userId, reason, by);
    await this.d.webSessions.endAllFor(userId);
    this.d.audit.append("admin", { e: "security.lock", u: by, target: userId, reason });
  }

  async unlock(userId: string, by: string): Promise<void> {
    await this.localUser(userId);
    await this.d.locks.unlock(userId, by);
    this.d.containment.unlock(userId);
    this.d.audit.append("admin", { e: "security.unlock", u: by, target: userId });
  }

  /** Ends every session (access and refresh tokens, web sessions) without locking: the owner signs in again. */
  async endSessions(userId: string, reason: string, by: string): Promise<void> {
    await this.target(userId, by);
    await this.d.sessions.revokeAll(userId);
    await this.d.webSessions.endAllFor(userId);
    this.d.audit.append("admin", { e: "security.end_sessions", u: by, target: userId, reason });
  }

  private async target(userId: string, by: string): Promise<void> {
    await this.localUser(userId);
    if (userId === by) throw forbidden("You cannot do this to your own account");
  }

  private async localUser(userId: string): Promise<void> {
    if (!userId.startsWith("@") || !userId.endsWith(`:${this.d.serverName}`)) throw invalidParam("Not a local user id");
    if (!(await this.d.accounts.getUser(userId))) throw notFound("Unknown user");
  }

  /** Read records since `since` that match, grouped by the user of their session. */
  private async aggregate(since: number, match: (rec: ReadRec) => boolean) {
    await this.d.audit.flush();
    const bySession = new Map<number, { reads: number; events: number; refused: number; rooms: Set<string>; last: number }>();
    for (const r of await this.repo.range(since, ["read"], MAX_RECORDS)) {
      const rec = parse(r) as ReadRec;
      if (typeof rec.s !== "number" || !match(rec)) continue;
      let a = bySession.get(rec.s);
      if (!a) bySession.set(rec.s, (a = { reads: 0, events: 0, refused: 0, rooms: new Set(), last: 0 }));
      a.reads++;
      a.events += typeof rec.n === "number" ? rec.n : 0;
      if (rec.x === "throttled" || rec.x === "denied") a.refused++;
      if (typeof rec.r === "string") a.rooms.add(rec.r);
      if (rec.rs) for (const k of Object.keys(rec.rs)) a.rooms.add(k);
      a.last = Math.max(a.last, r.ts);
    }
    const users = new Map<string, { userId: string; reads: number; events: number; refused: number; rooms: Set<string>; last: number }>();
    for (const s of await this.repo.sessionsBySeq([...bySession.keys()])) {
      const u = parse(s).u;
      const a = bySession.get(s.seq);
      if (typeof u !== "string" || !a) continue;
      let t = users.get(u);
      if (!t) users.set(u, (t = { userId: u, reads: 0, events: 0, refused: 0, rooms: new Set(), last: 0 }));
      t.reads += a.reads;
      t.events += a.events;
      t.refused += a.refused;
      for (const x of a.rooms) t.rooms.add(x);
      t.last = Math.max(t.last, a.last);
    }
    return users;
  }
}

const round = (x: number) => Math.round(x * 100) / 100;

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return {};
  }
}
