// Transaction ids of sends (client-server API "Transaction identifiers": the same txnId from the
// same device is one event), remembered for `retention` (24 hours by default, as Synapse does;
// older rows are pruned).
//
// Why in memory: every send had to ask the database whether its txnId was used before (a round
// trip on PostgreSQL, where a sequential sender's send was two: the lookup, then the commit; on
// this machine each round trip costs both processes a socket write, ~60 µs of a writev). This
// server is the only writer of event_txns, so a device's recent txnIds are read once, at its
// first send after start, and kept up to date by the sends it commits: a send then asks nothing.
// Devices are kept most recently used first, up to `maxDevices`; a device dropped is read again.
//
// No send of a txnId is lost between a lookup and a commit: a queued send is `pending` until its
// commit, and a commit enters the device's current list synchronously, in the same callback that
// ends its pending state; a device's list being read meanwhile merges its rows under those.
export interface TxnRef {
  userId: string;
  deviceId: string;
  txnId: string;
}

/** The stored txnIds (storage/events.ts). */
export interface TxnStore {
  /** The device's txnIds created at or after `since` (ms since the epoch). */
  txnsOfDevice(userId: string, deviceId: string, since: number): Promise<Array<{ txn_id: string; event_id: string }>>;
  /** Deletes the txnIds created before `before`. */
  pruneTxns(before: number): Promise<unknown>;
}

interface DeviceTxns {
  ids: Map<string, string>;
  ready: Promise<void>;
}

/** A send's txnId, asked before the room's lock. */
export interface Asked {
  key: string;
  ref: TxnRef;
  device: string;
}

export interface TxnIdsOptions {
  retentionMs: number;
  maxDevices?: number;
}

export class TxnIds<P extends { eventId: string }> {
  /** Sends queued and not yet committed: a retry waits for the first. */
  private pending = new Map<string, Promise<P>>();
  /** Most recently used last. */
  private devices = new Map<string, DeviceTxns>();
  private readonly maxDevices: number;

  constructor(
    private readonly store: TxnStore,
    private readonly opts: TxnIdsOptions,
    /** Wall clock, ms since the epoch (the stored created_ts). */
    private readonly now: () => number,
  ) {
    this.maxDevices = opts.maxDevices ?? 20_000;
  }

  /** Starts reading the device's txnIds if they are not known yet. */
  ask(ref: TxnRef): Asked {
    const device = `${ref.userId}\u0000${ref.deviceId}`;
    this.deviceTxns(device, ref);
    return { key: `${device}\u0000${ref.txnId}`, ref, device };
  }

  /** Under the room's lock: the first send of this txnId while it is still queued. */
  known(asked: Asked): Promise<P> | undefined {
    return this.pending.get(asked.key);
  }

  /** Under the room's lock, before anything is stored: the first event's id when the txnId was used. */
  async seen(asked: Asked): Promise<string | undefined> {
    const d = this.deviceTxns(asked.device, asked.ref);
    await d.ready;
    return d.ids.get(asked.ref.txnId);
  }

  /** Under the room's lock: the send is queued for commit (or committed: a resolved promise). */
  queued(asked: Asked, committed: Promise<P>): void {
    this.pending.set(asked.key, committed);
    committed.then(
      (p) => {
        if (this.pending.get(asked.key) === committed) this.pending.delete(asked.key);
        // The device's current list (it may have been dropped and read again since the ask).
        this.devices.get(asked.device)?.ids.set(asked.ref.txnId, p.eventId);
      },
      () => {
        // Not stored: a retry may send it again.
        if (this.pending.get(asked.key) === committed) this.pending.delete(asked.key);
      },
    );
  }

  /** Forgets txnIds past the retention, here and in the database. */
  async prune(): Promise<void> {
    // Lists read before now hold older ids too; dropping them all is simplest (read again on use).
    this.devices.clear();
    await this.store.pruneTxns(this.now() - this.opts.retentionMs);
  }

  /** Drops every device's list (rows were deleted outside the send path: a room purge). */
  forgetAll(): void {
    this.devices.clear();
  }

  private deviceTxns(device: string, ref: TxnRef): DeviceTxns {
    let d = this.devices.get(device);
    if (d) {
      // Most recently used last.
      this.devices.delete(device);
      this.devices.set(device, d);
      return d;
    }
    const ids = new Map<string, string>();
    const ready = this.store.txnsOfDevice(ref.userId, ref.deviceId, this.now() - this.opts.retentionMs).then((rows) => {
      // Commits that came in while this was read are newer: they stay.
      for (const r of rows) if (!ids.has(r.txn_id)) ids.set(r.txn_id, r.event_id);
    });
    d = { ids, ready };
    // A failed read is not kept: the device is read again at its next send.
    ready.catch(() => {
      if (this.devices.get(device) === d) this.devices.delete(device);
    });
    this.devices.set(device, d);
    if (this.devices.size > this.maxDevices) this.devices.delete(this.devices.keys().next().value!);
    return d;
  }
}
