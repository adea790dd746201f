// Recovery codes: 10 per user, 50 random bits each (10 base-32 characters shown as xxxxx-xxxxx),
// single use, stored only as HMAC-SHA-256 under the server's MFA key. Generating a new set replaces
// the old one.
import { randomBytes } from "node:crypto";
import type { Storage } from "../../storage/database.js";
import { recoveryCodesRepo } from "../../storage/mfa.js";
import type { SecretBox } from "./seal.js";


const B32 = "abcdefghijkmnpqrstuvwxyz23456789"; // 32 symbols, no l/0/1/o confusion
export const RECOVERY_CODE_COUNT = 10;

export class RecoveryCodes {
  private readonly repo;

  constructor(
    storage: Storage,
    private readonly box: SecretBox,
    private readonly now: () => number,
  ) {
    this.repo = recoveryCodesRepo(storage.db);

  }

  /** Creates a new set, replacing the old one; the codes are returned once and never stored. */
  async generate(userId: string): Promise<string[]> {
    const codes: string[] = [];
    for (let i = 0; i < RECOVERY_CODE_COUNT; i++) {
      const bytes = randomBytes(10);
      let s = "";
      for (const b of bytes) s += B32[b & 31];
      codes.push(`${s.slice(0, 5)}-${s.slice(5)}`);
    }
    await this.repo.replace(userId, codes.map((c) => this.hash(userId, c)), this.now());
    return codes;
  }

  async use(userId: string, code: string): Promise<boolean> {
    const clean = code.trim().toLowerCase().replace(/[\s-]/g, "");
    if (!/^[a-z0-9]{10}$/.test(clean)) return false;
    return this.repo.use(userId, this.hash(userId, `${clean.slice(0, 5)}-${clean.slice(5)}`), this.now());
  }

  remaining(userId: string): Promise<number> {
    return this.repo.remaining(userId);
  }

  async remove(userId: string): Promise<void> {
    await this.repo.delete(userId);
  }

  private hash(userId: string, code: string): string {
    return this.box.mac(`recovery\u0000${userId}\u0000${code}`);
  }
}
