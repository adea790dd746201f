// Password hashing with argon2id (a well-kept native library). Verification of an unknown user
// runs against a dummy hash so that response time does not reveal whether an account exists.
import argon2 from "argon2";
import type { ResolvedConfig } from "../config/schema.js";
import { badJson } from "../http/errors.js";

/** Longer passwords are refused before hashing: argon2 cost is bounded, but bodies are not. */
export const MAX_PASSWORD_LENGTH = 512;

export class Passwords {
  private dummy: Promise<string>;

  constructor(private readonly params: ResolvedConfig["password_hashing"]) {
    this.dummy = this.hash("rempart-dummy-password-for-timing");
  }

  hash(password: string): Promise<string> {
    return argon2.hash(password, {
      type: argon2.argon2id,
      memoryCost: this.params.memory_kib,
      timeCost: this.params.time_cost,
      parallelism: this.params.parallelism,
    });
  }

  /** Constant-work check: always runs one argon2 verification, whether or not a hash exists. */
  async verify(hash: string | null | undefined, password: string): Promise<boolean> {
    if (password.length > MAX_PASSWORD_LENGTH) return false;
    const target = hash ?? (await this.dummy);
    try {
      const ok = await argon2.verify(target, password);
      return ok && hash !== null && hash !== undefined;
    } catch {
      return false;
    }
  }

  /** Minimal acceptance rules for a new password; the full policy (NIST SP 800-63B) is security/'s. */
  checkNew(password: string): void {
    if (password.length === 0) throw badJson("new password must not be empty");
    if (password.length > MAX_PASSWORD_LENGTH) throw badJson(`password must be at most ${MAX_PASSWORD_LENGTH} characters`);
  }
}
