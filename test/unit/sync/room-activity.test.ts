// RoomActivity.roomsWithEventsIn: the server-wide log of recent events that lets a sync find the
// rooms with news since its token without looking at each of the user's rooms.
import { test } from "node:test";
import assert from "node:assert/strict";
import { RoomActivity } from "../../../src/sync/room-activity.js";
import type { Notifier, RoomEventNotice } from "../../../src/rooms/notifier.js";

function activity(current: number): { a: RoomActivity; send: (roomId: string, pos: number) => void } {
  let listener: ((n: RoomEventNotice) => void) | undefined;
  const notifier = { onRoomEvent: (l: (n: RoomEventNotice) => void) => (listener = l) } as unknown as Notifier;
  const a = new RoomActivity(notifier, current);
  const send = (roomId: string, pos: number) => listener!({ roomId, eventId: `$${pos}`, streamOrdering: pos, type: "m.room.message", stateKey: null, sender: "@a:x" });
  return { a, send };
}

test("the rooms with events in a window, notices out of order included", () => {
  const { a, send } = activity(100);
  send("!a", 101);
  send("!b", 103);
  send("!c", 102); // a write that finished after a later position
  send("!a", 104);
  assert.deepEqual(a.roomsWithEventsIn(100, 104), ["!a", "!c", "!b", "!a"]);
  assert.deepEqual(a.roomsWithEventsIn(101, 102), ["!c"]);
  assert.deepEqual(a.roomsWithEventsIn(104, 110), []);
  // Before the subscription: unknown.
  assert.equal(a.roomsWithEventsIn(99, 104), undefined);
  // Agrees with the per-room answer wherever that one knows.
  for (const r of ["!a", "!b", "!c", "!d"]) for (let after = 100; after <= 104; after++) {
    const perRoom = a.hasEventIn(r, after, 104);
    if (perRoom !== undefined) assert.equal(a.roomsWithEventsIn(after, 104)!.includes(r), perRoom, `${r} after ${after}`);
  }
});

test("the log keeps the newest events: older windows become unknown, large ones too", () => {
  const { a, send } = activity(0);
  for (let p = 1; p <= 10_000; p++) send(`!r${p % 7}`, p);
  assert.equal(a.roomsWithEventsIn(1, 10_000), undefined);
  assert.deepEqual(a.roomsWithEventsIn(9_998, 10_000), ["!r3", "!r4"]);
  // More events in the window than it answers for: room by room instead.
  assert.equal(a.roomsWithEventsIn(9_000, 10_000), undefined);
});
