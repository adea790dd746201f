// The SQLite connection queue: one holder at a time, handed over in arrival order, and queries and
// transactions interleaved from many callers all complete.
import { test } from "node:test";
import assert from "node:assert/strict";
import { FifoLock } from "../../../src/storage/sqlite-queue.js";
import { openStorage } from "../../../src/storage/database.js";

test("FifoLock: one holder at a time, waiters served in arrival order", async () => {
  const lock = new FifoLock();
  const order: number[] = [];
  let holders = 0;
  await Promise.all(
    [0, 1, 2, 3, 4].map(async (i) => {
      await lock.lock();
      holders++;
      assert.equal(holders, 1);
      order.push(i);
      await new Promise((r) => setImmediate(r));
      holders--;
      lock.unlock();
    }),
  );
  assert.deepEqual(order, [0, 1, 2, 3, 4]);
});

test("queued SQLite driver: 200 concurrent queries and transactions all complete", async () => {
  const storage = await openStorage(":memory:");
  try {
    const db = storage.db;
    await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        i % 4 === 0
          ? db.transaction().execute(async (tx) => {
              await tx.insertInto("filters").values({ user_id: "@u:x", filter_id: i, filter_json: "{}" }).execute();
              await tx.selectFrom("filters").select("filter_id").where("user_id", "=", "@u:x").execute();
            })
          : db.selectFrom("filters").select("filter_id").execute(),
      ),
    );
    const rows = await db.selectFrom("filters").select("filter_id").execute();
    assert.equal(rows.length, 50);
  } finally {
    await storage.close();
  }
});
