// Unread counts and /notifications with the shared outcome (migration 0016): an event's outcome
// for the members it does not single out is stored once, each member counts it only if they were
// joined when it was sent, and members with an outcome of their own (mentioned, a rule of their
// own) are counted by their own row. Through HTTP, against the real server, on both databases.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";

const C = "/_matrix/client/v3";
const enc = encodeURIComponent;
let s: TestServer;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let dave: TestUser;

type Counts = { notification_count: number; highlight_count: number };
type Room = { unread_notifications?: Counts; unread_thread_notifications?: Record<string, Counts> };
type Sync = { next_batch: string; rooms?: { join?: Record<string, Room> } };

before(async () => {
  s = await startTestServer();
  alice = await s.user("alice");
  bob = await s.user("bob");
  carol = await s.user("carol");
  dave = await s.user("dave");
});
after(async () => {
  await s.close();
});

let txn = 0;
async function send(u: TestUser, roomId: string, content: Record<string, unknown>): Promise<string> {
  const r = await call(s.url, "PUT", `${C}/rooms/${enc(roomId)}/send/m.room.message/pc${++txn}`, { token: u.accessToken, body: content });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.event_id as string;
}
const say = (u: TestUser, roomId: string, body: string) => send(u, roomId, { msgtype: "m.text", body });
async function ok(u: TestUser, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const r = await call(s.url, method, `${C}${path}`, { token: u.accessToken, body: method === "GET" ? undefined : (body ?? {}) });
  assert.equal(r.status, 200, `${method} ${path}: ${JSON.stringify(r.body)}`);
  return r.body;
}
async function counts(u: TestUser, roomId: string, threaded = false): Promise<Room | undefined> {
  const f = threaded ? `&filter=${enc(JSON.stringify({ room: { timeline: { unread_thread_notifications: true } } }))}` : "";
  const r = await call(s.url, "GET", `${C}/sync?timeout=0${f}`, { token: u.accessToken });
  assert.equal(r.status, 200);
  return (r.body as unknown as Sync).rooms?.join?.[roomId];
}
const unread = async (u: TestUser, roomId: string) => (await counts(u, roomId))?.unread_notifications;
const createRoom = async () => (await ok(alice, "POST", "/createRoom", { preset: "public_chat" })).room_id as string;
const join = (u: TestUser, roomId: string) => ok(u, "POST", `/join/${enc(roomId)}`);

test("a member counts only what was sent while they were joined, across leave and rejoin", async () => {
  const room = await createRoom();
  await join(bob, room);
  await say(alice, room, "before carol");
  await say(alice, room, "before carol 2");
  await join(carol, room);
  await say(alice, room, "after carol");
  assert.deepEqual(await unread(bob, room), { notification_count: 3, highlight_count: 0 });
  assert.deepEqual(await unread(carol, room), { notification_count: 1, highlight_count: 0 });
  // The sender is never notified of their own messages; the room's creator is a member too.
  assert.deepEqual(await unread(alice, room), { notification_count: 0, highlight_count: 0 });
  await say(bob, room, "bob speaks");
  assert.deepEqual(await unread(alice, room), { notification_count: 1, highlight_count: 0 });

  await ok(carol, "POST", `/rooms/${enc(room)}/leave`);
  await say(alice, room, "while carol is away");
  await join(carol, room);
  await say(alice, room, "carol is back");
  // Away: not counted. Before she left: read by her own leave event (sending reads the room).
  assert.deepEqual(await unread(carol, room), { notification_count: 1, highlight_count: 0 });
  // Bob read the room by speaking: the two messages since count.
  assert.deepEqual(await unread(bob, room), { notification_count: 2, highlight_count: 0 });
});

test("after a kick nothing more is notified to the member, though nothing of theirs read the room", async () => {
  const room = await createRoom();
  await join(carol, room);
  await say(alice, room, "while carol is here");
  await ok(alice, "POST", `/rooms/${enc(room)}/kick`, { user_id: carol.userId });
  await say(alice, room, "after the kick");
  const list = await ok(carol, "GET", "/notifications");
  const bodies = (list.notifications as Array<{ room_id: string; event: { content: { body?: string } } }>).filter((n) => n.room_id === room).map((n) => n.event.content.body);
  assert.deepEqual(bodies, ["while carol is here"]);
});

test("a receipt and the user's own message read the room; later messages count again", async () => {
  const room = await createRoom();
  await join(bob, room);
  await say(alice, room, "one");
  const two = await say(alice, room, "two");
  await say(alice, room, "three");
  await ok(bob, "POST", `/rooms/${enc(room)}/receipt/m.read/${enc(two)}`, {});
  assert.equal((await unread(bob, room))?.notification_count, 1);
  await say(bob, room, "bob answers");
  assert.equal((await unread(bob, room))?.notification_count, 0);
  await say(alice, room, "four");
  assert.equal((await unread(bob, room))?.notification_count, 1);
});

test("a mention highlights its target only; everyone else keeps the shared count", async () => {
  const room = await createRoom();
  await join(bob, room);
  await join(carol, room);
  await say(alice, room, "plain");
  await send(alice, room, { msgtype: "m.text", body: "bob: look", "m.mentions": { user_ids: [bob.userId] } });
  assert.deepEqual(await unread(bob, room), { notification_count: 2, highlight_count: 1 });
  assert.deepEqual(await unread(carol, room), { notification_count: 2, highlight_count: 0 });
  const list = await ok(bob, "GET", "/notifications");
  const mine = (list.notifications as Array<{ room_id: string; event: { content: { body: string } }; actions: unknown[] }>).filter((n) => n.room_id === room);
  assert.deepEqual(
    mine.map((n) => n.event.content.body),
    ["bob: look", "plain"],
  );
  assert.ok(mine[0]!.actions.some((a) => typeof a === "object" && (a as { set_tweak?: string }).set_tweak === "highlight"));
  const highlights = await ok(bob, "GET", "/notifications?only=highlight");
  assert.deepEqual(
    (highlights.notifications as Array<{ room_id: string; event: { content: { body: string } } }>).filter((n) => n.room_id === room).map((n) => n.event.content.body),
    ["bob: look"],
  );
});

test("a member who muted the room counts nothing, nor lists it; the others still do", async () => {
  const room = await createRoom();
  await join(dave, room);
  await join(bob, room);
  await ok(dave, "PUT", `/pushrules/global/override/mute-${enc(room)}`, { conditions: [{ kind: "event_match", key: "room_id", pattern: room }], actions: [] });
  await say(alice, room, "nobody listens");
  await say(alice, room, "still nobody");
  assert.deepEqual(await unread(dave, room), { notification_count: 0, highlight_count: 0 });
  assert.deepEqual(await unread(bob, room), { notification_count: 2, highlight_count: 0 });
  const list = await ok(dave, "GET", "/notifications");
  assert.equal((list.notifications as Array<{ room_id: string }>).filter((n) => n.room_id === room).length, 0);
  // Unmuted: the next message counts, the muted ones never will.
  await ok(dave, "DELETE", `/pushrules/global/override/mute-${enc(room)}`);
  await say(alice, room, "dave is back");
  assert.deepEqual(await unread(dave, room), { notification_count: 1, highlight_count: 0 });
});

test("thread counts: the shared outcome and a member's own row add up per thread", async () => {
  const room = await createRoom();
  await join(bob, room);
  const root = await say(alice, room, "root");
  const inThread = (body: string, extra: Record<string, unknown> = {}) => send(alice, room, { msgtype: "m.text", body, "m.relates_to": { rel_type: "m.thread", event_id: root }, ...extra });
  await inThread("reply 1");
  await inThread("bob, reply 2", { "m.mentions": { user_ids: [bob.userId] } });
  const r = await counts(bob, room, true);
  assert.deepEqual(r?.unread_notifications, { notification_count: 1, highlight_count: 0 });
  assert.deepEqual(r?.unread_thread_notifications, { [root]: { notification_count: 2, highlight_count: 1 } });
  const all = await counts(bob, room);
  assert.deepEqual(all?.unread_notifications, { notification_count: 3, highlight_count: 1 });
});

test("/notifications pages through shared and own notifications of several rooms newest first, without gaps", async () => {
  const rooms = [await createRoom(), await createRoom()];
  for (const r of rooms) await join(carol, r);
  const sent: string[] = [];
  for (let i = 0; i < 9; i++) {
    const r = rooms[i % 2]!;
    sent.push(i % 3 === 0 ? await send(alice, r, { msgtype: "m.text", body: `m${i}`, "m.mentions": { user_ids: [carol.userId] } }) : await say(alice, r, `m${i}`));
  }
  const seen: string[] = [];
  let from: string | undefined;
  for (let page = 0; page < 10; page++) {
    const body = await ok(carol, "GET", `/notifications?limit=3${from ? `&from=${from}` : ""}`);
    const items = (body.notifications as Array<{ room_id: string; event: { event_id: string }; read: boolean }>).filter((n) => rooms.includes(n.room_id));
    seen.push(...items.map((n) => n.event.event_id));
    for (const n of items) assert.equal(n.read, false);
    from = body.next_token as string | undefined;
    if (!from || seen.length >= sent.length) break;
  }
  assert.deepEqual(seen, [...sent].reverse());
});

test("an invite notifies its target, who is not yet a member", async () => {
  const room = (await ok(alice, "POST", "/createRoom", { preset: "private_chat" })).room_id as string;
  await ok(alice, "POST", `/rooms/${enc(room)}/invite`, { user_id: dave.userId });
  const list = await ok(dave, "GET", "/notifications");
  const n = (list.notifications as Array<{ room_id: string; event: { type: string; state_key: string } }>).find((x) => x.room_id === room);
  assert.equal(n?.event.type, "m.room.member");
  assert.equal(n?.event.state_key, dave.userId);
});
