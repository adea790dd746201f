// Sends' transaction ids kept in memory per device (src/rooms/txn-ids.ts): a device's recent
// txnIds are read once, then kept up to date by the sends committed; a retry of a queued send
// waits for it; a send that failed may be sent again; a commit made while the device's list is
// being read, or after the device was dropped, is not lost; retention prunes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { TxnIds, type TxnRef } from "../../src/rooms/txn-ids.js";

type P = { eventId: string };

function fakeStore(rows: Array<{ user_id: string; device_id: string; txn_id: string; event_id: string; created_ts: number }>) {
  const calls = { reads: 0, prunes: [] as number[] };
  let gate: Promise<void> = Promise.resolve();
  return {
    calls,
    rows,
    /** Holds the next reads until `release` is called. */
    hold() {
      let release!: () => void;
      gate = new Promise((r) => (release = r));
      return () => release();
    },
    store: {
      txnsOfDevice: async (u: string, d: string, since: number) => {
        calls.reads++;
        const snapshot = rows.filter((r) => r.user_id === u && r.device_id === d && r.created_ts >= since).map((r) => ({ txn_id: r.txn_id, event_id: r.event_id }));
        await gate;
        return snapshot;
      },
      pruneTxns: async (before: number) => {
        calls.prunes.push(before);
      },
    },
  };
}

const ref = (txnId: string, deviceId = "D"): TxnRef => ({ userId: "@a:x", deviceId, txnId });
const HOUR = 3_600_000;

test("a device's txnIds are read once; a used one answers its first event, a new one nothing", async () => {
  const db = fakeStore([{ user_id: "@a:x", device_id: "D", txn_id: "old", event_id: "$old", created_ts: 1000 }]);
  const ids = new TxnIds<P>(db.store, { retentionMs: 24 * HOUR }, () => 2000);
  assert.equal(await ids.seen(ids.ask(ref("old"))), "$old");
  assert.equal(await ids.seen(ids.ask(ref("new"))), undefined);
  assert.equal(db.calls.reads, 1);
  // Another device of the same user has its own list.
  assert.equal(await ids.seen(ids.ask(ref("old", "E"))), undefined);
  assert.equal(db.calls.reads, 2);
});

test("a queued send is known to a retry; once committed, the device's list has it", async () => {
  const db = fakeStore([]);
  const ids = new TxnIds<P>(db.store, { retentionMs: HOUR }, () => 0);
  const first = ids.ask(ref("t1"));
  assert.equal(await ids.seen(first), undefined);
  let commit!: (p: P) => void;
  const committed = new Promise<P>((r) => (commit = r));
  ids.queued(first, committed);
  const retry = ids.ask(ref("t1"));
  assert.equal(ids.known(retry), committed);
  commit({ eventId: "$t1" });
  await committed;
  assert.equal(ids.known(ids.ask(ref("t1"))), undefined);
  assert.equal(await ids.seen(ids.ask(ref("t1"))), "$t1");
  assert.equal(db.calls.reads, 1, "the database is not asked again");
});

test("a send that failed to commit is forgotten: the txnId may be sent again", async () => {
  const db = fakeStore([]);
  const ids = new TxnIds<P>(db.store, { retentionMs: HOUR }, () => 0);
  const first = ids.ask(ref("t"));
  const failed = Promise.reject(new Error("storage"));
  failed.catch(() => undefined);
  ids.queued(first, failed);
  await failed.catch(() => undefined);
  await new Promise((r) => setImmediate(r));
  const again = ids.ask(ref("t"));
  assert.equal(ids.known(again), undefined);
  assert.equal(await ids.seen(again), undefined);
});

test("a commit made while the device's list is read, or after the device was dropped, is kept", async () => {
  const db = fakeStore([]);
  const ids = new TxnIds<P>(db.store, { retentionMs: HOUR, maxDevices: 1 }, () => 0);
  const release = db.hold();
  const a = ids.ask(ref("t"));
  ids.queued(a, Promise.resolve({ eventId: "$t" })); // committed before the read (which saw nothing) answers
  await new Promise((r) => setImmediate(r));
  release();
  assert.equal(await ids.seen(ids.ask(ref("t"))), "$t");
  // Device D is dropped (another device pushes it out) while a send of it is queued; its commit
  // enters D's new list, read again meanwhile.
  const b = ids.ask(ref("u"));
  let commit!: (p: P) => void;
  const committed = new Promise<P>((r) => (commit = r));
  ids.queued(b, committed);
  ids.ask(ref("x", "OTHER"));
  const hold = db.hold();
  const retry = ids.ask(ref("u")); // D read again; the stored rows do not have "u" yet
  commit({ eventId: "$u" });
  await committed;
  hold();
  assert.equal(await ids.seen(retry), "$u");
});

test("pruning forgets txnIds past the retention and deletes them from the database", async () => {
  let now = 10 * HOUR;
  const db = fakeStore([{ user_id: "@a:x", device_id: "D", txn_id: "old", event_id: "$old", created_ts: 0 }]);
  const ids = new TxnIds<P>(db.store, { retentionMs: 24 * HOUR }, () => now);
  assert.equal(await ids.seen(ids.ask(ref("old"))), "$old");
  now = 25 * HOUR;
  await ids.prune();
  assert.deepEqual(db.calls.prunes, [HOUR]);
  // Read again with the new bound: the old row is past the retention.
  assert.equal(await ids.seen(ids.ask(ref("old"))), undefined);
});
