// Transaction ids of sends (client-server API "Transaction identifiers": the same txnId from the
// same device is one event). The database says which were used before; sends still in the commit
// queue, and those committed a moment ago, are known here.
//
// The database lookup is asked before the room's lock is taken, so that its answer (a round trip on
// PostgreSQL) is awaited by this send alone and not by every send queued behind it in the room:
// under the lock it cost one round trip per message of a busy room (64 clients in one room on
// PostgreSQL: ~4.7 messages per commit). A lookup asked before the lock may miss an event of the
// same txnId committed after it was asked: each committed send stays known here for GRACE_MS,
// and a lookup older than that when the lock is taken is asked again.
// On PostgreSQL the lookups of sends arriving together are one query (storage/read-batch.ts).
import { performance } from "node:perf_hooks";
import type { Dialect } from "../storage/database.js";
import { ReadBatch } from "../storage/read-batch.js";

const GRACE_MS = 5_000;

export interface TxnRef {
  userId: string;
  deviceId: string;
  txnId: string;
}

/** The stored txnIds (storage/events.ts). */
export interface TxnStore {
  getTxn(userId: string, deviceId: string, txnId: string): Promise<{ event_id: string } | undefined>;
  getTxns(refs: TxnRef[]): Promise<Array<{ user_id: string; device_id: string; txn_id: string; event_id: string }>>;
}

/** A lookup under way. */
export interface Asked {
  key: string;
  ref: TxnRef;
  at: number;
  /** The first event's id, or undefined when the txnId is new. */
  seen: Promise<string | undefined>;
}

export class TxnIds<P> {
  /** Sends queued and not yet committed: a retry waits for the first. */
  private pending = new Map<string, Promise<P>>();
  /** Sends committed less than GRACE_MS ago, oldest first. */
  private recent = new Map<string, { committed: Promise<P>; at: number }>();
  private readonly batch: ReadBatch<TxnRef, string | undefined> | undefined;

  constructor(
    private readonly events: TxnStore,
    dialect: Dialect,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (dialect === "postgres") {
      this.batch = new ReadBatch(async (_group, refs) => {
        const found = new Map((await events.getTxns(refs)).map((r) => [keyOf(r.user_id, r.device_id, r.txn_id), r.event_id]));
        return refs.map((r) => found.get(keyOf(r.userId, r.deviceId, r.txnId)));
      });
    }
  }

  /** Starts the lookup (before the room's lock). */
  ask(ref: TxnRef): Asked {
    const asked: Asked = { key: keyOf(ref.userId, ref.deviceId, ref.txnId), ref, at: this.now(), seen: this.lookup(ref) };
    asked.seen.catch(() => undefined);
    return asked;
  }

  /** Under the room's lock: the first send of this txnId when it is queued or was just committed. */
  known(asked: Asked): Promise<P> | undefined {
    const now = this.now();
    for (const [k, r] of this.recent) {
      if (now - r.at <= GRACE_MS) break;
      this.recent.delete(k);
    }
    const hit = this.pending.get(asked.key) ?? this.recent.get(asked.key)?.committed;
    if (!hit && now - asked.at > GRACE_MS) {
      // Asked too long ago for `recent` to cover what committed since: ask again.
      asked.seen = this.lookup(asked.ref);
      asked.seen.catch(() => undefined);
    }
    return hit;
  }

  /** Under the room's lock: the send is queued for commit. */
  queued(asked: Asked, committed: Promise<P>): void {
    this.pending.set(asked.key, committed);
    const settle = (ok: boolean) => {
      if (this.pending.get(asked.key) !== committed) return;
      this.pending.delete(asked.key);
      // Not stored: a retry may send it again.
      if (ok) this.recent.set(asked.key, { committed, at: this.now() });
    };
    committed.then(
      () => settle(true),
      () => settle(false),
    );
  }

  private lookup(ref: TxnRef): Promise<string | undefined> {
    if (this.batch) return this.batch.get("", ref);
    return this.events.getTxn(ref.userId, ref.deviceId, ref.txnId).then((r) => r?.event_id);
  }
}

const keyOf = (userId: string, deviceId: string, txnId: string) => `${userId}\u0000${deviceId}\u0000${txnId}`;
