// Account validity (docs/government-model.md; Synapse's account_validity): an account expires
// `period` after registration or renewal; a renewal link is mailed `renew_before` ahead; an expired
// account gets 403 ORG_MATRIX_EXPIRED_ACCOUNT on every authenticated request except renewal and
// logout; after a further `deactivate_after` it is deactivated. Time is the injected clock.
import type { Logger } from "pino";
import type { Storage } from "../storage/database.js";
import { policyRepo } from "../storage/policy.js";
import { hashToken, randomToken } from "../accounts/secrets.js";
import { MatrixError, notFound } from "../http/errors.js";
import type { Mailer } from "./email/mailer.js";
import { renewalMail, type Language } from "./email/templates.js";

export interface ValidityConfig {
  enabled: boolean;
  period_ms: number;
  renew_before_ms: number;
  deactivate_after_ms: number;
}

export const expiredAccount = () => new MatrixError(403, "ORG_MATRIX_EXPIRED_ACCOUNT", "This account has expired: renew it with the link sent by email");

/** Paths an expired account may still use (Synapse: renewal, the renewal mail, logout). */
export function exemptFromExpiry(path: string): boolean {
  const p = path.split("?")[0]!;
  return p.includes("/account_validity/") || /\/logout(\/all)?$/.test(p);
}

export class AccountValidity {
  private readonly repo;
  /** expiration_ts per user: one database read per user, not per request. */
  private cache = new Map<string, number>();

  constructor(
    storage: Storage,
    private readonly cfg: ValidityConfig,
    private readonly mailer: Mailer,
    private readonly opts: { baseUrl: string; serverName: string; language: Language },
    private readonly emailOf: (userId: string) => Promise<string | undefined>,
    private readonly deactivate: (userId: string) => Promise<void>,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {
    this.repo = policyRepo(storage.db);
  }

  get enabled(): boolean {
    return this.cfg.enabled;
  }

  /** Refuses an expired account. Accounts that predate the feature start a period on first use. */
  async check(userId: string, path: string): Promise<void> {
    if (!this.cfg.enabled || exemptFromExpiry(path)) return;
    let exp = this.cache.get(userId);
    if (exp === undefined) {
      exp = Number((await this.repo.ensureValidity(userId, this.now() + this.cfg.period_ms)).expiration_ts);
      if (this.cache.size > 50_000) this.cache.clear();
      this.cache.set(userId, exp);
    }
    if (exp <= this.now()) throw expiredAccount();
  }

  async expirationOf(userId: string): Promise<number> {
    return Number((await this.repo.ensureValidity(userId, this.now() + this.cfg.period_ms)).expiration_ts);
  }

  /** A new account's first period. */
  async start(userId: string): Promise<void> {
    if (!this.cfg.enabled) return;
    await this.set(userId, this.now() + this.cfg.period_ms);
  }

  /** Sets the expiry (admin API, renewal); clears any pending renewal token. */
  async set(userId: string, expirationTs: number, mailAlreadySent = false): Promise<number> {
    await this.repo.setValidity({ user_id: userId, expiration_ts: expirationTs, email_sent_ts: mailAlreadySent ? this.now() : null, renewal_token_hash: null });
    this.cache.set(userId, expirationTs);
    return expirationTs;
  }

  /** GET /account_validity/renew?token=: a new period from now. */
  async renew(token: string): Promise<number> {
    const row = token ? await this.repo.validityByToken(hashToken(token)) : undefined;
    if (!row) throw notFound("Unknown or already used renewal token");
    const exp = await this.set(row.user_id, this.now() + this.cfg.period_ms);
    this.log.info({ user_id: row.user_id }, "account renewed");
    return exp;
  }

  /** Mails a fresh renewal link to the user's address (none: 400, nothing to send to). */
  async sendRenewalMail(userId: string): Promise<void> {
    if (!this.cfg.enabled) throw new MatrixError(403, "M_FORBIDDEN", "Account validity is not enabled");
    const email = await this.emailOf(userId);
    if (!email) throw new MatrixError(400, "M_THREEPID_NOT_FOUND", "This account has no email address");
    const row = await this.repo.ensureValidity(userId, this.now() + this.cfg.period_ms);
    const token = randomToken("rpv_");
    await this.repo.setValidity({ user_id: userId, expiration_ts: Number(row.expiration_ts), email_sent_ts: this.now(), renewal_token_hash: hashToken(token) });
    const link = `${this.opts.baseUrl}_matrix/client/unstable/account_validity/renew?token=${encodeURIComponent(token)}`;
    const expires = new Date(Number(row.expiration_ts)).toISOString().slice(0, 10);
    await this.mailer.send(email, renewalMail(this.opts.language, { link, server: this.opts.serverName, expires }));
  }

  /** One pass: renewal mails for accounts expiring soon, deactivation of long-expired ones. */
  async sweep(): Promise<{ mailed: number; deactivated: number }> {
    if (!this.cfg.enabled) return { mailed: 0, deactivated: 0 };
    let mailed = 0;
    let deactivated = 0;
    for (const row of await this.repo.dueForRenewalMail(this.now() + this.cfg.renew_before_ms)) {
      try {
        await this.sendRenewalMail(row.user_id);
        mailed++;
      } catch {
        // No address or the mail server refused: mark it so the sweep does not retry forever.
        await this.repo.setValidity({ ...row, expiration_ts: Number(row.expiration_ts), email_sent_ts: this.now() });
      }
    }
    if (this.cfg.deactivate_after_ms > 0) {
      for (const r of await this.repo.expiredBefore(this.now() - this.cfg.deactivate_after_ms)) {
        await this.deactivate(r.user_id);
        deactivated++;
        this.log.info({ user_id: r.user_id }, "expired account deactivated");
      }
    }
    return { mailed, deactivated };
  }
}
