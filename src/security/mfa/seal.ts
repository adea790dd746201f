// A server key for second-factor secrets, kept in <data_dir>/mfa-secret.key (mode 0600, created on
// first start): TOTP seeds are sealed with AES-256-GCM under it, and recovery codes are hashed with
// HMAC-SHA-256 under it (a stolen database alone then allows no offline guessing of the codes).
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export class SecretBox {
  private constructor(private readonly key: Buffer) {}

  static open(dataDir: string): SecretBox {
    const path = join(dataDir, "mfa-secret.key");
    if (!existsSync(path)) {
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(path, randomBytes(32).toString("base64"), { mode: 0o600, flag: "wx" });
    }
    const key = Buffer.from(readFileSync(path, "utf8").trim(), "base64");
    if (key.length !== 32) throw new Error(`${path} must hold 32 bytes in base64`);
    return new SecretBox(key);
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", this.key, iv);
    const body = Buffer.concat([c.update(plain, "utf8"), c.final()]);
    return `v1.${Buffer.concat([iv, c.getAuthTag(), body]).toString("base64url")}`;
  }

  open(sealed: string): string {
    const raw = Buffer.from(sealed.replace(/^v1\./, ""), "base64url");
    const d = createDecipheriv("aes-256-gcm", this.key, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString("utf8");
  }

  mac(value: string): string {
    return createHmac("sha256", this.key).update(value, "utf8").digest("base64url");
  }
}
