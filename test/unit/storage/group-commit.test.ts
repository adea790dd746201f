// Group commit: concurrent units share one commit, yet each succeeds or fails on its own, in the
// order queued. Every mode of the engine under test (SQLite, or PostgreSQL when
// REMPART_TEST_DATABASE_URL is set; "statements" is PostgreSQL's).
import { test } from "node:test";
import assert from "node:assert/strict";
import { openStorage, type Storage } from "../../../src/storage/database.js";
import { GroupCommit, type GroupCommitMode } from "../../../src/storage/group-commit.js";
import { freshPostgres } from "../../helpers/postgres.js";

const pgUrl = process.env.REMPART_TEST_DATABASE_URL;
const modes: GroupCommitMode[] = pgUrl ? ["transaction", "statements"] : ["transaction"];

const row = (n: number) => ({ user_id: "@u:x", filter_id: n, filter_json: "{}" });

async function withStorage(f: (storage: Storage) => Promise<void>): Promise<void> {
  const pgDb = pgUrl ? await freshPostgres(pgUrl) : undefined;
  const storage = await openStorage(pgDb?.url ?? ":memory:");
  try {
    await f(storage);
  } finally {
    await storage.close();
    await pgDb?.drop();
  }
}

const filterIds = async (storage: Storage) => (await storage.db.selectFrom("filters").select("filter_id").orderBy("filter_id").execute()).map((r) => Number(r.filter_id));

for (const mode of modes) {
  test(`${mode}: a failing unit rolls back alone; the others are committed`, () =>
    withStorage(async (storage) => {
      const gc = new GroupCommit(storage.db, mode);
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
      assert.deepEqual(await filterIds(storage), [1, 2, 4, 5, 101, 102, 104, 105]);
      if (mode === "transaction") {
        // The failing unit ran once; the others at most twice (a rolled-back batch, then alone).
        assert.equal(runs.get(3), 1);
        for (const n of [1, 2, 4, 5]) assert.ok(runs.get(n)! >= 1 && runs.get(n)! <= 2, `unit ${n} ran ${runs.get(n)} times`);
      }
      // A constraint violation is a failure of its unit too, and later units still run.
      const again = await Promise.allSettled([gc.run(async (tx) => void (await tx.insertInto("filters").values(row(1)).execute())), gc.run(async (tx) => void (await tx.insertInto("filters").values(row(9)).execute()))]);
      assert.deepEqual(again.map((r) => r.status), ["rejected", "fulfilled"]);
      assert.deepEqual(await filterIds(storage), [1, 2, 4, 5, 9, 101, 102, 104, 105]);
    }));

  test(`${mode}: a failed unit is reported (onFail) before the next unit runs`, () =>
    withStorage(async (storage) => {
      const gc = new GroupCommit(storage.db, mode);
      let firstFailed = false;
      const seen: boolean[] = [];
      const results = await Promise.allSettled([
        // Fails at commit time (duplicate key within the unit), not in its work.
        gc.run(
          async (tx) => {
            await tx.insertInto("filters").values(row(1)).execute();
            await tx.insertInto("filters").values(row(1)).execute();
          },
          () => (firstFailed = true),
        ),
        gc.run(async (tx) => {
          seen.push(firstFailed);
          if (firstFailed) throw new Error("queued behind a failed unit");
          await tx.insertInto("filters").values(row(2)).execute();
        }),
      ]);
      assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected"]);
      // The second unit may run more than once (recorded, then alone): its last run saw the failure.
      assert.equal(seen.at(-1), true);
      assert.deepEqual(await filterIds(storage), []);
    }));

  test(`${mode}: units run in order; one that updates sees the rows of those before it`, () =>
    withStorage(async (storage) => {
      const gc = new GroupCommit(storage.db, mode);
      await Promise.all([
        gc.run(async (tx) => void (await tx.insertInto("filters").values(row(1)).execute())),
        // An UPDATE cannot be deferred ("statements"): it runs in a transaction of its own, after unit 1.
        gc.run(async (tx) => void (await tx.updateTable("filters").set({ filter_json: '{"updated":true}' }).where("filter_id", "=", 1).execute())),
        gc.run(async (tx) => void (await tx.insertInto("filters").values(row(2)).execute())),
        // Two upserts of one row cannot share a statement: they are sent one by one, in order.
        gc.run(async (tx) => void (await tx.insertInto("push_implicit_reads").values({ user_id: "@u:x", room_id: "!r:x", stream_ordering: 5 }).onConflict((oc) => oc.columns(["user_id", "room_id"]).doUpdateSet({ stream_ordering: 5 })).execute())),
        gc.run(async (tx) => void (await tx.insertInto("push_implicit_reads").values({ user_id: "@u:x", room_id: "!r:x", stream_ordering: 7 }).onConflict((oc) => oc.columns(["user_id", "room_id"]).doUpdateSet({ stream_ordering: 7 })).execute())),
        // Upserts copying the proposed row (as push_implicit_reads' are) keep the later one.
        ...[3, 9, 4].map((pos) =>
          gc.run(async (tx) => void (await tx.insertInto("push_implicit_reads").values({ user_id: "@u:x", room_id: "!copy:x", stream_ordering: pos }).onConflict((oc) => oc.columns(["user_id", "room_id"]).doUpdateSet((eb) => ({ stream_ordering: eb.ref("excluded.stream_ordering") }))).execute())),
        ),
      ]);
      assert.deepEqual(await filterIds(storage), [1, 2]);
      const copied = await storage.db.selectFrom("push_implicit_reads").select("stream_ordering").where("room_id", "=", "!copy:x").executeTakeFirstOrThrow();
      assert.equal(Number(copied.stream_ordering), 4);
      const f1 = await storage.db.selectFrom("filters").select("filter_json").where("filter_id", "=", 1).executeTakeFirstOrThrow();
      assert.equal(f1.filter_json, '{"updated":true}');
      const read = await storage.db.selectFrom("push_implicit_reads").select("stream_ordering").where("room_id", "=", "!r:x").executeTakeFirstOrThrow();
      assert.equal(Number(read.stream_ordering), 7);
    }));
}
