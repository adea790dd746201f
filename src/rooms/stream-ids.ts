// Stream positions for room events. Positions are allocated in memory (one process owns the
// writer) and may commit out of order across rooms; readers only ever see up to current(), the
// highest position below which every allocated position is persisted or abandoned, so a sync
// token never skips an event that commits late. With several processes this becomes a database
// sequence plus a shared "persisted up to" marker (DESIGN.md "More than one process").
export class StreamIdGenerator {
  private last: number;
  private inflight = new Set<number>();
  private safe: number;

  constructor(start: number) {
    this.last = start;
    this.safe = start;
  }

  allocate(): number {
    const id = ++this.last;
    this.inflight.add(id);
    return id;
  }

  /** Marks a position persisted (or abandoned after a failed write). */
  finish(id: number): void {
    this.inflight.delete(id);
    let min = this.last + 1;
    for (const i of this.inflight) if (i < min) min = i;
    this.safe = min - 1;
  }

  current(): number {
    return this.safe;
  }
}
