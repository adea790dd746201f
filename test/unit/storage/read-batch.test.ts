// ReadBatch: a lone read is made at once, reads asked for while one runs are made together in one
// call per group, each caller gets its own answer, a failure reaches only the callers of the failed call.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ReadBatch } from "../../../src/storage/read-batch.js";

test("a lone request is read at once; requests made meanwhile share one load per group", async () => {
  const calls: Array<[string, number[]]> = [];
  const batch = new ReadBatch<number, string>(async (group, items) => {
    calls.push([group, items]);
    return items.map((i) => `${group}:${i}`);
  });
  const got = await Promise.all([batch.get("a", 1), batch.get("b", 2), batch.get("a", 3), batch.get("b", 4)]);
  assert.deepEqual(got, ["a:1", "b:2", "a:3", "b:4"]);
  assert.deepEqual(calls, [["a", [1]], ["b", [2, 4]], ["a", [3]]]);
});

test("requests made while a load runs are served by the next one; maxItems splits a group", async () => {
  const calls: number[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const batch = new ReadBatch<number, number>(async (_g, items) => {
    calls.push(items);
    if (calls.length === 1) await gate;
    return items.map((i) => i * 10);
  }, 2);
  const first = batch.get("", 1);
  const later = [batch.get("", 2), batch.get("", 3), batch.get("", 4)];
  release();
  assert.deepEqual(await Promise.all([first, ...later]), [10, 20, 30, 40]);
  assert.deepEqual(calls, [[1], [2, 3], [4]]);
});

test("a failed load rejects only its own callers", async () => {
  const batch = new ReadBatch<number, number>(async (g, items) => {
    if (g === "bad") throw new Error("no");
    return items;
  });
  const [ok, bad] = await Promise.allSettled([batch.get("good", 1), batch.get("bad", 2)]);
  assert.deepEqual(ok, { status: "fulfilled", value: 1 });
  assert.equal(bad.status, "rejected");
});
