// The audit trail's hash chain and its batched, strictly ordered writer (docs/read-gate.md).
//
// Every record carries SHA-256(previous hash ‖ seq ‖ ts ‖ kind ‖ data), data being canonical JSON.
// Sequence numbers and hashes are assigned in memory, synchronously, in the order append() is
// called: the chain order is fixed before any I/O, and batches are written in one transaction each
// so that reads never wait on the database. A crash loses at most the last unflushed batch
// (flush_interval_ms of records); the chain stays valid because the next start continues from the
// last stored record.
import { hash } from "node:crypto";
import type { Logger } from "pino";
import type { Storage } from "../../storage/database.js";
import { auditRepo, type AuditRow } from "../../storage/audit.js";
import type { SigningKey } from "../../matrix/signing.js";
import { signCheckpoint } from "./checkpoints.js";

export type AuditKind = "session" | "read" | "auth" | "account" | "admin" | "containment";

/** The canonical serialisation of a record's data: JSON with every object's keys sorted (code
 * unit order), no insignificant whitespace. Records hold only strings, finite numbers, arrays and
 * objects, so JSON.stringify's escaping is deterministic; verify never re-serialises, it hashes the
 * stored text. */
export function canonicalRecord(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  // Loops rather than map/filter/join: one record per read, thousands per second on a busy server.
  if (Array.isArray(v)) {
    let out = "[";
    for (let i = 0; i < v.length; i++) out += (i === 0 ? "" : ",") + canonicalRecord(v[i]);
    return out + "]";
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  let out = "{";
  for (const k of keys) {
    const x = o[k];
    if (x === undefined) continue;
    out += (out.length === 1 ? "" : ",") + JSON.stringify(k) + ":" + canonicalRecord(x);
  }
  return out + "}";
}

/** The hash of one record, chained to the previous record's hash ("" before the first record). */
export function recordHash(prevHash: string, seq: number, ts: number, kind: string, data: string): string {
  // crypto.hash: the one-shot form of createHash().update().digest(), the same digest without a Hash
  // object per record (a quarter of the cost for records this small).
  return hash("sha256", `${prevHash}\n${seq}\n${ts}\n${kind}\n${data}`, "base64url");
}

export interface AuditTrailOptions {
  flushIntervalMs: number;
  flushBatch: number;
  checkpointIntervalMs: number;
  serverName: string;
}

export class AuditTrail {
  private readonly repo;
  private pending: AuditRow[] = [];
  private seq = 0;
  private hash = "";
  private flushedSeq = 0;
  private flushedHash = "";
  private lastCheckpointTs = 0;
  private lastCheckpointSeq = 0;
  private timer: NodeJS.Timeout | undefined;
  private queue: Promise<void> = Promise.resolve();
  private failures = 0;
  private closed = false;

  private constructor(
    storage: Storage,
    private readonly key: SigningKey,
    private readonly now: () => number,
    private readonly opts: AuditTrailOptions,
    private readonly log: Logger,
  ) {
    this.repo = auditRepo(storage.db, storage.dialect);
  }

  static async open(storage: Storage, key: SigningKey, now: () => number, opts: AuditTrailOptions, log: Logger): Promise<AuditTrail> {
    const t = new AuditTrail(storage, key, now, opts, log);
    const last = await t.repo.last();
    const cps = await t.repo.checkpoints();
    const lastCp = cps[cps.length - 1];
    if (last) {
      t.seq = t.flushedSeq = last.seq;
      t.hash = t.flushedHash = last.hash;
    } else if (lastCp) {
      // Everything was pruned up to the anchor checkpoint: continue the chain from it.
      t.seq = t.flushedSeq = lastCp.seq;
      t.hash = t.flushedHash = lastCp.hash;
    }
    if (lastCp) {
      t.lastCheckpointTs = lastCp.ts;
      t.lastCheckpointSeq = lastCp.seq;
    }
    return t;
  }

  /** Appends one record; returns its sequence number. Never blocks on I/O, never drops a record. */
  append(kind: AuditKind, data: Record<string, unknown>, ts = this.now()): number {
    if (this.closed) throw new Error("audit trail is closed");
    const json = canonicalRecord(data);
    const seq = ++this.seq;
    this.hash = recordHash(this.hash, seq, ts, kind, json);
    this.pending.push({ seq, ts, kind, data: json, hash: this.hash });
    if (this.pending.length >= this.opts.flushBatch) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.opts.flushIntervalMs);
      this.timer.unref();
    }
    return seq;
  }

  get lastSeq(): number {
    return this.seq;
  }

  /** Writes everything appended so far (and a checkpoint when one is due). Flushes and checkpoints
   * run one at a time, in order: batches reach the database in chain order, and a caller that
   * awaits flush() sees every record appended before it, and any checkpoint that was due, stored. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    return this.serial(() => this.flushNow());
  }

  /** A signed checkpoint of the last stored record, if checkpoint_interval_ms has passed (or `force`). */
  maybeCheckpoint(force: boolean): Promise<void> {
    return this.serial(() => this.checkpointNow(force));
  }

  private serial(job: () => Promise<void>): Promise<void> {
    const p = this.queue.then(job);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async flushNow(): Promise<void> {
    if (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.repo.append(batch);
        const last = batch[batch.length - 1]!;
        this.flushedSeq = last.seq;
        this.flushedHash = last.hash;
        this.failures = 0;
      } catch (e) {
        // Keep the batch, in front of what came since, and try again later: never drop a record.
        this.pending = batch.concat(this.pending);
        this.failures++;
        this.log.error({ err: { message: (e as Error).message }, records: batch.length }, "audit trail write failed; will retry");
        if (!this.closed && !this.timer) {
          this.timer = setTimeout(() => void this.flush(), Math.min(1000, this.opts.flushIntervalMs * 2 ** this.failures));
          this.timer.unref();
        }
        return;
      }
    }
    await this.checkpointNow(false);
  }

  private async checkpointNow(force: boolean): Promise<void> {
    if (this.flushedSeq === 0 || this.flushedSeq === this.lastCheckpointSeq) return;
    const ts = this.now();
    if (!force && ts - this.lastCheckpointTs < this.opts.checkpointIntervalMs) return;
    const seq = this.flushedSeq;
    const hash = this.flushedHash;
    await this.repo.insertCheckpoint(signCheckpoint(this.key, this.opts.serverName, { seq, ts, hash }));
    this.lastCheckpointTs = ts;
    this.lastCheckpointSeq = seq;
  }

  /** Flushes, writes a final checkpoint, and refuses further records. */
  async close(): Promise<void> {
    await this.flush();
    await this.maybeCheckpoint(true);
    this.closed = true;
  }
}
