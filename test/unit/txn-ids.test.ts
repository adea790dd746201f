// Transaction ids asked of the database before the room's lock (src/rooms/txn-ids.ts): a send of
// the same txnId committed after the lookup was asked is still found, for GRACE_MS; a lookup older
// than that is asked again; a send that failed may be sent again; on PostgreSQL lookups of sends
// arriving together are one query.
import assert from "node:assert/strict";
import { test } from "node:test";
import { TxnIds, type TxnRef } from "../../src/rooms/txn-ids.js";

function fakeEvents(stored: Map<string, string>) {
  const calls = { one: 0, many: 0 };
  const key = (u: string, d: string, t: string) => `${u}|${d}|${t}`;
  return {
    calls,
    repo: {
      getTxn: async (u: string, d: string, t: string) => {
        calls.one++;
        const e = stored.get(key(u, d, t));
        return e ? { event_id: e } : undefined;
      },
      getTxns: async (refs: TxnRef[]) => {
        calls.many++;
        return refs.flatMap((r) => {
          const e = stored.get(key(r.userId, r.deviceId, r.txnId));
          return e ? [{ user_id: r.userId, device_id: r.deviceId, txn_id: r.txnId, event_id: e }] : [];
        });
      },
    },
    store: (r: TxnRef, eventId: string) => stored.set(key(r.userId, r.deviceId, r.txnId), eventId),
  };
}

const ref: TxnRef = { userId: "@a:x", deviceId: "D", txnId: "t1" };

test("a send committed after the lookup was asked is still known to a retry", async () => {
  let now = 0;
  const db = fakeEvents(new Map());
  const ids = new TxnIds<string>(db.repo, "sqlite", () => now);
  const first = ids.ask(ref);
  const retry = ids.ask(ref); // asked while the first is not stored yet
  assert.equal(await first.seen, undefined);
  assert.equal(await retry.seen, undefined);
  assert.equal(ids.known(first), undefined);
  const committed = Promise.resolve("$first");
  ids.queued(first, committed);
  await committed;
  db.store(ref, "$first");
  now = 4_000;
  // The retry's lookup said "new", but the first committed since: it is answered from here.
  assert.equal(await ids.known(retry), "$first");
});

test("a lookup older than the grace period is asked again", async () => {
  let now = 0;
  const db = fakeEvents(new Map());
  const ids = new TxnIds<string>(db.repo, "sqlite", () => now);
  const first = ids.ask(ref);
  const late = ids.ask(ref);
  assert.equal(await late.seen, undefined);
  const committed = Promise.resolve("$first");
  ids.queued(first, committed);
  await committed;
  db.store(ref, "$first");
  now = 6_000; // the first left the recent list
  assert.equal(ids.known(late), undefined);
  assert.equal(await late.seen, "$first");
  assert.equal(db.calls.one, 3);
});

test("a send that failed to commit is forgotten: the txnId may be sent again", async () => {
  const db = fakeEvents(new Map());
  const ids = new TxnIds<string>(db.repo, "sqlite", () => 0);
  const first = ids.ask(ref);
  const failed = Promise.reject(new Error("storage"));
  failed.catch(() => undefined);
  ids.queued(first, failed);
  assert.equal(ids.known(ids.ask(ref)), failed, "while queued, a retry waits for it");
  await failed.catch(() => undefined);
  await new Promise((r) => setImmediate(r));
  assert.equal(ids.known(ids.ask(ref)), undefined);
});

test("on PostgreSQL, sends arriving together are looked up in one query, each with its own answer", async () => {
  const db = fakeEvents(new Map([["@a:x|D|old", "$old"]]));
  const ids = new TxnIds<string>(db.repo, "postgres", () => 0);
  const asks = ["old", "n1", "n2", "n3"].map((txnId) => ids.ask({ ...ref, txnId }));
  assert.deepEqual(await Promise.all(asks.map((a) => a.seen)), ["$old", undefined, undefined, undefined]);
  // The first ask is read at once, the others together behind it.
  assert.equal(db.calls.many, 2);
  assert.equal(db.calls.one, 0);
});
