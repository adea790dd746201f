// TOTP second factor (RFC 6238 via otpauth): 30 s steps, 6 digits, SHA-1 (what every authenticator
// app supports), one step of drift either way, each code accepted once (the last used step is
// stored and must grow). Seeds are sealed at rest and never logged.
import { Secret, TOTP } from "otpauth";
import type { Storage } from "../../storage/database.js";
import { totpRepo } from "../../storage/mfa.js";
import type { SecretBox } from "./seal.js";

const PERIOD = 30;

export interface TotpEnrolment {
  secret: string;
  uri: string;
}

export class TotpFactor {
  private readonly repo;

  constructor(
    storage: Storage,
    private readonly box: SecretBox,
    private readonly issuer: string,
    private readonly now: () => number,
  ) {
    this.repo = totpRepo(storage.db);
  }

  /** A fresh seed for the user to add to an app (not stored until confirmed with a code). */
  newSecret(userId: string): TotpEnrolment {
    const secret = new Secret({ size: 20 });
    const totp = this.totp(userId, secret.base32);
    return { secret: secret.base32, uri: totp.toString() };
  }

  /** Confirms an enrolment: the code must match the new seed; then the seed replaces any old one. */
  async enrol(userId: string, secretBase32: string, code: string): Promise<boolean> {
    const step = this.matchStep(userId, secretBase32, code);
    if (step === null) return false;
    await this.repo.set(userId, this.box.seal(secretBase32), this.now());
    await this.repo.useStep(userId, step);
    return true;
  }

  async isEnrolled(userId: string): Promise<boolean> {
    return (await this.repo.get(userId)) !== undefined;
  }

  /** Checks a code against the user's seed; a code (its step) is accepted only once. */
  async verify(userId: string, code: string): Promise<boolean> {
    const row = await this.repo.get(userId);
    if (!row) return false;
    const step = this.matchStep(userId, this.box.open(row.secret_sealed), code);
    if (step === null) return false;
    return this.repo.useStep(userId, step);
  }

  async remove(userId: string): Promise<void> {
    await this.repo.delete(userId);
  }

  /** The current code for a seed (tests and the bench use it as an authenticator app would). */
  static codeFor(secretBase32: string, timestamp: number): string {
    return new TOTP({ secret: Secret.fromBase32(secretBase32), period: PERIOD, digits: 6, algorithm: "SHA1" }).generate({ timestamp });
  }

  private matchStep(userId: string, secretBase32: string, code: string): number | null {
    const clean = code.replace(/\s+/g, "");
    if (!/^\d{6}$/.test(clean)) return null;
    const t = this.now();
    const delta = this.totp(userId, secretBase32).validate({ token: clean, timestamp: t, window: 1 });
    if (delta === null) return null;
    return Math.floor(t / 1000 / PERIOD) + delta;
  }

  private totp(userId: string, secretBase32: string): TOTP {
    return new TOTP({ issuer: this.issuer, label: userId, secret: Secret.fromBase32(secretBase32), period: PERIOD, digits: 6, algorithm: "SHA1" });
  }
}
