// Reads asked for by many requests at about the same time, made with one query per group instead of
// one each. A message in a room with 1,000 parked long-polls wakes 1,000 syncs that each need the
// same small per-user reads (unread counts, one-time-key counts): building and compiling 1,000
// queries cost the server more than running them. A request made while nothing runs is read at
// once (a lone sync waits for nothing); requests made while a batch runs wait for it and are read
// together by the next one. The woken syncs move in step (one SQLite connection, served in order),
// so the first reaches a read alone and the others find it running. Each item still gets its own
// answer: `load` answers item by item, in order.

interface Ask<R> {
  resolve(r: R): void;
  reject(e: unknown): void;
}

export class ReadBatch<T, R> {
  private pending = new Map<string, { items: T[]; asks: Ask<R>[] }>();
  private running = false;

  /**
   * @param load answers for `items` (same length, same order), all of group `group`.
   * @param maxItems items per call of `load` (keeps queries under the bind-parameter limits).
   */
  constructor(
    private readonly load: (group: string, items: T[]) => Promise<R[]>,
    private readonly maxItems = 500,
  ) {}

  get(group: string, item: T): Promise<R> {
    let g = this.pending.get(group);
    if (!g) this.pending.set(group, (g = { items: [], asks: [] }));
    g.items.push(item);
    const p = new Promise<R>((resolve, reject) => g.asks.push({ resolve, reject }));
    if (!this.running) void this.run();
    return p;
  }

  private async run(): Promise<void> {
    this.running = true;
    const groups = [...this.pending];
    this.pending = new Map();
    try {
      for (const [group, g] of groups) {
        for (let i = 0; i < g.items.length; i += this.maxItems) {
          const asks = g.asks.slice(i, i + this.maxItems);
          try {
            const results = await this.load(group, g.items.slice(i, i + this.maxItems));
            asks.forEach((a, j) => a.resolve(results[j]!));
          } catch (e) {
            for (const a of asks) a.reject(e);
          }
        }
      }
    } finally {
      this.running = false;
      if (this.pending.size) void this.run();
    }
  }
}
