// Sync filters (client-server API "Filtering"): each field lets something through and keeps
// something out. Presence is not tracked (presence off), so the presence filter has nothing to act
// on; unread_thread_notifications is tested with the counts (push-gateway.test.ts).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";

const C = "/_matrix/client/v3";
let s: TestServer;
let alice: TestUser, bob: TestUser, carol: TestUser;
let R1: string, R2: string, R3: string;

type Ev = { event_id: string; type: string; sender: string; state_key?: string; content: Record<string, unknown>; [k: string]: unknown };
type Room = { timeline: { events: Ev[]; limited: boolean }; state: { events: Ev[] }; ephemeral: { events: Ev[] }; account_data: { events: Ev[] } };
type Sync = { next_batch: string; rooms: { join: Record<string, Room>; leave: Record<string, Room> }; account_data: { events: Ev[] } };

const enc = encodeURIComponent;
let txn = 0;
async function send(u: TestUser, roomId: string, type: string, content: Record<string, unknown>): Promise<string> {
  const r = await call(s.url, "PUT", `${C}/rooms/${enc(roomId)}/send/${type}/f${++txn}`, { token: u.accessToken, body: content });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.event_id as string;
}
async function sync(filter: unknown, since?: string, u = bob): Promise<Sync> {
  const r = await call(s.url, "GET", `${C}/sync?timeout=0&filter=${enc(JSON.stringify(filter))}${since ? `&since=${since}` : ""}`, { token: u.accessToken });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as unknown as Sync;
}
const types = (evs: Ev[]) => evs.map((e) => e.type);

before(async () => {
  s = await startTestServer();
  [alice, bob, carol] = [await s.user("alice"), await s.user("bob"), await s.user("carol")];
  const mk = async () => (await call(s.url, "POST", `${C}/createRoom`, { token: alice.accessToken, body: { preset: "public_chat" } })).body.room_id as string;
  [R1, R2, R3] = [await mk(), await mk(), await mk()];
  for (const r of [R1, R2, R3]) assert.equal((await call(s.url, "POST", `${C}/join/${enc(r)}`, { token: bob.accessToken })).status, 200);
  assert.equal((await call(s.url, "POST", `${C}/join/${enc(R1)}`, { token: carol.accessToken })).status, 200);
  await call(s.url, "PUT", `${C}/rooms/${enc(R1)}/state/m.room.topic`, { token: alice.accessToken, body: { topic: "filters" } });
  await send(alice, R1, "m.room.message", { msgtype: "m.text", body: "hello" });
  await send(bob, R1, "m.room.message", { msgtype: "m.text", body: "hi from bob" });
  const img = await send(alice, R1, "m.room.message", { msgtype: "m.image", body: "pic", url: "mxc://rempart.test/abc" });
  await send(alice, R1, "org.example.custom", { n: 1 });
  await send(alice, R2, "m.room.message", { msgtype: "m.text", body: "in R2" });
  assert.equal((await call(s.url, "POST", `${C}/rooms/${enc(R3)}/leave`, { token: bob.accessToken, body: {} })).status, 200);
  await call(s.url, "PUT", `${C}/user/${enc(bob.userId)}/account_data/org.example.a`, { token: bob.accessToken, body: { a: 1 } });
  await call(s.url, "PUT", `${C}/user/${enc(bob.userId)}/account_data/org.example.b`, { token: bob.accessToken, body: { b: 1 } });
  await call(s.url, "PUT", `${C}/user/${enc(bob.userId)}/rooms/${enc(R1)}/account_data/org.example.ra`, { token: bob.accessToken, body: { ra: 1 } });
  await call(s.url, "PUT", `${C}/user/${enc(bob.userId)}/rooms/${enc(R1)}/account_data/org.example.rb`, { token: bob.accessToken, body: { rb: 1 } });
  await call(s.url, "PUT", `${C}/user/${enc(bob.userId)}/rooms/${enc(R2)}/account_data/org.example.ra`, { token: bob.accessToken, body: { ra: 2 } });
  await call(s.url, "POST", `${C}/rooms/${enc(R1)}/receipt/m.read/${enc(img)}`, { token: alice.accessToken, body: {} });
  await call(s.url, "PUT", `${C}/rooms/${enc(R1)}/typing/${enc(alice.userId)}`, { token: alice.accessToken, body: { typing: true, timeout: 120000 } });
});
after(async () => {
  await s.close();
});

test("room.rooms and room.not_rooms", async () => {
  assert.deepEqual(Object.keys((await sync({ room: { rooms: [R1] } })).rooms.join), [R1]);
  const not = Object.keys((await sync({ room: { not_rooms: [R1] } })).rooms.join);
  assert.ok(not.includes(R2) && !not.includes(R1));
});

test("room.include_leave", async () => {
  assert.ok(!(R3 in (await sync({})).rooms.leave));
  assert.ok(R3 in (await sync({ room: { include_leave: true } })).rooms.leave);
});

test("timeline.limit", async () => {
  const r = (await sync({ room: { timeline: { limit: 2 } } })).rooms.join[R1]!;
  assert.equal(r.timeline.events.length, 2);
  assert.equal(r.timeline.limited, true);
  assert.ok((await sync({ room: { timeline: { limit: 50 } } })).rooms.join[R1]!.timeline.events.length > 2);
});

test("timeline.types and not_types (with wildcards)", async () => {
  const only = (await sync({ room: { timeline: { types: ["m.room.message"] } } })).rooms.join[R1]!.timeline.events;
  assert.ok(only.length >= 3 && only.every((e) => e.type === "m.room.message"));
  const wild = (await sync({ room: { timeline: { types: ["org.example.*"] } } })).rooms.join[R1]!.timeline.events;
  assert.deepEqual(types(wild), ["org.example.custom"]);
  const not = (await sync({ room: { timeline: { not_types: ["m.room.message"], limit: 50 } } })).rooms.join[R1]!.timeline.events;
  assert.ok(not.length > 0 && !not.some((e) => e.type === "m.room.message"));
});

test("timeline.senders and not_senders", async () => {
  const mine = (await sync({ room: { timeline: { senders: [bob.userId] } } })).rooms.join[R1]!.timeline.events;
  assert.ok(mine.length > 0 && mine.every((e) => e.sender === bob.userId));
  const others = (await sync({ room: { timeline: { not_senders: [alice.userId], limit: 50 } } })).rooms.join[R1]!.timeline.events;
  assert.ok(others.some((e) => e.sender === bob.userId) && !others.some((e) => e.sender === alice.userId));
});

test("timeline.rooms and not_rooms", async () => {
  const r = await sync({ room: { timeline: { rooms: [R1] } } });
  assert.ok(r.rooms.join[R1]!.timeline.events.length > 0);
  assert.equal(r.rooms.join[R2]?.timeline.events.length ?? 0, 0);
  const n = await sync({ room: { timeline: { not_rooms: [R1] } } });
  assert.equal(n.rooms.join[R1]?.timeline.events.length ?? 0, 0);
  assert.ok(n.rooms.join[R2]!.timeline.events.length > 0);
});

test("timeline.contains_url", async () => {
  const withUrl = (await sync({ room: { timeline: { contains_url: true, types: ["m.room.message"] } } })).rooms.join[R1]!.timeline.events;
  assert.deepEqual(withUrl.map((e) => e.content.body), ["pic"]);
  const without = (await sync({ room: { timeline: { contains_url: false, types: ["m.room.message"] } } })).rooms.join[R1]!.timeline.events;
  assert.ok(without.length >= 2 && !without.some((e) => e.content.body === "pic"));
});

test("state.types, not_types, senders, not_senders", async () => {
  const st = (f: unknown) => sync({ room: { timeline: { limit: 1 }, state: f } }).then((r) => r.rooms.join[R1]!.state.events);
  assert.deepEqual(types(await st({ types: ["m.room.topic"] })), ["m.room.topic"]);
  const noMembers = await st({ not_types: ["m.room.member"] });
  assert.ok(noMembers.length > 0 && !noMembers.some((e) => e.type === "m.room.member"));
  const byBob = await st({ senders: [bob.userId] });
  assert.ok(byBob.length > 0 && byBob.every((e) => e.sender === bob.userId));
  const notAlice = await st({ not_senders: [alice.userId] });
  assert.ok(notAlice.length > 0 && !notAlice.some((e) => e.sender === alice.userId));
});

test("state.lazy_load_members and include_redundant_members", async () => {
  const members = (r: Sync) => r.rooms.join[R1]!.state.events.filter((e) => e.type === "m.room.member").map((e) => e.state_key).sort();
  const all = await sync({ room: { timeline: { limit: 1 } } });
  assert.ok(members(all).includes(carol.userId), "carol without lazy loading");
  const lazy = await sync({ room: { timeline: { limit: 1 }, state: { lazy_load_members: true } } });
  // The last event is alice's: only alice and bob himself.
  assert.deepEqual(members(lazy), [alice.userId, bob.userId].sort());
  // Incrementally, alice's member event is not repeated unless include_redundant_members.
  await send(alice, R1, "m.room.message", { msgtype: "m.text", body: "again" });
  const inc = await sync({ room: { timeline: { limit: 1 }, state: { lazy_load_members: true } } }, lazy.next_batch);
  assert.deepEqual(members(inc), []);
  const lazy2 = await sync({ room: { timeline: { limit: 1 }, state: { lazy_load_members: true, include_redundant_members: true } } });
  await send(alice, R1, "m.room.message", { msgtype: "m.text", body: "and again" });
  const red = await sync({ room: { timeline: { limit: 1 }, state: { lazy_load_members: true, include_redundant_members: true } } }, lazy2.next_batch);
  assert.deepEqual(members(red), [alice.userId, bob.userId].sort());
});

test("ephemeral.types, not_types, limit, rooms", async () => {
  const eph = (f: unknown) => sync({ room: { ephemeral: f } }).then((r) => types(r.rooms.join[R1]!.ephemeral.events).sort());
  assert.deepEqual(await eph({}), ["m.receipt", "m.typing"]);
  assert.deepEqual(await eph({ types: ["m.typing"] }), ["m.typing"]);
  assert.deepEqual(await eph({ not_types: ["m.typing"] }), ["m.receipt"]);
  assert.equal((await eph({ limit: 1 })).length, 1);
  assert.deepEqual(await eph({ not_rooms: [R1] }), []);
});

test("account_data (global): types, not_types, limit", async () => {
  const ad = (f: unknown) => sync({ account_data: f }).then((r) => types(r.account_data.events).filter((t) => t.startsWith("org.example.")).sort());
  assert.deepEqual(await ad({}), ["org.example.a", "org.example.b"]);
  assert.deepEqual(await ad({ types: ["org.example.a"] }), ["org.example.a"]);
  assert.deepEqual(await ad({ not_types: ["org.example.a"] }), ["org.example.b"]);
  const lim = await sync({ account_data: { limit: 1 } });
  assert.equal(lim.account_data.events.length, 1);
});

test("room.account_data: types, not_types, limit, rooms", async () => {
  const rad = (f: unknown, room = R1) => sync({ room: { account_data: f } }).then((r) => types(r.rooms.join[room]!.account_data.events).sort());
  assert.deepEqual(await rad({}), ["org.example.ra", "org.example.rb"]);
  assert.deepEqual(await rad({ types: ["org.example.rb"] }), ["org.example.rb"]);
  assert.deepEqual(await rad({ not_types: ["org.example.rb"] }), ["org.example.ra"]);
  assert.equal((await rad({ limit: 1 })).length, 1);
  assert.deepEqual(await rad({ rooms: [R1] }, R2), []);
  assert.deepEqual(await rad({ rooms: [R1] }, R1), ["org.example.ra", "org.example.rb"]);
});

test("event_fields keeps only the listed paths", async () => {
  const r = (await sync({ event_fields: ["type", "content.body"], room: { timeline: { types: ["m.room.message"] } } })).rooms.join[R1]!;
  for (const e of r.timeline.events) {
    assert.deepEqual(Object.keys(e).sort(), ["content", "type"]);
    assert.deepEqual(Object.keys(e.content), ["body"]);
  }
  const full = (await sync({ room: { timeline: { types: ["m.room.message"] } } })).rooms.join[R1]!.timeline.events[0]!;
  assert.ok("event_id" in full && "sender" in full);
});

test("event_format: federation gives PDUs, client gives client events", async () => {
  const fed = (await sync({ event_format: "federation", room: { timeline: { limit: 3 } } })).rooms.join[R1]!;
  for (const e of [...fed.timeline.events, ...fed.state.events]) {
    for (const k of ["auth_events", "prev_events", "depth", "hashes", "signatures", "event_id"]) assert.ok(k in e, `${k} in a federation-format event`);
  }
  const client = (await sync({ event_format: "client", room: { timeline: { limit: 3 } } })).rooms.join[R1]!;
  for (const e of client.timeline.events) for (const k of ["auth_events", "prev_events", "hashes", "signatures"]) assert.ok(!(k in e), k);
});
