// Stream positions for room events. Positions are allocated in memory (one process owns the
// writer) and may commit out of order across rooms; readers only ever see up to current(), the
// highest position below which every allocated position is persisted or abandoned, so a sync
// token never skips an event that commits late. With several processes this becomes a database
// sequence plus a shared "persisted up to" marker (DESIGN.md "More than one process").
//
// Positions are never handed out twice, even across a restart: a failed write abandons its
// position (nothing in the database remembers it), and a purged room takes its events, possibly
// the newest, with it; either could let the next process start below a position some client
// already holds in a token, and that client would then miss the event that reuses it. So the
// generator reserves positions in blocks persisted in `streams` before it exposes them: it starts
// above the persisted reservation, and current() never goes past it. Reserving ahead (half a block
// of headroom) keeps the one write per block off every send's path.
import type { Db } from "../storage/database.js";
import { streamsRepo } from "../storage/streams.js";

/** Persists "positions up to here may have been handed out". */
export type Reserve = (upTo: number) => Promise<void>;

export class StreamIdGenerator {
  private last: number;
  private inflight = new Set<number>();
  private safe: number;
  /** Highest position persisted as reserved (Infinity when there is no reservation to honour). */
  private reserved = Infinity;
  private reserving = false;

  private readonly reserve?: Reserve;
  private readonly block: number;

  /** `reservation`: positions up to `upTo` are already persisted as reserved; more go `block` at a time. */
  constructor(start: number, reservation?: { reserve: Reserve; upTo: number; block: number }) {
    this.last = start;
    this.safe = start;
    this.reserve = reservation?.reserve;
    this.reserved = reservation?.upTo ?? Infinity;
    this.block = reservation?.block ?? 1000;
  }

  /**
   * A generator whose positions survive restarts: starts above both the table's highest position
   * and the reservation persisted under `name`, and reserves its first block before returning.
   */
  static async persisted(db: Db, name: string, maxInTable: number, block = 1000): Promise<StreamIdGenerator> {
    const repo = streamsRepo(db);
    const start = Math.max(maxInTable, await repo.current(name));
    await repo.raiseTo(name, start + block);
    return new StreamIdGenerator(start, { reserve: (upTo) => repo.raiseTo(name, upTo), upTo: start + block, block });
  }

  allocate(): number {
    const id = ++this.last;
    this.inflight.add(id);
    if (this.reserve && !this.reserving && id > this.reserved - this.block / 2) this.extend();
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
    return Math.min(this.safe, this.reserved);
  }

  /** Persists the next block in the background; positions beyond the old one stay hidden meanwhile. */
  private extend(): void {
    this.reserving = true;
    const target = Math.max(this.reserved, this.last) + this.block;
    this.reserve!(target)
      .then(() => {
        this.reserved = Math.max(this.reserved, target);
      })
      // A failed reservation is tried again by the next allocation; events cannot be written
      // either while the database refuses writes.
      .catch(() => undefined)
      .finally(() => {
        this.reserving = false;
      });
  }
}
