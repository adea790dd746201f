// Pushers and the push gateway API: /pushers/set (validation, append, deletion), a gateway started by
// the test on loopback receiving the spec's /notify payload (full and event_id_only), retries after
// gateway failures, a rejected pushkey removing its pusher, /notifications, and unread counts in
// /sync that drop when the user reads.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";

const C = "/_matrix/client/v3";
let s: TestServer;
let alice: TestUser, bob: TestUser;
let gateway: Server;
let gatewayUrl: string;

interface Received {
  path: string;
  body: { notification: Record<string, unknown> & { devices: Array<Record<string, unknown>>; counts: Record<string, number> } };
}
const received: Received[] = [];
/** What the gateway answers next: a status, and which pushkeys it rejects. */
const script: Array<{ status: number; rejected?: string[] }> = [];
const waiters: Array<() => void> = [];

before(async () => {
  gateway = createServer((req, res) => {
    let data = "";
    req.on("data", (c: Buffer) => (data += c.toString("utf8")));
    req.on("end", () => {
      const step = script.shift() ?? { status: 200 };
      if (step.status === 200) received.push({ path: req.url ?? "", body: JSON.parse(data) as Received["body"] });
      res.writeHead(step.status, { "content-type": "application/json" });
      res.end(JSON.stringify(step.status === 200 ? { rejected: step.rejected ?? [] } : { error: "try later" }));
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((r) => gateway.listen(0, "127.0.0.1", r));
  gatewayUrl = `http://127.0.0.1:${(gateway.address() as AddressInfo).port}/_matrix/push/v1/notify`;
  s = await startTestServer({ push: { enabled: true, allow_http: true, timeout_ms: 5000, max_attempts: 3, retry_base_ms: 30, retry_max_ms: 100 } });
  [alice, bob] = [await s.user("alice"), await s.user("bob")];
});
after(async () => {
  await s.close();
  await new Promise((r) => gateway.close(r));
});

/** Waits until the gateway holds `n` notifications (the test runner's timeout bounds it). */
async function receivedCount(n: number): Promise<void> {
  while (received.length < n) await new Promise<void>((r) => waiters.push(r));
}

const pusher = (over: Record<string, unknown> = {}) => ({
  pushkey: "pk-bob-1",
  kind: "http",
  app_id: "org.example.app",
  app_display_name: "Example",
  device_display_name: "Bob's phone",
  profile_tag: "tag1",
  lang: "fr",
  data: { url: gatewayUrl, custom: "x" },
  ...over,
});

async function room(): Promise<string> {
  const r = await call(s.url, "POST", `${C}/createRoom`, { token: alice.accessToken, body: { preset: "private_chat", name: "Salle", invite: [bob.userId] } });
  const roomId = r.body.room_id as string;
  assert.equal((await call(s.url, "POST", `${C}/join/${encodeURIComponent(roomId)}`, { token: bob.accessToken })).status, 200);
  // The invite notified bob's pusher, if he has one: that notification is sent in the background,
  // so it is awaited here, or it could land after a test has cleared what the gateway received.
  if (((await call(s.url, "GET", `${C}/pushers`, { token: bob.accessToken })).body.pushers as unknown[]).length > 0) {
    while (!received.some((r) => r.body.notification.room_id === roomId)) await new Promise<void>((r) => waiters.push(r));
  }
  return roomId;
}

let txn = 0;
async function send(u: TestUser, roomId: string, content: Record<string, unknown>): Promise<string> {
  const r = await call(s.url, "PUT", `${C}/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t${++txn}`, { token: u.accessToken, body: content });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.event_id as string;
}

test("pushers/set validates, lists, replaces and deletes", async () => {
  const set = (body: unknown, u = bob) => call(s.url, "POST", `${C}/pushers/set`, { token: u.accessToken, body });
  for (const [body, errcode] of [
    [pusher({ data: { url: "http://127.0.0.1:1/not/notify" } }), "M_INVALID_PARAM"],
    [pusher({ data: { url: "not a url" } }), "M_INVALID_PARAM"],
    [pusher({ data: {} }), "M_MISSING_PARAM"],
    [pusher({ data: { url: gatewayUrl, format: "full" } }), "M_INVALID_PARAM"],
    [pusher({ kind: "email" }), "M_INVALID_PARAM"],
    [pusher({ app_id: "a".repeat(65) }), "M_INVALID_PARAM"],
    [pusher({ pushkey: "k".repeat(513) }), "M_INVALID_PARAM"],
    [pusher({ lang: undefined }), "M_MISSING_PARAM"],
    [pusher({ append: "yes" }), "M_BAD_JSON"],
  ] as const) {
    const r = await set(body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.equal(r.body.errcode, errcode, JSON.stringify(r.body));
  }
  assert.deepEqual((await call(s.url, "GET", `${C}/pushers`, { token: bob.accessToken })).body, { pushers: [] });

  assert.equal((await set(pusher())).status, 200);
  assert.equal((await set(pusher({ device_display_name: "Bob's new phone" }))).status, 200);
  const list = (await call(s.url, "GET", `${C}/pushers`, { token: bob.accessToken })).body.pushers as Array<Record<string, unknown>>;
  assert.equal(list.length, 1);
  assert.deepEqual(list[0], { ...pusher(), device_display_name: "Bob's new phone" });
  // Without append, the same app_id + pushkey for another user takes it over; with append both keep it.
  assert.equal((await set(pusher(), alice)).status, 200);
  assert.equal(((await call(s.url, "GET", `${C}/pushers`, { token: bob.accessToken })).body.pushers as unknown[]).length, 0);
  assert.equal((await set(pusher({ append: true }))).status, 200);
  assert.equal(((await call(s.url, "GET", `${C}/pushers`, { token: alice.accessToken })).body.pushers as unknown[]).length, 1);
  assert.equal(((await call(s.url, "GET", `${C}/pushers`, { token: bob.accessToken })).body.pushers as unknown[]).length, 1);
  // kind null deletes.
  assert.equal((await set({ pushkey: "pk-bob-1", app_id: "org.example.app", kind: null }, alice)).status, 200);
  assert.deepEqual((await call(s.url, "GET", `${C}/pushers`, { token: alice.accessToken })).body, { pushers: [] });
});

test("https only unless allowed", async () => {
  const strict = await startTestServer();
  try {
    const u = await strict.user();
    const r = await call(strict.url, "POST", `${C}/pushers/set`, { token: u.accessToken, body: pusher() });
    assert.equal(r.status, 400);
    assert.equal(r.body.errcode, "M_INVALID_PARAM");
  } finally {
    await strict.close();
  }
});

test("a message reaches the gateway with the spec's payload; counts follow reads", async () => {
  const roomId = await room();
  received.length = 0;
  const eventId = await send(alice, roomId, { msgtype: "m.text", body: "Bonjour Bob" });
  await receivedCount(1);
  const n = received[0]!.body.notification;
  assert.equal(received[0]!.path, "/_matrix/push/v1/notify");
  assert.equal(n.event_id, eventId);
  assert.equal(n.room_id, roomId);
  assert.equal(n.type, "m.room.message");
  assert.equal(n.sender, alice.userId);
  assert.equal(n.room_name, "Salle");
  assert.deepEqual(n.content, { msgtype: "m.text", body: "Bonjour Bob" });
  assert.deepEqual(n.counts, { unread: 1 });
  assert.equal(n.prio, "high"); // one-to-one: a sound
  assert.equal(n.devices.length, 1);
  const d = n.devices[0]!;
  assert.equal(d.app_id, "org.example.app");
  assert.equal(d.pushkey, "pk-bob-1");
  assert.equal(typeof d.pushkey_ts, "number");
  assert.deepEqual(d.data, { custom: "x" }); // the url is left out
  assert.deepEqual(d.tweaks, { sound: "default" });

  // Alice's own message did not notify her, and she has no pusher anyway; bob's count is 2 after another.
  await send(alice, roomId, { msgtype: "m.text", body: "encore", "m.mentions": { user_ids: [bob.userId] } });
  await receivedCount(2);
  assert.deepEqual(received[1]!.body.notification.counts, { unread: 2 });
  assert.deepEqual(received[1]!.body.notification.devices[0]!.tweaks, { sound: "default", highlight: true });

  const sync = await call(s.url, "GET", `${C}/sync?timeout=0`, { token: bob.accessToken });
  const joined = (sync.body.rooms as { join: Record<string, { unread_notifications: unknown }> }).join;
  assert.deepEqual(joined[roomId]!.unread_notifications, { notification_count: 2, highlight_count: 1 });

  // /notifications lists both, newest first, unread; only=highlight narrows it.
  const list = await call(s.url, "GET", `${C}/notifications`, { token: bob.accessToken });
  const all = list.body.notifications as Array<{ event: { event_id: string; type: string; content: { body: string; membership?: string } }; read: boolean; room_id: string; actions: unknown[]; ts: number }>;
  // The invite notified too, and counts as read since bob joined (sending an event reads the room).
  const invite = all.find((x) => x.event.type === "m.room.member")!;
  assert.equal(invite.event.content.membership, "invite");
  assert.equal(invite.read, true);
  const notes = all.filter((x) => x.event.type === "m.room.message");
  assert.deepEqual(notes.map((x) => x.event.content.body), ["encore", "Bonjour Bob"]);
  assert.ok(notes.every((x) => x.read === false && x.room_id === roomId && typeof x.ts === "number"));
  const hl = await call(s.url, "GET", `${C}/notifications?only=highlight`, { token: bob.accessToken });
  assert.deepEqual((hl.body.notifications as Array<{ event: { content: { body: string } } }>).map((x) => x.event.content.body), ["encore"]);
  const page = await call(s.url, "GET", `${C}/notifications?limit=1`, { token: bob.accessToken });
  assert.equal((page.body.notifications as unknown[]).length, 1);
  const page2 = await call(s.url, "GET", `${C}/notifications?limit=1&from=${page.body.next_token as string}`, { token: bob.accessToken });
  assert.equal((page2.body.notifications as Array<{ event: { event_id: string } }>)[0]!.event.event_id, eventId);
  assert.equal((await call(s.url, "GET", `${C}/notifications?only=everything`, { token: bob.accessToken })).status, 400);
  assert.equal((await call(s.url, "GET", `${C}/notifications?from=abc`, { token: bob.accessToken })).status, 400);
  // Alice was notified of nothing.
  assert.deepEqual((await call(s.url, "GET", `${C}/notifications`, { token: alice.accessToken })).body.notifications, []);

  // Reading up to the first message leaves one; a private receipt at the last clears everything.
  await call(s.url, "POST", `${C}/rooms/${encodeURIComponent(roomId)}/receipt/m.read/${encodeURIComponent(eventId)}`, { token: bob.accessToken, body: {} });
  let next = await call(s.url, "GET", `${C}/sync?timeout=0&since=${sync.body.next_batch as string}`, { token: bob.accessToken });
  assert.deepEqual((next.body.rooms as { join: Record<string, { unread_notifications: unknown }> }).join[roomId]!.unread_notifications, { notification_count: 1, highlight_count: 1 });
  const latest = notes[0]!.event.event_id;
  await call(s.url, "POST", `${C}/rooms/${encodeURIComponent(roomId)}/receipt/m.read.private/${encodeURIComponent(latest)}`, { token: bob.accessToken, body: {} });
  next = await call(s.url, "GET", `${C}/sync?timeout=0&since=${next.body.next_batch as string}`, { token: bob.accessToken });
  assert.deepEqual((next.body.rooms as { join: Record<string, { unread_notifications: unknown }> }).join[roomId]!.unread_notifications, { notification_count: 0, highlight_count: 0 });
  const readNotes = (await call(s.url, "GET", `${C}/notifications`, { token: bob.accessToken })).body.notifications as Array<{ read: boolean }>;
  assert.ok(readNotes.every((x) => x.read));
});

test("threaded counts when the filter asks for unread_thread_notifications", async () => {
  const roomId = await room();
  const root = await send(alice, roomId, { msgtype: "m.text", body: "root" });
  await send(alice, roomId, { msgtype: "m.text", body: "in thread", "m.relates_to": { rel_type: "m.thread", event_id: root, is_falling_back: true, "m.in_reply_to": { event_id: root } } });
  const filter = encodeURIComponent(JSON.stringify({ room: { timeline: { unread_thread_notifications: true } } }));
  const r = await call(s.url, "GET", `${C}/sync?timeout=0&filter=${filter}`, { token: bob.accessToken });
  const room0 = (r.body.rooms as { join: Record<string, Record<string, unknown>> }).join[roomId]!;
  assert.deepEqual(room0.unread_notifications, { notification_count: 1, highlight_count: 0 });
  assert.deepEqual(room0.unread_thread_notifications, { [root]: { notification_count: 1, highlight_count: 0 } });
  // Without the flag, one count for the room.
  const plain = await call(s.url, "GET", `${C}/sync?timeout=0`, { token: bob.accessToken });
  assert.deepEqual((plain.body.rooms as { join: Record<string, Record<string, unknown>> }).join[roomId]!.unread_notifications, { notification_count: 2, highlight_count: 0 });
  await new Promise((r) => setTimeout(r, 50));
});

test("event_id_only pushers get no content; a failing gateway is retried", async () => {
  const roomId = await room();
  assert.equal((await call(s.url, "POST", `${C}/pushers/set`, { token: bob.accessToken, body: pusher({ data: { url: gatewayUrl, format: "event_id_only" } }) })).status, 200);
  await receivedCount(0);
  received.length = 0;
  script.push({ status: 503 }, { status: 500 });
  const eventId = await send(alice, roomId, { msgtype: "m.text", body: "secret" });
  await receivedCount(1);
  assert.equal(script.length, 0, "both failures were consumed before the success");
  const n = received[0]!.body.notification;
  assert.equal(n.event_id, eventId);
  assert.equal(n.room_id, roomId);
  assert.equal(typeof n.counts.unread, "number");
  for (const k of ["content", "sender", "type", "room_name", "sender_display_name"]) assert.ok(!(k in n), k);
  assert.deepEqual(n.devices[0]!.data, { format: "event_id_only" });
});

test("a rejected pushkey removes the pusher", async () => {
  const roomId = await room();
  received.length = 0;
  script.push({ status: 200, rejected: ["pk-bob-1"] });
  await send(alice, roomId, { msgtype: "m.text", body: "one" });
  await receivedCount(1);
  // The removal follows the gateway's answer.
  for (let i = 0; i < 50 && ((await call(s.url, "GET", `${C}/pushers`, { token: bob.accessToken })).body.pushers as unknown[]).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual((await call(s.url, "GET", `${C}/pushers`, { token: bob.accessToken })).body, { pushers: [] });
  await send(alice, roomId, { msgtype: "m.text", body: "two" });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(received.length, 1, "nothing more was sent to the gateway");
});

test("the user's own rules decide: a room rule silences a room, a content rule highlights a keyword", async () => {
  const roomId = await room();
  const quiet = await call(s.url, "PUT", `${C}/pushrules/global/room/${encodeURIComponent(roomId)}`, { token: bob.accessToken, body: { actions: [] } });
  assert.equal(quiet.status, 200);
  await send(alice, roomId, { msgtype: "m.text", body: "nobody hears this" });
  const other = await room();
  const kw = await call(s.url, "PUT", `${C}/pushrules/global/content/tea`, { token: bob.accessToken, body: { pattern: "tea", actions: ["notify", { set_tweak: "highlight" }] } });
  assert.equal(kw.status, 200);
  await send(alice, other, { msgtype: "m.text", body: "time for tea?" });
  const r = await call(s.url, "GET", `${C}/sync?timeout=0`, { token: bob.accessToken });
  const join = (r.body.rooms as { join: Record<string, { unread_notifications: unknown }> }).join;
  assert.deepEqual(join[roomId]!.unread_notifications, { notification_count: 0, highlight_count: 0 });
  assert.deepEqual(join[other]!.unread_notifications, { notification_count: 1, highlight_count: 1 });
});

test("a device logged out takes the pushers its session set; the account's other devices keep theirs; deactivation takes all", async () => {
  const carol = await s.user();
  const login = async () => {
    const r = await call(s.url, "POST", `${C}/login`, { body: { type: "m.login.password", identifier: { type: "m.id.user", user: carol.userId }, password: carol.password } });
    assert.equal(r.status, 200);
    return { token: r.body.access_token as string, device: r.body.device_id as string };
  };
  const phone = await login();
  const laptop = await login();
  const set = (token: string, pushkey: string) => call(s.url, "POST", `${C}/pushers/set`, { token, body: pusher({ pushkey, data: { url: gatewayUrl } }) });
  const listed = async (token: string) => ((await call(s.url, "GET", `${C}/pushers`, { token })).body.pushers as Array<{ pushkey: string }>).map((p) => p.pushkey).sort();
  assert.equal((await set(phone.token, "pk-carol-phone")).status, 200);
  assert.equal((await set(laptop.token, "pk-carol-laptop")).status, 200);
  assert.deepEqual(await listed(carol.accessToken), ["pk-carol-laptop", "pk-carol-phone"]);

  // The phone is logged out: its pusher goes, the laptop's stays, and a message reaches only it.
  assert.equal((await call(s.url, "POST", `${C}/logout`, { token: phone.token, body: {} })).status, 200);
  assert.deepEqual(await listed(carol.accessToken), ["pk-carol-laptop"]);
  const roomId = (await call(s.url, "POST", `${C}/createRoom`, { token: alice.accessToken, body: { preset: "public_chat" } })).body.room_id as string;
  assert.equal((await call(s.url, "POST", `${C}/join/${encodeURIComponent(roomId)}`, { token: carol.accessToken })).status, 200);
  received.length = 0;
  const eventId = await send(alice, roomId, { msgtype: "m.text", body: "for carol" });
  while (!received.some((r) => r.body.notification.event_id === eventId)) await new Promise<void>((r) => waiters.push(r));
  await new Promise((r) => setTimeout(r, 100));
  const keys = received.filter((r) => r.body.notification.event_id === eventId).map((r) => r.body.notification.devices[0]!.pushkey);
  assert.deepEqual(keys, ["pk-carol-laptop"]);

  // Deleting the laptop (another session of hers) takes its pusher too.
  const second = await login();
  assert.equal((await set(second.token, "pk-carol-tablet")).status, 200);
  const del = await call(s.url, "POST", `${C}/delete_devices`, { token: carol.accessToken, body: { devices: [laptop.device], auth: { type: "m.login.password", identifier: { type: "m.id.user", user: carol.userId }, password: carol.password } } });
  assert.equal(del.status, 200, JSON.stringify(del.body));
  assert.deepEqual(await listed(carol.accessToken), ["pk-carol-tablet"]);

  // Deactivation takes every pusher of the account.
  const deact = await call(s.url, "POST", `${C}/account/deactivate`, { token: carol.accessToken, body: { auth: { type: "m.login.password", identifier: { type: "m.id.user", user: carol.userId }, password: carol.password } } });
  assert.equal(deact.status, 200, JSON.stringify(deact.body));
  assert.deepEqual(await s.app.pushers.list(carol.userId), []);
});
