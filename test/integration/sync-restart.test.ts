// Sync tokens survive a restart (client-server API "Syncing": next_batch is opaque and resumable): a
// client syncing from a token issued before the server restarted gets everything it missed exactly
// once — events, account data, receipts, typing — and a gap larger than the timeline limit is
// filled through prev_batch with no loss and no duplicate.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";

const C = "/_matrix/client/v3";
let s: TestServer;
let alice: TestUser, bob: TestUser;

before(async () => {
  s = await startTestServer();
  [alice, bob] = [await s.user("alice"), await s.user("bob")];
});
after(async () => {
  await s.close();
});

type Ev = { event_id: string; type: string; content: Record<string, unknown> };
type Room = { timeline: { events: Ev[]; limited: boolean; prev_batch: string }; state: { events: Ev[] }; ephemeral: { events: Ev[] } };
type Sync = { next_batch: string; rooms: { join: Record<string, Room> }; account_data: { events: Ev[] } };

async function sync(u: TestUser, since?: string, extra = ""): Promise<Sync> {
  const r = await call(s.url, "GET", `${C}/sync?timeout=0${since ? `&since=${since}` : ""}${extra}`, { token: u.accessToken });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body as unknown as Sync;
}

let txn = 0;
async function say(u: TestUser, roomId: string, body: string): Promise<string> {
  const r = await call(s.url, "PUT", `${C}/rooms/${encodeURIComponent(roomId)}/send/m.room.message/r${++txn}`, { token: u.accessToken, body: { msgtype: "m.text", body } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.event_id as string;
}

const bodies = (r: Room | undefined) => (r?.timeline.events ?? []).filter((e) => e.type === "m.room.message").map((e) => e.content.body as string);

test("a token from before a restart resumes with everything missed, exactly once", async () => {
  const created = await call(s.url, "POST", `${C}/createRoom`, { token: alice.accessToken, body: { preset: "public_chat" } });
  const roomId = created.body.room_id as string;
  assert.equal((await call(s.url, "POST", `${C}/join/${encodeURIComponent(roomId)}`, { token: bob.accessToken })).status, 200);
  await say(alice, roomId, "before-token");
  const t1 = (await sync(bob)).next_batch;

  // Written between the token and the restart.
  await say(alice, roomId, "m1");
  await say(alice, roomId, "m2");
  const m2 = (await call(s.url, "GET", `${C}/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=1`, { token: alice.accessToken })).body.chunk as Ev[];
  await call(s.url, "POST", `${C}/rooms/${encodeURIComponent(roomId)}/receipt/m.read/${encodeURIComponent(m2[0]!.event_id)}`, { token: alice.accessToken, body: {} });
  await call(s.url, "PUT", `${C}/user/${encodeURIComponent(bob.userId)}/account_data/org.example.k`, { token: bob.accessToken, body: { v: 1 } });
  await call(s.url, "PUT", `${C}/rooms/${encodeURIComponent(roomId)}/typing/${encodeURIComponent(alice.userId)}`, { token: alice.accessToken, body: { typing: true, timeout: 30000 } });

  const tTyping = (await sync(bob, t1)).next_batch;

  s = await s.restart();

  // The old access tokens still work; the old sync token too.
  const r1 = await sync(bob, t1);
  assert.deepEqual(bodies(r1.rooms.join[roomId]), ["m1", "m2"]);
  assert.ok(r1.account_data.events.some((e) => e.type === "org.example.k" && e.content.v === 1));
  const eph = r1.rooms.join[roomId]!.ephemeral.events;
  assert.ok(eph.some((e) => e.type === "m.receipt" && JSON.stringify(e.content).includes(alice.userId)), "the receipt written before the restart");

  // Written after the restart, through the new app.
  await say(alice, roomId, "m3");
  const r2 = await sync(bob, r1.next_batch);
  assert.deepEqual(bodies(r2.rooms.join[roomId]), ["m3"]);
  assert.ok(!r2.account_data.events.some((e) => e.type === "org.example.k"), "account data not repeated");
  // The same old token again gives the same answer (resuming is idempotent), plus m3.
  assert.deepEqual(bodies((await sync(bob, t1)).rooms.join[roomId]), ["m1", "m2", "m3"]);

  // Typing after the restart reaches a client whose token predates it, even once the new typing
  // counter has moved as often as the old one had.
  await call(s.url, "PUT", `${C}/rooms/${encodeURIComponent(roomId)}/typing/${encodeURIComponent(alice.userId)}`, { token: alice.accessToken, body: { typing: true, timeout: 30000 } });
  const r3 = await sync(bob, r2.next_batch);
  const typing = r3.rooms.join[roomId]?.ephemeral.events.find((e) => e.type === "m.typing");
  assert.deepEqual(typing?.content, { user_ids: [alice.userId] });
  const fromOld = await sync(bob, tTyping);
  assert.deepEqual(fromOld.rooms.join[roomId]?.ephemeral.events.find((e) => e.type === "m.typing")?.content, { user_ids: [alice.userId] });

  // A long-poll from a token issued by the new server wakes on a new message.
  const poll = call(s.url, "GET", `${C}/sync?timeout=20000&since=${r3.next_batch}`, { token: bob.accessToken });
  await new Promise((r) => setTimeout(r, 100));
  await say(alice, roomId, "m4");
  const woke = (await poll).body as unknown as Sync;
  assert.deepEqual(bodies(woke.rooms.join[roomId]), ["m4"]);
});

test("a gap larger than the timeline limit across a restart: limited, and prev_batch fills it exactly", async () => {
  const created = await call(s.url, "POST", `${C}/createRoom`, { token: alice.accessToken, body: { preset: "public_chat" } });
  const roomId = created.body.room_id as string;
  assert.equal((await call(s.url, "POST", `${C}/join/${encodeURIComponent(roomId)}`, { token: bob.accessToken })).status, 200);
  const filter = `&filter=${encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 5 } } }))}`;
  const t = (await sync(bob, undefined, filter)).next_batch;
  // A state change inside the gap: it must reach the client as state, since its event is not in the timeline.
  await call(s.url, "PUT", `${C}/rooms/${encodeURIComponent(roomId)}/state/m.room.topic`, { token: alice.accessToken, body: { topic: "in the gap" } });
  const sent: string[] = [];
  for (let i = 0; i < 12; i++) sent.push(`g${i}`), await say(alice, roomId, `g${i}`);
  s = await s.restart();
  const r = await sync(bob, t, filter);
  const room = r.rooms.join[roomId]!;
  assert.equal(room.timeline.limited, true);
  assert.deepEqual(bodies(room), sent.slice(-5));
  assert.ok(room.state.events.some((e) => e.type === "m.room.topic" && e.content.topic === "in the gap"), "state before the timeline after a gap");
  // Page back from prev_batch until the messages from before the token.
  const older: string[] = [];
  let from = room.timeline.prev_batch;
  for (let i = 0; i < 10; i++) {
    const page = await call(s.url, "GET", `${C}/rooms/${encodeURIComponent(roomId)}/messages?dir=b&limit=4&from=${from}`, { token: bob.accessToken });
    const chunk = page.body.chunk as Ev[];
    for (const e of chunk) if (e.type === "m.room.message") older.unshift(e.content.body as string);
    if (chunk.some((e) => e.type === "m.room.topic") || !page.body.end) break;
    from = page.body.end as string;
  }
  assert.deepEqual([...older, ...bodies(room)], sent, "every message once, in order");
});

test("positions are never reused after a restart, even when the newest events were purged", async () => {
  // Events purged with their room can be the newest of the stream: a server that restarted from
  // the highest position left in the table would hand the purged positions out again, and a
  // client whose token covers them would never see the events that reuse them.
  const admin = await s.user("purger", { admin: true });
  const kept = (await call(s.url, "POST", `${C}/createRoom`, { token: alice.accessToken, body: { preset: "public_chat" } })).body.room_id as string;
  assert.equal((await call(s.url, "POST", `${C}/join/${encodeURIComponent(kept)}`, { token: bob.accessToken })).status, 200);
  const doomed = (await call(s.url, "POST", `${C}/createRoom`, { token: admin.accessToken, body: { preset: "public_chat" } })).body.room_id as string;
  for (let i = 0; i < 5; i++) await say(admin, doomed, `doomed ${i}`);
  const t = (await sync(bob)).next_batch;
  const del = await call(s.url, "DELETE", `/_synapse/admin/v1/rooms/${encodeURIComponent(doomed)}`, { token: admin.accessToken, body: { purge: true } });
  assert.equal(del.status, 200, JSON.stringify(del.body));
  s = await s.restart();
  await say(alice, kept, "after the purge");
  assert.deepEqual(bodies((await sync(bob, t)).rooms.join[kept]), ["after the purge"]);
});
