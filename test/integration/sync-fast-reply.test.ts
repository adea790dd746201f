// /sync answers are written straight to node:http (src/http/fast-reply.ts) instead of through
// fastify's reply path: the bytes on the wire (status line, every header in order, the body) must be
// those of the normal path, errors must still be Matrix errors with their CORS headers, the request
// is still logged, and a woken long-poll is answered the same way.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { connect } from "node:net";
import { PassThrough } from "node:stream";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";
import { publicRoom, sendMany, join } from "../helpers/rooms.js";
import { createLogger } from "../../src/log.js";
import { setFastReplies } from "../../src/http/fast-reply.js";
import { setSyncShortcuts } from "../../src/sync/sync.js";
import { deviceIdentity, fallbackKey, oneTimeKeys } from "../helpers/e2ee-keys.js";

const C = "/_matrix/client/v3";
const enc = encodeURIComponent;
let s: TestServer;
let alice: TestUser;
let bob: TestUser;
let room: string;
let logs = "";

before(async () => {
  const stream = new PassThrough();
  stream.on("data", (d: Buffer) => (logs += d.toString()));
  s = await startTestServer({ log: createLogger("info", stream) });
  alice = await s.user("alice");
  bob = await s.user("bob");
  room = await publicRoom(s, alice, "fast");
  await join(s, bob, room);
});
after(async () => {
  setFastReplies(true);
  setSyncShortcuts(true);
  await s.close();
});

/** One raw HTTP/1.1 exchange on its own connection: the response exactly as it came off the socket. */
function raw(path: string, token?: string, method = "GET"): Promise<string> {
  const { hostname, port } = new URL(s.url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname);
    let data = Buffer.alloc(0);
    sock.on("data", (d: Buffer) => {
      data = Buffer.concat([data, d]);
      const text = data.toString("latin1");
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) return;
      const len = /\r\ncontent-length: (\d+)\r\n/i.exec(text.slice(0, end + 2));
      if (method === "HEAD" || (len && data.length >= end + 4 + Number(len[1]))) {
        sock.destroy();
        resolve(data.toString("utf8"));
      }
    });
    sock.on("error", reject);
    sock.write(`${method} ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n${token ? `Authorization: Bearer ${token}\r\n` : ""}\r\n`);
  });
}

/** The Date header is the only part that may differ between two answers a moment apart. */
const undated = (r: string) => r.replace(/\r\nDate: [^\r]*\r\n/i, "\r\nDate: -\r\n");

/** Both paths, one after the other, for the same request. */
async function bothPaths(path: string, token?: string, method = "GET"): Promise<{ fast: string; normal: string }> {
  setFastReplies(true);
  const fast = await raw(path, token, method);
  setFastReplies(false);
  try {
    return { fast, normal: await raw(path, token, method) };
  } finally {
    setFastReplies(true);
  }
}

test("a /sync answer is byte for byte the normal path's: status line, headers in order, body", async () => {
  const first = await call(s.url, "GET", `${C}/sync?timeout=0`, { token: bob.accessToken });
  const since = first.body.next_batch as string;
  await sendMany(s, alice, room, 2);
  // No unsigned (its age moves between two calls): everything else of a sync with content.
  const filter = enc(JSON.stringify({ event_fields: ["type", "content", "sender", "event_id", "room_id"] }));
  const path = `${C}/sync?timeout=0&since=${enc(since)}&filter=${filter}`;
  const { fast, normal } = await bothPaths(path, bob.accessToken);
  assert.equal(undated(fast), undated(normal));
  assert.match(fast, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(fast, /\r\naccess-control-allow-origin: \*\r\n/);
  assert.match(fast, /\r\ncontent-type: application\/json; charset=utf-8\r\n/);
  const body = JSON.parse(fast.slice(fast.indexOf("\r\n\r\n") + 4)) as { rooms: { join: Record<string, { timeline: { events: unknown[] } }> } };
  assert.equal(body.rooms.join[room]!.timeline.events.length, 2);
  // An initial sync (state, summary, unsigned) parses to the same response either way.
  const init = await bothPaths(`${C}/sync?timeout=0&filter=${filter}`, bob.accessToken);
  assert.equal(undated(init.fast), undated(init.normal));
});

test("errors and HEAD keep the normal path, with their CORS headers", async () => {
  const noToken = await bothPaths(`${C}/sync?timeout=0`);
  assert.equal(undated(noToken.fast), undated(noToken.normal));
  assert.match(noToken.fast, /^HTTP\/1\.1 401 /);
  assert.match(noToken.fast, /\r\naccess-control-allow-origin: \*\r\n/);
  assert.match(noToken.fast, /"errcode":"M_MISSING_TOKEN"/);
  const bad = await bothPaths(`${C}/sync?timeout=0&full_state=maybe`, bob.accessToken);
  assert.equal(undated(bad.fast), undated(bad.normal));
  assert.match(bad.fast, /^HTTP\/1\.1 400 /);
  const head = await bothPaths(`${C}/sync?timeout=0&since=${enc((await call(s.url, "GET", `${C}/sync?timeout=0`, { token: bob.accessToken })).body.next_batch as string)}`, bob.accessToken, "HEAD");
  assert.equal(undated(head.fast), undated(head.normal));
});

test("a woken long-poll is answered through the fast path, and every /sync is still logged", async () => {
  const since = (await call(s.url, "GET", `${C}/sync?timeout=0`, { token: bob.accessToken })).body.next_batch as string;
  const before = logs.length;
  const polling = raw(`${C}/sync?timeout=10000&since=${enc(since)}`, bob.accessToken);
  await new Promise((r) => setTimeout(r, 100));
  await sendMany(s, alice, room, 1);
  const res = await polling;
  assert.match(res, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(res, /\r\naccess-control-allow-methods: GET, POST, PUT, DELETE, OPTIONS\r\n/);
  const body = JSON.parse(res.slice(res.indexOf("\r\n\r\n") + 4)) as { rooms: { join: Record<string, { timeline: { events: { content: { body: string } }[] } }> } };
  assert.equal(body.rooms.join[room]!.timeline.events.length, 1);
  // The request line of the log (onResponse hook) with its status.
  await new Promise((r) => setTimeout(r, 50));
  const lines = logs.slice(before).split("\n").filter((l) => l.includes('"msg":"request"') && l.includes("/sync"));
  assert.ok(lines.some((l) => l.includes('"status":200')), lines.join("\n"));
});

test("a long-poll whose client has gone is woken without harm, and the next sync is answered", async () => {
  const since = (await call(s.url, "GET", `${C}/sync?timeout=0`, { token: bob.accessToken })).body.next_batch as string;
  const { hostname, port } = new URL(s.url);
  const sock = connect(Number(port), hostname);
  await new Promise<void>((r) => sock.on("connect", () => r()));
  sock.write(`GET ${C}/sync?timeout=10000&since=${enc(since)} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${bob.accessToken}\r\n\r\n`);
  await new Promise((r) => setTimeout(r, 100));
  sock.destroy();
  await new Promise((r) => setTimeout(r, 50));
  await sendMany(s, alice, room, 1);
  await new Promise((r) => setTimeout(r, 100));
  const next = await call(s.url, "GET", `${C}/sync?timeout=0&since=${enc(since)}`, { token: bob.accessToken });
  assert.equal(next.status, 200);
  assert.ok((next.body.rooms as { join: Record<string, unknown> }).join[room]);
});

test("an incremental sync with nothing new is byte for byte build()'s answer (the quiet shortcut)", async () => {
  // A user with something in every part build() looks at: keys (counts, an unused fallback key),
  // a joined room, a left room, an invite, account data (global and per room).
  const carol = await s.user("carol");
  const id = deviceIdentity(carol.userId, carol.deviceId);
  const up = await call(s.url, "POST", `${C}/keys/upload`, { token: carol.accessToken, body: { device_keys: id.deviceKeys, one_time_keys: oneTimeKeys(id.ed, carol.userId, carol.deviceId, 3), fallback_keys: fallbackKey(id.ed, carol.userId, carol.deviceId) } });
  assert.equal(up.status, 200);
  await join(s, carol, room);
  const left = await publicRoom(s, alice, "left");
  await join(s, carol, left);
  assert.equal((await call(s.url, "POST", `${C}/rooms/${enc(left)}/leave`, { token: carol.accessToken, body: {} })).status, 200);
  const invited = await publicRoom(s, alice, "invited");
  assert.equal((await call(s.url, "POST", `${C}/rooms/${enc(invited)}/invite`, { token: alice.accessToken, body: { user_id: carol.userId } })).status, 200);
  assert.equal((await call(s.url, "PUT", `${C}/user/${enc(carol.userId)}/account_data/org.example.a`, { token: carol.accessToken, body: { a: 1 } })).status, 200);
  assert.equal((await call(s.url, "PUT", `${C}/user/${enc(carol.userId)}/rooms/${enc(room)}/account_data/org.example.b`, { token: carol.accessToken, body: { b: 2 } })).status, 200);
  await sendMany(s, alice, room, 2);
  const elsewhere = await publicRoom(s, alice, "elsewhere");
  await s.app.e2ee.deviceLists.settled();
  const since = (await call(s.url, "GET", `${C}/sync?timeout=0`, { token: carol.accessToken })).body.next_batch as string;
  // News elsewhere (a room carol is not in): the room stream moves, nothing concerns her.
  await sendMany(s, alice, elsewhere, 2);

  const sync = s.app.sync as unknown as { buildQuiet: (...a: unknown[]) => unknown };
  const original = sync.buildQuiet;
  let quietAnswers = 0;
  sync.buildQuiet = function (this: unknown, ...a: unknown[]) {
    quietAnswers++;
    return original.apply(this, a);
  };
  try {
    const filters = ["", `&filter=${enc(JSON.stringify({ room: { state: { lazy_load_members: true }, timeline: { limit: 5 } } }))}`, `&filter=${enc(JSON.stringify({ room: { rooms: [room] }, account_data: { not_types: ["org.example.a"] } }))}`];
    for (const f of filters) {
      const path = `${C}/sync?timeout=0&since=${enc(since)}${f}`;
      setSyncShortcuts(true);
      const quiet = await raw(path, carol.accessToken);
      setSyncShortcuts(false);
      const built = await raw(path, carol.accessToken);
      setSyncShortcuts(true);
      assert.equal(undated(quiet), undated(built));
      const body = JSON.parse(quiet.slice(quiet.indexOf("\r\n\r\n") + 4)) as Record<string, unknown>;
      assert.deepEqual(body.device_one_time_keys_count, { signed_curve25519: 3 });
      assert.deepEqual(body.device_unused_fallback_key_types, ["signed_curve25519"]);
    }
    assert.equal(quietAnswers, filters.length, "each quiet answer came from the shortcut");
  } finally {
    sync.buildQuiet = original;
    setSyncShortcuts(true);
  }
});

test("an incremental sync that visits only the rooms with news is byte for byte the one that visits them all", async () => {
  // Since the token: a message, typing, a receipt, room account data, an invite, a leave and a
  // join, each in its own room, beside rooms where nothing happened.
  const dave = await s.user("dave");
  const rooms: string[] = [];
  for (let i = 0; i < 10; i++) {
    rooms.push(await publicRoom(s, alice, `r${i}`));
    await join(s, dave, rooms[i]!);
  }
  const invited = await publicRoom(s, alice, "later-invite");
  const joinedLater = await publicRoom(s, alice, "later-join");
  await sendMany(s, alice, rooms[2]!, 1);
  await s.app.e2ee.deviceLists.settled();
  const since = (await call(s.url, "GET", `${C}/sync?timeout=0`, { token: dave.accessToken })).body.next_batch as string;
  await sendMany(s, alice, rooms[7]!, 2);
  assert.equal((await call(s.url, "PUT", `${C}/rooms/${enc(rooms[4]!)}/typing/${enc(alice.userId)}`, { token: alice.accessToken, body: { typing: true, timeout: 30000 } })).status, 200);
  const last = (await call(s.url, "GET", `${C}/rooms/${enc(rooms[2]!)}/messages?dir=b&limit=1`, { token: alice.accessToken })).body.chunk as Array<{ event_id: string }>;
  assert.equal((await call(s.url, "POST", `${C}/rooms/${enc(rooms[2]!)}/receipt/m.read/${enc(last[0]!.event_id)}`, { token: alice.accessToken, body: {} })).status, 200);
  assert.equal((await call(s.url, "PUT", `${C}/user/${enc(dave.userId)}/rooms/${enc(rooms[5]!)}/account_data/org.example.c`, { token: dave.accessToken, body: { c: 3 } })).status, 200);
  assert.equal((await call(s.url, "POST", `${C}/rooms/${enc(invited)}/invite`, { token: alice.accessToken, body: { user_id: dave.userId } })).status, 200);
  assert.equal((await call(s.url, "POST", `${C}/rooms/${enc(rooms[8]!)}/leave`, { token: dave.accessToken, body: {} })).status, 200);
  await join(s, dave, joinedLater);
  await s.app.e2ee.deviceLists.settled();
  // No unsigned (its age moves between two calls); lazy members with redundant ones (the first
  // call would otherwise record the members it sent, and the second leave them out).
  const fields = { event_fields: ["type", "content", "sender", "event_id", "room_id", "state_key"] };
  const filters = [fields, { ...fields, room: { state: { lazy_load_members: true, include_redundant_members: true }, timeline: { limit: 1 } } }, { ...fields, room: { not_rooms: [rooms[7]] } }];
  try {
    for (const f of filters) {
      const path = `${C}/sync?timeout=0&since=${enc(since)}&filter=${enc(JSON.stringify(f))}`;
      setSyncShortcuts(true);
      const visited = await raw(path, dave.accessToken);
      setSyncShortcuts(false);
      const all = await raw(path, dave.accessToken);
      setSyncShortcuts(true);
      assert.equal(undated(visited), undated(all));
      const body = JSON.parse(visited.slice(visited.indexOf("\r\n\r\n") + 4)) as { rooms: Record<string, Record<string, unknown>> };
      assert.ok(body.rooms.invite[invited] && body.rooms.leave[rooms[8]!] && body.rooms.join[joinedLater] && body.rooms.join[rooms[4]!] && body.rooms.join[rooms[2]!] && body.rooms.join[rooms[5]!]);
      assert.equal(body.rooms.join[rooms[0]!], undefined);
    }
  } finally {
    setSyncShortcuts(true);
  }
});
