// Token buckets keyed by (action, key), in memory. Exceeding a bucket raises 429 M_LIMIT_EXCEEDED
// with Retry-After (client-server API "Rate limiting").
import { limitExceeded } from "../http/errors.js";

interface Bucket {
  tokens: number;
  updated: number;
}

export class RateLimiter {
  private buckets = new Map<string, Bucket>();

  constructor(
    private readonly enabled: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token from the bucket or throws 429 with the time until one is available. */
  take(action: string, key: string, perSecond: number, burst: number): void {
    if (!this.enabled) return;
    const id = `${action}\u0000${key}`;
    const t = this.now();
    const b = this.buckets.get(id) ?? { tokens: burst, updated: t };
    b.tokens = Math.min(burst, b.tokens + ((t - b.updated) / 1000) * perSecond);
    b.updated = t;
    if (b.tokens < 1) {
      this.buckets.set(id, b);
      throw limitExceeded(((1 - b.tokens) / perSecond) * 1000);
    }
    b.tokens -= 1;
    this.buckets.set(id, b);
    if (this.buckets.size > 100_000) this.sweep(t);
  }

  private sweep(t: number): void {
    for (const [k, b] of this.buckets) if (t - b.updated > 3_600_000) this.buckets.delete(k);
  }
}
