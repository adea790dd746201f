// Graduated containment of bulk reading (docs/read-gate.md): past a threshold the reader is
// throttled (429), at step_up_factor × threshold the session is soft-logged-out (401 soft_logout,
// the client must re-authenticate), and at lock_factor × threshold, or at a second step-up within
// one window, the account is locked and admins are alerted. Every step is an audit record.
import type { Logger } from "pino";
import type { Requester } from "../accounts/sessions.js";
import type { Storage } from "../storage/database.js";
import { readGateRepo } from "../storage/audit.js";
import { limitExceeded, unknownToken, userLocked, type MatrixError } from "../http/errors.js";
import type { ResolvedConfig } from "../config/schema.js";
import type { AuditTrail } from "./audit/chain.js";
import type { SecurityAlerts } from "./alerts.js";
import { METRICS, type Increments, type Meters, type Metric } from "./meters.js";

export type ReadGateConfig = ResolvedConfig["read_gate"];
export type Action = "throttle" | "step_up" | "lock";

export interface ContainmentDeps {
  /** Locks the account (401 M_USER_LOCKED everywhere). Injected: the login-security module owns the lock. */
  lockAccount(userId: string, reason: string): Promise<void>;
  /** Ends one session so that its token answers 401 M_UNKNOWN_TOKEN with soft_logout: true. */
  softLogout(who: Requester): Promise<void>;
}

interface Trip {
  action: Action;
  metric: Metric;
  scope: "user" | "device" | "ip";
  value: number;
  limit: number;
}

/** Baselines may raise a user's thresholds, but never past this multiple of the configured ones. */
const BASELINE_CAP = 3;

export class Containment {
  private readonly stepUps = new Map<string, number>();
  private readonly locked = new Set<string>();
  private readonly baselines = new Map<string, Baseline>();
  private readonly repo;

  constructor(
    private readonly cfg: ReadGateConfig,
    private readonly meters: Meters,
    private readonly deps: ContainmentDeps,
    private readonly alerts: SecurityAlerts,
    private readonly audit: AuditTrail,
    storage: Storage,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {
    this.repo = readGateRepo(storage.db);
  }

  isLocked(userId: string): boolean {
    return this.locked.has(userId);
  }

  /** Meters one read (attempted reads count, so ignoring a 429 escalates) and returns the error to
   * answer with, if any. */
  async apply(who: Requester, ip: string, sessionSeq: number, inc: Increments, roomsRead: readonly string[]): Promise<MatrixError | undefined> {
    if (this.locked.has(who.userId)) return userLocked();
    const now = this.now();
    const keys = { user: `u:${who.userId}`, device: `d:${who.userId}|${who.deviceId}`, ip: `i:${ip}` } as const;
    for (const k of Object.values(keys)) this.meters.add(k, now, inc, roomsRead);
    const base = await this.baselineFor(who.userId);
    let trip: Trip | undefined;
    for (const scope of ["user", "device", "ip"] as const) {
      const values = this.meters.values(keys[scope], now);
      for (const metric of METRICS) {
        const limit = scope === "ip" ? this.cfg.thresholds[metric] * this.cfg.ip_threshold_factor : this.limit(metric, base);
        const ratio = values[metric] / limit;
        if (ratio <= 1) continue;
        // Many people share an IP (offices, NAT): an IP alone is throttled, never logged out or locked.
        let action: Action = ratio > this.cfg.lock_factor ? "lock" : ratio > this.cfg.step_up_factor ? "step_up" : "throttle";
        if (scope === "ip") action = "throttle";
        if (!trip || rank(action) > rank(trip.action)) trip = { action, metric, scope, value: values[metric], limit };
      }
      if (scope === "user" && !trip) this.learn(who.userId, values, base, now);
    }
    if (!trip) return undefined;
    if (trip.action === "step_up") {
      const last = this.stepUps.get(who.userId);
      if (last !== undefined && now - last < this.cfg.window_ms) trip.action = "lock";
    }
    const detail = { user_id: who.userId, device_id: who.deviceId, ip, metric: trip.metric, scope: trip.scope, value: trip.value, limit: Math.round(trip.limit) };
    this.audit.append("containment", { s: sessionSeq, a: trip.action, m: trip.metric, k: trip.scope, v: trip.value, l: Math.round(trip.limit) });
    switch (trip.action) {
      case "throttle": {
        return limitExceeded(Math.max(1000, Math.floor(this.cfg.window_ms / 60)), "Too many reads: slow down");
      }
      case "step_up": {
        this.stepUps.set(who.userId, now);
        // The re-authenticated session starts from zero; a second step-up within the window locks.
        this.meters.reset(keys.user);
        this.meters.reset(keys.device);
        await this.deps.softLogout(who);
        await this.alerts.raise({ userId: who.userId, kind: "read_gate.step_up", detail });
        return unknownToken(true, "Unusual reading activity: please sign in again");
      }
      case "lock": {
        this.locked.add(who.userId);
        await this.deps.lockAccount(who.userId, `read gate: ${trip.metric} ${trip.value} > ${Math.round(trip.limit)} (${trip.scope})`);
        await this.alerts.raise({ userId: who.userId, kind: "read_gate.lock", detail });
        return userLocked();
      }
    }
  }

  /** Lifts the in-process read block of a user (admins, after investigation). */
  unlock(userId: string): void {
    this.locked.delete(userId);
    this.stepUps.delete(userId);
  }

  private limit(metric: Metric, base: Baseline | undefined): number {
    const configured = this.cfg.thresholds[metric];
    const peak = base?.usable.get(metric);
    if (!peak || this.cfg.baseline_factor === 0) return configured;
    return Math.min(Math.max(configured, peak * this.cfg.baseline_factor), configured * BASELINE_CAP);
  }

  private async baselineFor(userId: string): Promise<Baseline | undefined> {
    if (this.cfg.baseline_factor === 0) return undefined;
    let b = this.baselines.get(userId);
    if (!b) {
      const usable = new Map((await this.repo.baselines(userId)).map((r) => [r.metric, Number(r.peak)]));
      b = { usable, candidate: new Map(), since: this.now() };
      if (this.baselines.size > 50_000) this.baselines.clear();
      this.baselines.set(userId, b);
    }
    return b;
  }

  /** Learns a user's own peak from windows that stayed within their limits (never from contained
   * reads). A window's peak becomes usable only once that window is over, so a reader cannot raise
   * the limit of the window they are reading in. */
  private learn(userId: string, values: Record<Metric, number>, base: Baseline | undefined, now: number): void {
    if (!base) return;
    if (now - base.since >= this.cfg.window_ms) {
      for (const [metric, v] of base.candidate) {
        if (v <= (base.usable.get(metric) ?? 0)) continue;
        base.usable.set(metric, v);
        this.repo.upsertBaseline(userId, metric, v, now).catch((e: unknown) => this.log.warn({ err: { message: (e as Error).message } }, "could not store a read baseline"));
      }
      base.candidate.clear();
      base.since = now;
    }
    for (const metric of METRICS) if (values[metric] > (base.candidate.get(metric) ?? 0)) base.candidate.set(metric, values[metric]);
  }
}

interface Baseline {
  usable: Map<string, number>;
  candidate: Map<string, number>;
  since: number;
}

const rank = (a: Action): number => (a === "throttle" ? 1 : a === "step_up" ? 2 : 3);
