// The first initial sync after a start, with lazy-loaded members, reads the state of rooms that are
// not in memory from the database without their members (sync/room-state.ts) instead of loading the
// rooms into the writer. Its answer must be the one the in-memory path gives: the same state before
// the timeline (lazy members included, state changes inside the timeline undone), the same summary
// (counts and heroes, spec "Room summary"), the same timeline.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";

const C = "/_matrix/client/v3";
let s: TestServer;
let alice: TestUser, bob: TestUser, carol: TestUser, dave: TestUser, eve: TestUser, frank: TestUser;

before(async () => {
  s = await startTestServer();
  [alice, bob, carol, dave, eve, frank] = await Promise.all(["alice", "bob", "carol", "dave", "eve", "frank"].map((n) => s.user(n)));
});
after(async () => {
  await s.close();
});

type Json = Record<string, unknown>;

async function ok(method: string, path: string, u: TestUser, body?: unknown): Promise<Json> {
  const r = await call(s.url, method, `${C}${path}`, { token: u.accessToken, body });
  assert.equal(r.status, 200, `${method} ${path}: ${JSON.stringify(r.body)}`);
  return r.body;
}

const room = async (u: TestUser, body: Json) => (await ok("POST", "/createRoom", u, body)).room_id as string;
const join = (u: TestUser, roomId: string) => ok("POST", `/join/${encodeURIComponent(roomId)}`, u, {});
let txn = 0;
const say = (u: TestUser, roomId: string, body: string) => ok("PUT", `/rooms/${encodeURIComponent(roomId)}/send/m.room.message/c${++txn}`, u, { msgtype: "m.text", body });
const member = (u: TestUser, roomId: string, target: string, what: "invite" | "ban" | "leave") =>
  what === "leave" ? ok("POST", `/rooms/${encodeURIComponent(roomId)}/leave`, u, {}) : ok("POST", `/rooms/${encodeURIComponent(roomId)}/${what}`, u, { user_id: target });

/** Ages change between two answers; nothing else may. */
function withoutAges(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutAges);
  if (v && typeof v === "object") {
    const out: Json = {};
    for (const [k, x] of Object.entries(v)) if (k !== "age") out[k] = withoutAges(x);
    return out;
  }
  return v;
}

/** A room's section without ages, its state (which comes in no particular order) sorted. */
function normal(section: Json | undefined): unknown {
  const out = withoutAges(section) as Json;
  const state = out.state as { events: Json[] };
  state.events = [...state.events].sort((a, b) => `${a.type as string}|${a.state_key as string}`.localeCompare(`${b.type as string}|${b.state_key as string}`));
  return out;
}

const normalAll = (rooms: Record<string, Json>) => Object.fromEntries(Object.entries(rooms).map(([id, r]) => [id, normal(r)]));

const lazy = (limit: number, extra: Json = {}) => `&filter=${encodeURIComponent(JSON.stringify({ room: { timeline: { limit }, state: { lazy_load_members: true, ...extra } } }))}`;

async function initial(u: TestUser, filter: string): Promise<Record<string, Json>> {
  const r = await call(s.url, "GET", `${C}/sync?timeout=0${filter}`, { token: u.accessToken });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return (r.body.rooms as { join: Record<string, Json> }).join;
}

test("the first lazy initial sync after a restart answers as the in-memory state does", async () => {
  // An unnamed room whose members arrive, are invited, leave and are banned, in a known order.
  const open = await room(alice, { preset: "public_chat" });
  for (const u of [bob, carol, eve, frank]) await join(u, open);
  await member(alice, open, dave.userId, "invite");
  await member(eve, open, eve.userId, "leave");
  await member(alice, open, frank.userId, "ban");
  for (let i = 0; i < 4; i++) await say(carol, open, `older ${i}`);
  // State changes inside the last timeline: the state before it must undo them.
  await ok("PUT", `/rooms/${encodeURIComponent(open)}/state/m.room.member/${encodeURIComponent(carol.userId)}`, carol, { membership: "join", displayname: "Carol B." });
  await ok("PUT", `/rooms/${encodeURIComponent(open)}/state/m.room.topic`, alice, { topic: "new topic" });
  await say(alice, open, "newest");

  // A named room (no heroes), and an unnamed one everybody else left (heroes from those who left).
  const named = await room(alice, { preset: "public_chat", name: "Named room" });
  await join(bob, named);
  await say(alice, named, "hello");
  const empty = await room(carol, { preset: "public_chat" });
  await join(bob, empty);
  await say(carol, empty, "bye");
  await member(carol, empty, carol.userId, "leave");

  const filters = [lazy(3), lazy(1), lazy(10, { include_redundant_members: true }), lazy(3, { not_types: ["m.room.topic"] })];
  // One after the other: the members a device was sent are tracked per device, and an initial sync
  // starts that record afresh.
  const before: Array<Record<string, Json>> = [];
  for (const f of filters) before.push(await initial(bob, f));

  // What the in-memory path says, for the record.
  const summary = (r: Json) => r.summary as Json;
  // Heroes by arrival of their current member event: carol's rename came after dave's invite.
  assert.deepEqual(summary(before[0]![open]!), { "m.joined_member_count": 3, "m.invited_member_count": 1, "m.heroes": [alice.userId, dave.userId, carol.userId] });
  assert.deepEqual(summary(before[0]![named]!), { "m.joined_member_count": 2, "m.invited_member_count": 0 });
  assert.deepEqual(summary(before[0]![empty]!), { "m.joined_member_count": 1, "m.invited_member_count": 0, "m.heroes": [carol.userId] });
  const stateOf = (r: Json) => ((r.state as { events: Json[] }).events ?? []).map((e) => `${e.type as string}|${e.state_key as string}`).sort();
  // Limit 3: the timeline is carol's rename, the topic and "newest"; before it: carol's previous
  // member event and the previous topic (none: the room had no topic), alice (a sender) and bob.
  assert.ok(stateOf(before[0]![open]!).includes(`m.room.member|${carol.userId}`));
  assert.ok(!stateOf(before[0]![open]!).includes(`m.room.member|${frank.userId}`), "lazy members: only senders and the user");

  s = await s.restart();
  const afterRestart = [];
  for (const f of filters) afterRestart.push(await initial(bob, f));
  for (let i = 0; i < filters.length; i++) assert.deepEqual(normalAll(afterRestart[i]!), normalAll(before[i]!), `filter ${i}`);
});

test("a room whose state changes while it is not in memory answers with the change", async () => {
  const r = await room(alice, { preset: "public_chat" });
  await join(bob, r);
  await say(alice, r, "one");
  s = await s.restart();
  // After the restart, written before any sync (the writer loads the room to write; the
  // sync then finds it in memory) and then, after another restart, read cold.
  await join(carol, r);
  await ok("PUT", `/rooms/${encodeURIComponent(r)}/state/m.room.name`, alice, { name: "Renamed" });
  const warm = await initial(bob, lazy(2));
  s = await s.restart();
  const cold = await initial(bob, lazy(2));
  assert.deepEqual(normal(cold[r]), normal(warm[r]));
  assert.deepEqual((cold[r]!.summary as Json)["m.joined_member_count"], 3);
  assert.equal((cold[r]!.summary as Json)["m.heroes"], undefined, "named now: no heroes");
});
