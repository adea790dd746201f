// Synapse-compatible shared-secret registration: the client fetches a nonce, then proves knowledge
// of registration_shared_secret with HMAC-SHA1(nonce \0 user \0 password \0 admin|notadmin[\0 type]).
// Kept byte-compatible so synapse's register_new_matrix_user and other tools work unchanged.
import { createHmac, randomBytes } from "node:crypto";
import { constantTimeEqual } from "./secrets.js";

const NONCE_TTL_MS = 60_000;

export function sharedSecretMac(secret: string, nonce: string, user: string, password: string, admin: boolean, userType?: string | null): string {
  const mac = createHmac("sha1", Buffer.from(secret, "utf8"));
  mac.update(nonce).update("\x00").update(user).update("\x00").update(password).update("\x00").update(admin ? "admin" : "notadmin");
  if (userType) mac.update("\x00").update(userType);
  return mac.digest("hex");
}

export class SharedSecretNonces {
  private nonces = new Map<string, number>();

  constructor(private readonly now: () => number) {}

  issue(): string {
    const t = this.now();
    for (const [n, ts] of this.nonces) if (ts < t - NONCE_TTL_MS) this.nonces.delete(n);
    const nonce = randomBytes(16).toString("hex");
    this.nonces.set(nonce, t);
    return nonce;
  }

  /** Each nonce is good for one attempt within a minute. */
  consume(nonce: string): boolean {
    const ts = this.nonces.get(nonce);
    this.nonces.delete(nonce);
    return ts !== undefined && ts >= this.now() - NONCE_TTL_MS;
  }
}

export const macMatches = (expected: string, given: string): boolean => constantTimeEqual(expected, given.toLowerCase());
