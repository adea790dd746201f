// Password hashing with argon2id (a well-kept native library). Verification of an unknown user
// runs against a dummy hash so that response time does not reveal whether an account exists.
import argon2 from "argon2";
import { randomBytes } from "node:crypto";
import type { ResolvedConfig } from "../config/schema.js";
import { badJson } from "../http/errors.js";

/** Longer passwords are refused before hashing: argon2 cost is bounded, but bodies are not. */
export const MAX_PASSWORD_LENGTH = 512;

export class Passwords {
  /**
   * What unknown users are verified against: an encoded argon2id hash with the configured cost and
   * random salt and digest, which no password matches. Verifying it costs exactly what verifying a
   * real hash costs, and building it costs nothing: hashing a dummy password at start-up took
   * ~40 ms and a 19 MiB buffer before the server could listen (bench/foundation.ts).
   */
  private readonly dummy: string;

  constructor(private readonly params: ResolvedConfig["password_hashing"]) {
    const b64 = (n: number) => randomBytes(n).toString("base64").replace(/=+$/, "");
    this.dummy = `$argon2id$v=19$m=${params.memory_kib},t=${params.time_cost},p=${params.parallelism}$${b64(16)}$${b64(32)}`;
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
    const target = hash ?? this.dummy;
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
