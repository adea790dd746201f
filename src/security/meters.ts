// Sliding-window read meters per account, device and IP (docs/read-gate.md). Counts live in memory:
// 60 buckets per window, so a meter forgets smoothly rather than all at once, and distinct rooms
// are kept as room → last-read time. A restart forgets the meters (the trail keeps the facts).

export const METRICS = ["rooms_joined", "rooms_read", "history_events", "media_files", "media_bytes", "directory_queries", "member_lists"] as const;
export type Metric = (typeof METRICS)[number];
export type Increments = Partial<Record<Metric, number>>;

const BUCKETS = 60;

class Counter {
  private readonly buckets = new Float64Array(BUCKETS);
  private head = 0; // absolute bucket index of the newest bucket
  private sum = 0; // kept in step with the buckets: reading a meter is O(1)

  add(bucket: number, v: number): void {
    this.advance(bucket);
    this.buckets[bucket % BUCKETS]! += v;
    this.sum += v;
  }

  total(bucket: number): number {
    this.advance(bucket);
    return this.sum;
  }

  private advance(bucket: number): void {
    if (bucket <= this.head) return;
    const steps = Math.min(bucket - this.head, BUCKETS);
    for (let i = 1; i <= steps; i++) {
      const j = (this.head + i) % BUCKETS;
      this.sum -= this.buckets[j]!;
      this.buckets[j] = 0;
    }
    if (steps === BUCKETS) this.sum = 0; // a whole window passed: exact zero, no float residue
    this.head = bucket;
  }
}

class KeyMeters {
  readonly counters = new Map<Metric, Counter>();
  readonly rooms = new Map<string, number>();
  lastSeen = 0;
  roomsPruned = 0;
}

export class Meters {
  private readonly keys = new Map<string, KeyMeters>();
  private readonly bucketMs: number;
  private lastSweep = 0;

  constructor(private readonly windowMs: number) {
    this.bucketMs = Math.max(1, Math.floor(windowMs / BUCKETS));
  }

  /** Adds to every metric of `key`; `roomsRead` are distinct rooms (rooms_read counts each once per window). */
  add(key: string, now: number, inc: Increments, roomsRead: readonly string[] = []): void {
    const m = this.meters(key, now);
    const b = Math.floor(now / this.bucketMs);
    for (const metric of METRICS) {
      const v = inc[metric];
      if (v) this.counter(m, metric).add(b, v);
    }
    for (const r of roomsRead) m.rooms.set(r, now);
    if (m.rooms.size > 4096) this.pruneRooms(m, now);
  }

  /** add() with nothing to add (a /sync long-poll answer with only new events): the key stays
   * active, exactly as add() leaves it, without walking the metrics. */
  touch(key: string, now: number): void {
    const m = this.meters(key, now);
    if (m.rooms.size > 4096) this.pruneRooms(m, now);
  }

  /** The current value of every metric of `key` over the window. */
  values(key: string, now: number): Record<Metric, number> {
    // A literal, not built from METRICS: called several times per read request (containment).
    const out: Record<Metric, number> = { rooms_joined: 0, rooms_read: 0, history_events: 0, media_files: 0, media_bytes: 0, directory_queries: 0, member_lists: 0 };
    const m = this.keys.get(key);
    if (!m) return out;
    const b = Math.floor(now / this.bucketMs);
    for (const [metric, c] of m.counters) out[metric] = c.total(b);
    this.pruneRooms(m, now);
    out.rooms_read = m.rooms.size;
    return out;
  }

  /** Forgets a key (after a step-up, the re-authenticated session starts from zero). */
  reset(key: string): void {
    this.keys.delete(key);
  }

  private meters(key: string, now: number): KeyMeters {
    if (now - this.lastSweep > this.windowMs) this.sweep(now);
    let m = this.keys.get(key);
    if (!m) this.keys.set(key, (m = new KeyMeters()));
    m.lastSeen = now;
    return m;
  }

  private counter(m: KeyMeters, metric: Metric): Counter {
    let c = m.counters.get(metric);
    if (!c) m.counters.set(metric, (c = new Counter()));
    return c;
  }

  private pruneRooms(m: KeyMeters, now: number): void {
    // At most once per bucket: room entries expire with bucket granularity, like the counters.
    if (now - m.roomsPruned < this.bucketMs && m.rooms.size <= 4096) return;
    m.roomsPruned = now;
    const cutoff = now - this.windowMs;
    for (const [r, ts] of m.rooms) if (ts <= cutoff) m.rooms.delete(r);
  }

  /** Drops keys idle for a whole window, so memory follows active readers only. */
  private sweep(now: number): void {
    this.lastSweep = now;
    for (const [k, m] of this.keys) if (now - m.lastSeen > this.windowMs) this.keys.delete(k);
  }
}
