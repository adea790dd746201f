// Many long-polls woken by one event (docs/sync-and-push.md "What changed where, in memory"): the
// woken syncs share the room's read, yet each answers for its own user: exactly once, through its
// own filter and history visibility, and memberships or visibility rules changed a moment before
// are seen at once (nothing served from a stale cache).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";
import { deviceIdentity, oneTimeKeys, fallbackKey } from "../helpers/e2ee-keys.js";

const C = "/_matrix/client/v3";
const enc = encodeURIComponent;
let s: TestServer;
let alice: TestUser;
let pollers: TestUser[];

type Ev = { event_id: string; type: string; content: Record<string, unknown> };
type Room = { timeline: { events: Ev[] } };
type Sync = { next_batch: string; rooms: { join: Record<string, Room>; leave: Record<string, Room> } };

before(async () => {
  s = await startTestServer();
  alice = await s.user("alice");
  pollers = [];
  for (let i = 0; i < 12; i++) pollers.push(await s.user(`p${i}`));
});
after(async () => {
  await s.close();
});

let txn = 0;
async function say(u: TestUser, roomId: string, body: string): Promise<void> {
  const r = await call(s.url, "PUT", `${C}/rooms/${enc(roomId)}/send/m.room.message/fan${++txn}`, { token: u.accessToken, body: { msgtype: "m.text", body } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
}
async function sync(u: TestUser, since?: string, timeout = 0, filter?: unknown): Promise<Sync> {
  const f = filter ? `&filter=${enc(JSON.stringify(filter))}` : "";
  const r = await call(s.url, "GET", `${C}/sync?timeout=${timeout}${since ? `&since=${since}` : ""}${f}`, { token: u.accessToken });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as unknown as Sync;
}
const bodies = (r: Room | undefined) => (r?.timeline.events ?? []).filter((e) => e.type === "m.room.message").map((e) => e.content.body as string);
const parked = () => new Promise((r) => setTimeout(r, 150));

test("one event wakes every parked member once, each through its own filter", async () => {
  const room = (await call(s.url, "POST", `${C}/createRoom`, { token: alice.accessToken, body: { preset: "public_chat" } })).body.room_id as string;
  for (const p of pollers) assert.equal((await call(s.url, "POST", `${C}/join/${enc(room)}`, { token: p.accessToken })).status, 200);
  const topicsOnly = { room: { timeline: { types: ["m.room.topic"] } } };
  // The last poller only wants topics: the message must not reach it, the topic must.
  const tokens = await Promise.all(pollers.map(async (p, i) => (await sync(p, undefined, 0, i === pollers.length - 1 ? topicsOnly : undefined)).next_batch));
  const last = pollers.length - 1;
  for (let round = 0; round < 3; round++) {
    // A long-poll may also return early with other news (device-list updates of the joins are
    // written in the background): a client then polls again from its new token.
    const polls = pollers.map(async (p, i) => {
      const got: string[] = [];
      for (let n = 0; n < 8; n++) {
        const r = await sync(p, tokens[i], i === last ? 500 : 10_000, i === last ? topicsOnly : undefined);
        tokens[i] = r.next_batch;
        got.push(...bodies(r.rooms.join[room]));
        if (i === last || got.length > 0) break;
      }
      return got;
    });
    await parked();
    await say(alice, room, `round ${round}`);
    if (round === 2) await call(s.url, "PUT", `${C}/rooms/${enc(room)}/state/m.room.topic`, { token: alice.accessToken, body: { topic: "done" } });
    const res = await Promise.all(polls);
    res.forEach((got, i) => assert.deepEqual(got, i === last ? [] : [`round ${round}`], `poller ${i}, round ${round}`));
  }
  // Nothing is delivered twice: the same tokens, with nothing new, give empty timelines.
  const again = await Promise.all(pollers.slice(0, -1).map((p, i) => sync(p, tokens[i])));
  for (const r of again) assert.deepEqual(bodies(r.rooms.join[room]), []);
  // The filtered poller gets the topic (it may have come with round 2's wake-up or after it).
  const topicRes = await sync(pollers[last]!, undefined, 0, topicsOnly);
  assert.ok(topicRes.rooms.join[room]!.timeline.events.some((e) => e.type === "m.room.topic" && e.content.topic === "done"));
});

test("a member who left stops seeing the room at once, and a new member sees it at once", async () => {
  const room = (await call(s.url, "POST", `${C}/createRoom`, { token: alice.accessToken, body: { preset: "public_chat", initial_state: [{ type: "m.room.history_visibility", state_key: "", content: { history_visibility: "joined" } }] } })).body.room_id as string;
  const [stay, goer, late] = pollers;
  for (const p of [stay!, goer!]) assert.equal((await call(s.url, "POST", `${C}/join/${enc(room)}`, { token: p.accessToken })).status, 200);
  const tStay = (await sync(stay!)).next_batch;
  const tGoer = (await sync(goer!)).next_batch;
  await say(alice, room, "before the leave");
  // Both read the room once (memberships and visibility now cached).
  assert.deepEqual(bodies((await sync(goer!, tGoer)).rooms.join[room]), ["before the leave"]);
  const t1 = (await sync(stay!, tStay)).next_batch;
  assert.equal((await call(s.url, "POST", `${C}/rooms/${enc(room)}/leave`, { token: goer!.accessToken, body: {} })).status, 200);
  const tLeft = (await sync(goer!)).next_batch;
  await say(alice, room, "after the leave");
  const afterLeave = await sync(goer!, tLeft);
  assert.equal(afterLeave.rooms.join[room], undefined);
  assert.deepEqual(bodies(afterLeave.rooms.leave[room]), [], "a former member sees nothing sent after their leave");
  assert.deepEqual(bodies((await sync(stay!, t1)).rooms.join[room]), ["after the leave"]);
  // A newcomer's long-poll, parked before their join, wakes with the join and sees what follows.
  const tLate = (await sync(late!)).next_batch;
  const poll = sync(late!, tLate, 10_000);
  await parked();
  assert.equal((await call(s.url, "POST", `${C}/join/${enc(room)}`, { token: late!.accessToken })).status, 200);
  const joined = await poll;
  assert.ok(joined.rooms.join[room], "the join wakes the newcomer's long-poll");
  await say(alice, room, "welcome");
  assert.deepEqual(bodies((await sync(late!, joined.next_batch)).rooms.join[room]), ["welcome"]);
});

test("long-polls woken together each get their own unread and one-time-key counts", async () => {
  // The counts of syncs woken by the same event are read together
  // (storage/read-batch.ts): each must still be its own user's and device's.
  const room = (await call(s.url, "POST", `${C}/createRoom`, { token: alice.accessToken, body: { preset: "public_chat" } })).body.room_id as string;
  const [p3, p4, p5] = pollers.slice(3, 6) as [TestUser, TestUser, TestUser];
  for (const p of [p3, p4, p5]) assert.equal((await call(s.url, "POST", `${C}/join/${enc(room)}`, { token: p.accessToken })).status, 200);
  const sendFor = async (body: string) => (await call(s.url, "PUT", `${C}/rooms/${enc(room)}/send/m.room.message/cnt${++txn}`, { token: alice.accessToken, body: { msgtype: "m.text", body } })).body.event_id as string;
  const m1 = await sendFor("one");
  const m2 = await sendFor("two");
  // p3 has read everything, p4 the first message, p5 nothing.
  for (const [p, at] of [[p3, m2], [p4, m1]] as const) assert.equal((await call(s.url, "POST", `${C}/rooms/${enc(room)}/receipt/m.read/${enc(at)}`, { token: p.accessToken, body: {} })).status, 200);
  // p4 holds one one-time key, p5 three and a fallback key, p3 none.
  for (const [p, n, fb] of [[p4, 1, false], [p5, 3, true]] as const) {
    const { ed, deviceKeys } = deviceIdentity(p.userId, p.deviceId);
    const body = { device_keys: deviceKeys, one_time_keys: oneTimeKeys(ed, p.userId, p.deviceId, n), ...(fb ? { fallback_keys: fallbackKey(ed, p.userId, p.deviceId) } : {}) };
    assert.equal((await call(s.url, "POST", `${C}/keys/upload`, { token: p.accessToken, body })).status, 200);
  }
  const tokens = await Promise.all([p3, p4, p5].map(async (p) => (await sync(p)).next_batch));
  type Counted = Sync & { device_one_time_keys_count: Record<string, number>; device_unused_fallback_key_types: string[]; rooms: { join: Record<string, Room & { unread_notifications: unknown }> } };
  const polls = [p3, p4, p5].map(async (p, i) => {
    // Other news (device-list updates of the uploads) may wake a poll first: poll again.
    for (let n = 0; n < 8; n++) {
      const r = (await sync(p, tokens[i], 10_000)) as Counted;
      tokens[i] = r.next_batch;
      if (bodies(r.rooms.join[room]).length) return r;
    }
    throw new Error(`poller ${i} never saw the message`);
  });
  await parked();
  await say(alice, room, "three");
  const [r3, r4, r5] = await Promise.all(polls);
  assert.deepEqual(r3!.rooms.join[room]!.unread_notifications, { notification_count: 1, highlight_count: 0 });
  assert.deepEqual(r4!.rooms.join[room]!.unread_notifications, { notification_count: 2, highlight_count: 0 });
  assert.deepEqual(r5!.rooms.join[room]!.unread_notifications, { notification_count: 3, highlight_count: 0 });
  assert.deepEqual(r3!.device_one_time_keys_count, { signed_curve25519: 0 });
  assert.deepEqual(r4!.device_one_time_keys_count, { signed_curve25519: 1 });
  assert.deepEqual(r5!.device_one_time_keys_count, { signed_curve25519: 3 });
  assert.deepEqual([r3!.device_unused_fallback_key_types, r4!.device_unused_fallback_key_types, r5!.device_unused_fallback_key_types], [[], [], ["signed_curve25519"]]);
});
