// Graduated containment of bulk reading (docs/read-gate.md). Two sliding windows meter every read:
// the hourly one (`window_ms`, per account, device and IP) and a long one (`long_window_ms`, a week,
// per account and device) for a reader who stays under the hourly thresholds. Past a threshold the
// reader is throttled (429); it escalates by magnitude (step_up_factor × threshold: soft logout;
// lock_factor ×: lock) and by persistence: after `throttles_to_step_up` throttles within the window
// the next trip steps up, and any trip within the window after a step-up locks the account. The
// 2026 intruder obeyed Retry-After and trickled on for ever under magnitude rules alone.
// Every step is an audit record; step-ups and locks alert admins.
import type { Logger } from "pino";
import type { Requester } from "../accounts/sessions.js";
import type { Storage } from "../storage/database.js";
import { readGateRepo } from "../storage/audit.js";
import { limitExceeded, unknownToken, userLocked, type MatrixError } from "../http/errors.js";
import type { ResolvedConfig } from "../config/schema.js";
import type { AuditTrail } from "./audit/chain.js";
import type { SecurityAlerts } from "./alerts.js";
import { METRICS, Meters, type Increments, type Metric } from "./meters.js";

export type ReadGateConfig = ResolvedConfig["read_gate"];
export type Action = "throttle" | "step_up" | "lock";
/** Why a trip got the action it got: its size, the account's throttles before it, or a step-up before it. */
type Reason = "magnitude" | "persistence" | "after_step_up";

export interface ContainmentDeps {
  /** Locks the account (401 M_USER_LOCKED everywhere). Injected: the login-security module owns the lock. */
  lockAccount(userId: string, reason: string): Promise<void>;
  /** Ends one session so that its token answers 401 M_UNKNOWN_TOKEN with soft_logout: true. */
  softLogout(who: Requester): Promise<void>;
}

interface Trip {
  action: Action;
  reason: Reason;
  metric: Metric;
  scope: "user" | "device" | "ip";
  /** Which window tripped: the hourly one or the long one. */
  long: boolean;
  value: number;
  limit: number;
}

/** Baselines may raise a user's thresholds, but never past this multiple of the configured ones. */
const BASELINE_CAP = 3;
/** Throttle times kept per account: enough for any sane throttles_to_step_up. */
const THROTTLES_KEPT = 64;

export class Containment {
  /** Last step-up per user; null when known to be none (or cleared by an unlock). Filled from the
   * database on a user's first trip, so a restart does not forget a step-up. */
  private readonly stepUps = new Map<string, number | null>();
  /** Times of each account's recent throttles (in memory: a restart forgets them, see docs). */
  private readonly throttles = new Map<string, number[]>();
  /** Accounts stepped up and not yet signed in again (see reauthenticated()). */
  private readonly awaitingReauth = new Set<string>();
  private readonly locked = new Set<string>();
  private readonly baselines = new Map<string, Baseline>();
  private readonly longMeters: Meters;
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
    this.longMeters = new Meters(cfg.long_window_ms);
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
    // Most reads of a busy server are /sync answers that add nothing to any meter (new events are
    // not history, and a sync reads no "rooms"): the keys are touched as add() would leave them.
    const adding = roomsRead.length > 0 || addsAny(inc);
    for (const k of [keys.user, keys.device, keys.ip]) {
      if (adding) this.meters.add(k, now, inc, roomsRead);
      else this.meters.touch(k, now);
    }
    // The long window is per account and device only: a week of an office's shared address says
    // nothing about one reader, and an IP alone is never escalated anyway.
    if (adding) {
      this.longMeters.add(keys.user, now, inc, roomsRead);
      this.longMeters.add(keys.device, now, inc, roomsRead);
    } else {
      this.longMeters.touch(keys.user, now);
      this.longMeters.touch(keys.device, now);
    }
    const base = await this.baselineFor(who.userId);
    if (!adding) {
      // Only the metrics a read adds to are judged (below): none here, so nothing can trip. The
      // user's hourly values still feed their baseline, as in the loop below.
      if (base) this.learn(who.userId, this.meters.values(keys.user, now), base, now);
      return undefined;
    }
    let trip: Trip | undefined;
    // Only the metrics this read adds to are judged: a reader over one limit is refused the reads
    // that would take it further, not a background /sync that brings nothing old (a second device
    // of a stepped-up user keeps working until it reads more).
    const adds = (m: Metric) => (inc[m] ?? 0) > 0 || (m === "rooms_read" && roomsRead.length > 0);
    const consider = (t: Trip) => {
      if (!trip || rank(t.action) > rank(trip.action)) trip = t;
    };
    for (const scope of ["user", "device", "ip"] as const) {
      const values = this.meters.values(keys[scope], now);
      for (const metric of METRICS) {
        if (!adds(metric)) continue;
        const limit = scope === "ip" ? this.cfg.thresholds[metric] * this.cfg.ip_threshold_factor : this.limit(metric, base);
        // Many people share an IP (offices, NAT): an IP alone is throttled, never logged out or locked.
        const t = this.judge(values[metric], limit, scope !== "ip");
        if (t) consider({ action: t, reason: "magnitude", metric, scope, long: false, value: values[metric], limit });
      }
      if (scope === "user" && !trip) this.learn(who.userId, values, base, now);
    }
    for (const scope of ["user", "device"] as const) {
      const values = this.longMeters.values(keys[scope], now);
      for (const metric of METRICS) {
        if (!adds(metric)) continue;
        // Baselines do not raise long thresholds: a slow reader would learn its own pace as normal.
        const limit = this.cfg.long_thresholds[metric];
        const t = this.judge(values[metric], limit, true);
        if (t) consider({ action: t, reason: "magnitude", metric, scope, long: true, value: values[metric], limit });
      }
    }
    if (!trip) return undefined;
    if (trip.scope !== "ip") await this.escalate(who.userId, trip, now);
    const detail = { user_id: who.userId, device_id: who.deviceId, ip, metric: trip.metric, scope: trip.scope, window: trip.long ? "long" : "hour", reason: trip.reason, value: trip.value, limit: Math.round(trip.limit) };
    this.audit.append("containment", { s: sessionSeq, a: trip.action, m: trip.metric, k: trip.scope, v: trip.value, l: Math.round(trip.limit), ...(trip.long ? { w: "long" } : {}), ...(trip.reason !== "magnitude" ? { why: trip.reason } : {}) });
    switch (trip.action) {
      case "throttle": {
        // Retry after one bucket of the window that tripped (a minute, or ~2.8 h for a week).
        const windowMs = trip.long ? this.cfg.long_window_ms : this.cfg.window_ms;
        return limitExceeded(Math.max(1000, Math.floor(windowMs / 60)), "Too many reads: slow down");
      }
      case "step_up": {
        this.stepUps.set(who.userId, now);
        this.throttles.delete(who.userId);
        // The account's meters start from zero only once someone signs in again (reauthenticated(),
        // with the second factor where enrolled): until then its other sessions still count, so an
        // intruder reading from several devices trips again at once, and any trip within the
        // window from now on locks the account.
        this.meters.reset(keys.device);
        this.longMeters.reset(keys.device);
        this.awaitingReauth.add(who.userId);
        await this.deps.softLogout(who);
        await this.alerts.raise({ userId: who.userId, kind: "read_gate.step_up", detail });
        return unknownToken(true, "Unusual reading activity: please sign in again");
      }
      case "lock": {
        this.locked.add(who.userId);
        const why = trip.reason === "after_step_up" ? " after a step-up" : trip.reason === "persistence" ? " after repeated throttles" : "";
        await this.deps.lockAccount(who.userId, `read gate: ${trip.metric} ${trip.value} > ${Math.round(trip.limit)} (${trip.scope}${trip.long ? ", long window" : ""})${why}`);
        await this.alerts.raise({ userId: who.userId, kind: "read_gate.lock", detail });
        return userLocked();
      }
    }
  }

  /** A successful sign-in (login hooks): after a step-up, the account's meters start again from
   * zero for the re-authenticated reader. A refreshed token is not a sign-in. */
  reauthenticated(userId: string): void {
    if (!this.awaitingReauth.delete(userId)) return;
    this.meters.reset(`u:${userId}`);
    this.longMeters.reset(`u:${userId}`);
  }

  /** Lifts the in-process read block of a user (admins, after investigation): their step-up and
   * throttle history is forgotten too, so the next trip starts again at a throttle. */
  unlock(userId: string): void {
    this.locked.delete(userId);
    this.stepUps.set(userId, null);
    this.throttles.delete(userId);
  }

  /** The action a metric's value calls for by magnitude alone (undefined: within the limit). */
  private judge(value: number, limit: number, escalates: boolean): Action | undefined {
    const ratio = value / limit;
    if (ratio <= 1) return undefined;
    if (!escalates) return "throttle";
    return ratio > this.cfg.lock_factor ? "lock" : ratio > this.cfg.step_up_factor ? "step_up" : "throttle";
  }

  /** Escalation by persistence: a trip within the window after a step-up locks; after
   * throttles_to_step_up throttles within the window, the next trip steps up. The window is the one
   * that tripped (an hour, or the long window for a slow reader). */
  private async escalate(userId: string, trip: Trip, now: number): Promise<void> {
    const windowMs = trip.long ? this.cfg.long_window_ms : this.cfg.window_ms;
    const last = await this.lastStepUp(userId);
    if (last !== null && now - last < windowMs) {
      if (trip.action !== "lock") trip.reason = "after_step_up";
      trip.action = "lock";
      return;
    }
    if (trip.action !== "throttle") return;
    const times = (this.throttles.get(userId) ?? []).filter((t) => now - t < this.cfg.long_window_ms);
    const recent = times.filter((t) => now - t < windowMs).length;
    if (recent >= this.cfg.throttles_to_step_up) {
      trip.action = "step_up";
      trip.reason = "persistence";
      return;
    }
    times.push(now);
    if (times.length > THROTTLES_KEPT) times.shift();
    if (this.throttles.size > 100_000) this.throttles.clear();
    this.throttles.set(userId, times);
  }

  private async lastStepUp(userId: string): Promise<number | null> {
    const known = this.stepUps.get(userId);
    if (known !== undefined) return known;
    const stored = (await this.repo.lastStepUp(userId)) ?? null;
    if (this.stepUps.size > 100_000) this.stepUps.clear();
    this.stepUps.set(userId, stored);
    return stored;
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

function addsAny(inc: Increments): boolean {
  for (const m of METRICS) if (inc[m]) return true;
  return false;
}

const rank = (a: Action): number => (a === "throttle" ? 1 : a === "step_up" ? 2 : 3);
