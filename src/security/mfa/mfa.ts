// Second factors together, and the policy that says who must use one (config login_security.mfa):
// "required" for everyone, "optional" (required for users who enrolled a factor, and for server
// admins when mfa_required_for_admins), "off" (never; enrolled factors are ignored).
import type { Storage } from "../../storage/database.js";
import type { ResolvedConfig } from "../../config/schema.js";
import { usersRepo } from "../../storage/users.js";
import type { SecurityEvents } from "../events.js";
import { SecretBox } from "./seal.js";
import { TotpFactor } from "./totp.js";
import { RecoveryCodes } from "./recovery-codes.js";
import { WebAuthnFactor } from "./webauthn.js";

const MAX_CODE_FAILURES = 10;
const CODE_WINDOW_MS = 15 * 60_000;

export interface FactorSummary {
  totp: boolean;
  webauthn: number;
  recoveryCodes: number;
}

export class Mfa {
  readonly totp: TotpFactor;
  readonly recovery: RecoveryCodes;
  readonly webauthn: WebAuthnFactor;
  /** Seals secrets kept for a moment elsewhere (a TOTP seed being enrolled, in the web session). */
  readonly box: SecretBox;
  private readonly users;
  private codeFailures = new Map<string, { count: number; since: number }>();

  constructor(
    storage: Storage,
    private readonly config: ResolvedConfig,
    private readonly events: SecurityEvents,
    private readonly now: () => number,
  ) {
    const box = (this.box = SecretBox.open(config.data_dir));
    this.totp = new TotpFactor(storage, box, `Rempart (${config.server_name})`, now);
    this.recovery = new RecoveryCodes(storage, box, now);
    this.webauthn = new WebAuthnFactor(storage, () => config.public_baseurl, `Rempart (${config.server_name})`, now);
    this.users = usersRepo(storage.db);
  }

  async factors(userId: string): Promise<FactorSummary> {
    return {
      totp: await this.totp.isEnrolled(userId),
      webauthn: await this.webauthn.count(userId),
      recoveryCodes: await this.recovery.remaining(userId),
    };
  }

  /** True if the user has a second factor they can log in with (recovery codes are a fallback). */
  async hasFactor(userId: string): Promise<boolean> {
    const f = await this.factors(userId);
    return f.totp || f.webauthn > 0;
  }

  /** Whether this user must present a second factor to log in and for sensitive operations. */
  async requiredFor(userId: string): Promise<boolean> {
    const policy = this.config.login_security.mfa;
    if (policy === "off") return false;
    if (policy === "required") return true;
    if (this.config.login_security.mfa_required_for_admins && (await this.users.get(userId))?.admin) return true;
    return this.hasFactor(userId);
  }

  /** Checks a typed code: a TOTP code, or one of the recovery codes (each usable once). After 10
   * wrong codes in 15 minutes the user's codes are not even checked for 15 minutes, whatever the
   * entry point (web login, UIA stage): 6 digits must not be guessable by trying. */
  async verifyCode(userId: string, code: string, ip?: string): Promise<"totp" | "recovery" | null> {
    const t = this.now();
    const f = this.codeFailures.get(userId);
    if (f && f.count >= MAX_CODE_FAILURES && t - f.since < CODE_WINDOW_MS) {
      this.events.emit({ type: "mfa.code.throttled", userId, ip });
      return null;
    }
    const ok = await this.checkCode(userId, code, ip);
    if (ok) this.codeFailures.delete(userId);
    else {
      const cur = f && t - f.since < CODE_WINDOW_MS ? f : { count: 0, since: t };
      cur.count++;
      this.codeFailures.set(userId, cur);
      if (this.codeFailures.size > 100_000) this.codeFailures.clear();
    }
    return ok;
  }

  private async checkCode(userId: string, code: string, ip?: string): Promise<"totp" | "recovery" | null> {
    if (/^\s*\d{6}\s*$/.test(code)) {
      if (await this.totp.verify(userId, code)) return "totp";
    } else if (await this.recovery.use(userId, code)) {
      this.events.emit({ type: "mfa.recovery_code.used", userId, ip, detail: { remaining: await this.recovery.remaining(userId) } });
      return "recovery";
    }
    this.events.emit({ type: "mfa.code.failed", userId, ip });
    return null;
  }
}
