// Room event positions (src/rooms/stream-ids.ts): readers never see a position above the persisted
// reservation, so a restarted server, which starts above it, can never hand a position out twice.
import { test } from "node:test";
import assert from "node:assert/strict";
import { StreamIdGenerator } from "../../src/rooms/stream-ids.js";

test("current() stops at the reservation until the next block is persisted", async () => {
  const persisted: number[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const reserve = async (upTo: number) => {
    await gate;
    persisted.push(upTo);
  };
  const ids = new StreamIdGenerator(0, { reserve, upTo: 10, block: 10 });
  for (let i = 1; i <= 12; i++) ids.finish(ids.allocate());
  assert.equal(ids.current(), 10, "positions 11 and 12 stay hidden while their block is not persisted");
  release();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(persisted, [20]);
  assert.equal(ids.current(), 12);
});

test("a position still being written holds current() below it; an abandoned one does not", () => {
  const ids = new StreamIdGenerator(100);
  const a = ids.allocate();
  const b = ids.allocate();
  ids.finish(b);
  assert.equal(ids.current(), 100);
  ids.finish(a); // persisted or abandoned alike
  assert.equal(ids.current(), 102);
});
