// The login guard (issue 9; NIST SP 800-63B-4 § 3.2.2 "Rate limiting (throttling)", OWASP
// "Credential stuffing prevention"). Decides, before a password is checked, whether the attempt may
// be made at all, and learns from each outcome:
//  - (account, IP) pair: after 10 failures the pair waits, 30 s doubling to 1 h, reset by a success;
//  - account: after 100 consecutive failures it accepts no password guesses (persisted) until its
//    owner resets the password or an admin unlocks it; networks where the owner already logged in
//    stay allowed, so that an attacker elsewhere cannot lock the real user out;
//  - IP: 100 failures in 24 h across accounts blocks it;
//  - credential stuffing: failures on many distinct accounts from one IP (10 in an hour) or one
//    /24 or /64 network (20), or a jump of the global failure ratio (then 3 accounts are enough),
//    block the source and raise an alert (securityEvents "stuffing.*").
// Every decision depends only on the typed user id and the IP, never on whether the account exists,
// and refusals happen before any hashing: neither answers nor timings reveal accounts.
// State is in memory (one process), except account blocks, which survive restarts.
import type { Storage } from "../storage/database.js";
import { guardBlocksRepo, knownLoginsRepo } from "../storage/login-security.js";
import { MatrixError, limitExceeded } from "../http/errors.js";
import type { SecurityEvents } from "./events.js";
import { networkOf } from "./network.js";

export interface GuardConfig {
  pair_failures_before_wait: number;
  pair_wait_min_ms: number;
  pair_wait_max_ms: number;
  account_max_failures: number;
  ip_max_failures_per_day: number;
  stuffing_accounts_per_ip: number;
  stuffing_global_failure_ratio: number;
  stuffing_block_ms: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const GLOBAL_WINDOW = 5 * 60_000;
const GLOBAL_MIN_FAILURES = 50;
const ALARM_ACCOUNTS_PER_IP = 3;

interface Pair {
  failures: number;
  until: number;
  last: number;
}

interface Source {
  /** Failure times in the last 24 h (kept only up to the daily limit). */
  failures: number[];
  /** Accounts that failed from here, with the time of their last failure. */
  accounts: Map<string, number>;
  blockedUntil: number;
  reason?: "daily" | "stuffing";
}

export class LoginGuard {
  private pairs = new Map<string, Pair>();
  private accounts = new Map<string, number>();
  private ips = new Map<string, Source>();
  private nets = new Map<string, Source>();
  private blockedAccounts: Promise<Set<string>>;
  /** Attempts and failures of the last 5 minutes, in 10-second buckets. */
  private global: { slot: number; attempts: number; failures: number }[] = [];
  private alarm = false;
  private readonly blocks;
  private readonly known;

  constructor(
    storage: Storage,
    private readonly cfg: GuardConfig,
    private readonly events: SecurityEvents,
    private readonly now: () => number,
  ) {
    this.blocks = guardBlocksRepo(storage.db);
    this.known = knownLoginsRepo(storage.db);
    this.blockedAccounts = this.blocks.all().then((rows) => new Set(rows.map((r) => r.user_id)));
  }

  /** Throws the refusal if this attempt may not be made; otherwise the password may be checked. */
  async check(userId: string, ip: string): Promise<void> {
    const t = this.now();
    const net = networkOf(ip);
    for (const [src, key] of [[this.ips.get(ip), ip] as const, [this.nets.get(net), net] as const]) {
      if (src && src.blockedUntil > t) {
        this.events.emit({ type: "login.refused", userId, ip, detail: { why: `source ${src.reason}`, source: key } });
        if (src.reason === "stuffing") throw new MatrixError(403, "M_FORBIDDEN", "Too many failed logins from your network; try again later or contact your administrator");
        throw limitExceeded(src.blockedUntil - t, "Too many failed logins from your address");
      }
    }
    const pair = this.pairs.get(`${userId}\u0000${ip}`);
    if (pair && pair.until > t) {
      this.events.emit({ type: "login.throttled", userId, ip, detail: { failures: pair.failures } });
      throw limitExceeded(pair.until - t, "Too many failed logins; wait before trying again");
    }
    if ((await this.blockedAccounts).has(userId) && !(await this.known.has(userId, `net:${net}`))) {
      this.events.emit({ type: "login.refused", userId, ip, detail: { why: "account blocked" } });
      throw new MatrixError(403, "M_FORBIDDEN", "This account accepts no more password attempts: reset your password or ask an administrator to unlock it");
    }
  }

  /** A wrong password (or an unknown user: the same to the guard). */
  async failed(userId: string, ip: string): Promise<void> {
    const t = this.now();
    this.recordGlobal(t, false);
    const key = `${userId}\u0000${ip}`;
    const pair = this.pairs.get(key) ?? { failures: 0, until: 0, last: t };
    pair.failures++;
    pair.last = t;
    if (pair.failures >= this.cfg.pair_failures_before_wait) {
      const exp = pair.failures - this.cfg.pair_failures_before_wait;
      pair.until = t + Math.min(this.cfg.pair_wait_min_ms * 2 ** Math.min(exp, 20), this.cfg.pair_wait_max_ms);
    }
    this.pairs.set(key, pair);

    const consecutive = (this.accounts.get(userId) ?? 0) + 1;
    this.accounts.set(userId, consecutive);
    if (consecutive >= this.cfg.account_max_failures && !(await this.blockedAccounts).has(userId)) {
      (await this.blockedAccounts).add(userId);
      await this.blocks.set(userId, consecutive, t);
      this.events.emit({ type: "account.password_blocked", userId, ip, detail: { failures: consecutive } });
    }

    this.recordSource(this.ips, ip, ip, userId, t, this.perIpLimit());
    this.recordSource(this.nets, networkOf(ip), ip, userId, t, this.perIpLimit() * 2);
    if (this.pairs.size > 200_000) this.sweep(t);
  }

  async succeeded(userId: string, ip: string): Promise<void> {
    this.recordGlobal(this.now(), true);
    this.pairs.delete(`${userId}\u0000${ip}`);
    this.accounts.delete(userId);
  }

  /** Lifts an account's password block (the owner changed the password, or an admin unlocked it). */
  async clearAccount(userId: string): Promise<void> {
    this.accounts.delete(userId);
    for (const k of this.pairs.keys()) if (k.startsWith(`${userId}\u0000`)) this.pairs.delete(k);
    (await this.blockedAccounts).delete(userId);
    await this.blocks.clear(userId);
  }

  async isAccountBlocked(userId: string): Promise<boolean> {
    return (await this.blockedAccounts).has(userId);
  }

  isSourceBlocked(ip: string): boolean {
    const t = this.now();
    return (this.ips.get(ip)?.blockedUntil ?? 0) > t || (this.nets.get(networkOf(ip))?.blockedUntil ?? 0) > t;
  }

  get stuffingAlarm(): boolean {
    return this.alarm;
  }

  private perIpLimit(): number {
    return this.alarm ? Math.min(ALARM_ACCOUNTS_PER_IP, this.cfg.stuffing_accounts_per_ip) : this.cfg.stuffing_accounts_per_ip;
  }

  private recordSource(map: Map<string, Source>, key: string, ip: string, userId: string, t: number, accountLimit: number): void {
    const src: Source = map.get(key) ?? { failures: [], accounts: new Map(), blockedUntil: 0 };
    map.set(key, src);
    if (src.blockedUntil > t) return;
    while (src.failures.length && src.failures[0]! <= t - DAY) src.failures.shift();
    src.failures.push(t);
    for (const [u, ts] of src.accounts) if (ts <= t - HOUR) src.accounts.delete(u);
    src.accounts.set(userId, t);
    const isIp = key === ip;
    if (src.accounts.size >= accountLimit) {
      src.blockedUntil = t + this.cfg.stuffing_block_ms;
      src.reason = "stuffing";
      this.events.emit({ type: "stuffing.detected", ip, detail: { source: key, kind: isIp ? "ip" : "network", accounts: src.accounts.size, alarm: this.alarm } });
    } else if (isIp && src.failures.length >= this.cfg.ip_max_failures_per_day) {
      src.blockedUntil = src.failures[0]! + DAY;
      src.reason = "daily";
      this.events.emit({ type: "login.ip_blocked", ip, detail: { failures: src.failures.length } });
    }
  }

  private recordGlobal(t: number, ok: boolean): void {
    const slot = Math.floor(t / 10_000);
    let last = this.global.at(-1);
    if (!last || last.slot !== slot) {
      last = { slot, attempts: 0, failures: 0 };
      this.global.push(last);
      while (this.global[0]!.slot <= slot - GLOBAL_WINDOW / 10_000) this.global.shift();
    }
    last.attempts++;
    if (!ok) last.failures++;
    let attempts = 0;
    let failures = 0;
    for (const b of this.global) {
      attempts += b.attempts;
      failures += b.failures;
    }
    const ratio = failures / attempts;
    const alarm = failures >= GLOBAL_MIN_FAILURES && ratio >= this.cfg.stuffing_global_failure_ratio;
    if (alarm !== this.alarm) {
      this.alarm = alarm;
      this.events.emit({ type: alarm ? "stuffing.global_alarm" : "stuffing.global_alarm_ended", detail: { failures, ratio: Math.round(ratio * 100) / 100 } });
    }
  }

  private sweep(t: number): void {
    for (const [k, p] of this.pairs) if (p.until <= t && p.last <= t - DAY) this.pairs.delete(k);
    for (const m of [this.ips, this.nets]) for (const [k, s] of m) if (s.blockedUntil <= t && (s.failures.at(-1) ?? 0) <= t - DAY) m.delete(k);
  }
}
