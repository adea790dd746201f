// Random secrets and their stored form. Tokens carry 256 random bits, so a plain SHA-256 is a safe
// stored form (no dictionary to attack) and allows an indexed lookup; comparisons of secrets given by
// clients against stored values use timingSafeEqual.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

export const randomToken = (prefix: string): string => `${prefix}${randomBytes(32).toString("base64url")}`;
export const hashToken = (token: string): string => createHash("sha256").update(token, "utf8").digest("base64url");

const ALPHA = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
/** Device ids in the style clients expect: 10 upper-case letters (~47 bits). */
export function randomDeviceId(): string {
  const bytes = randomBytes(10);
  let s = "";
  for (const b of bytes) s += ALPHA[b % 26];
  return s;
}

export function constantTimeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, "utf8");
  const bb = Buffer.from(b, "utf8");
  if (ab.length !== bb.length) {
    timingSafeEqual(ab, ab);
    return false;
  }
  return timingSafeEqual(ab, bb);
}
