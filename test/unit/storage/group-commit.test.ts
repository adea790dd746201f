// Group commit: concurrent units share one transaction, yet each succeeds or fails on its own.
import { test } from "node:test";
import assert from "node:assert/strict";
import { openStorage } from "../../../src/storage/database.js";
import { GroupCommit } from "../../../src/storage/group-commit.js";

const row = (n: number) => ({ user_id: "@u:x", filter_id: n, filter_json: "{}" });

for (const batching of [true, false]) {
  test(`${batching ? "batched" : "unbatched"}: a failing unit rolls back alone; the others are committed`, async () => {
    const storage = await openStorage(":memory:");
    try {
      const gc = new GroupCommit(storage.db, batching);
      const runs = new Map<number, number>();
      const results = await Promise.allSettled(
        [1, 2, 3, 4, 5].map((n) =>
          gc.run(async (tx) => {
            runs.set(n, (runs.get(n) ?? 0) + 1);
            await tx.insertInto("filters").values(row(n)).execute();
            if (n === 3) throw new Error("unit 3 fails after writing");
            await tx.insertInto("filters").values(row(n + 100)).execute();
          }),
        ),
      );
      assert.deepEqual(results.map((r) => r.status), ["fulfilled", "fulfilled", "rejected", "fulfilled", "fulfilled"]);
      assert.match(String((results[2] as PromiseRejectedResult).reason), /unit 3 fails/);
      const ids = (await storage.db.selectFrom("filters").select("filter_id").orderBy("filter_id").execute()).map((r) => Number(r.filter_id));
      assert.deepEqual(ids, [1, 2, 4, 5, 101, 102, 104, 105]);
      // The failing unit ran once; the others at most twice (a rolled-back batch, then alone).
      assert.equal(runs.get(3), 1);
      for (const n of [1, 2, 4, 5]) assert.ok(runs.get(n)! >= 1 && runs.get(n)! <= 2, `unit ${n} ran ${runs.get(n)} times`);
      // A constraint violation is a failure of its unit too, and later units still run.
      const again = await Promise.allSettled([gc.run(async (tx) => void (await tx.insertInto("filters").values(row(1)).execute())), gc.run(async (tx) => void (await tx.insertInto("filters").values(row(9)).execute()))]);
      assert.deepEqual(again.map((r) => r.status), ["rejected", "fulfilled"]);
    } finally {
      await storage.close();
    }
  });
}
