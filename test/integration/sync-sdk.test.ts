// /sync through matrix-js-sdk: two syncing clients see each other's messages, typing and receipts,
// unread counts that drop to zero when read, in a 300-member room with lazy-loaded members; and
// the room sections a client needs: invites with stripped state, leaves, summaries with heroes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";
import { client, sdk } from "../helpers/sdk.js";

const C = "/_matrix/client/v3";
let s: TestServer;
let alice: TestUser, bob: TestUser;
let A: sdk.MatrixClient, B: sdk.MatrixClient;
let roomId: string;
const MEMBERS = 300;

/** Polls a condition (the test runner's timeout bounds the wait). */
async function until(what: string, fn: () => boolean): Promise<void> {
  for (let i = 0; i < 800; i++) {
    if (fn()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function started(c: sdk.MatrixClient): Promise<void> {
  const ready = new Promise<void>((resolve) => {
    c.on(sdk.ClientEvent.Sync, (state) => {
      if (state === sdk.SyncState.Prepared || state === sdk.SyncState.Syncing) resolve();
    });
  });
  await c.startClient({ lazyLoadMembers: true, initialSyncLimit: 10 });
  await ready;
}

before(async () => {
  s = await startTestServer();
  [alice, bob] = [await s.user("alice"), await s.user("bob")];
  // A 300-member room, built through the services (the HTTP path is tested elsewhere).
  roomId = (await s.app.rooms.create({ userId: alice.userId, deviceId: alice.deviceId }, { preset: "public_chat", name: "Agora" })).room_id;
  await s.app.membership.join(bob.userId, roomId);
  for (let i = 0; i < MEMBERS - 2; i++) {
    const u = await s.app.accounts.createUser(`member${i}`, null);
    await s.app.membership.join(u, roomId);
  }
  A = client(s.url, { accessToken: alice.accessToken, userId: alice.userId, deviceId: alice.deviceId });
  B = client(s.url, { accessToken: bob.accessToken, userId: bob.userId, deviceId: bob.deviceId });
  await Promise.all([started(A), started(B)]);
});
after(async () => {
  A?.stopClient();
  B?.stopClient();
  await s.close();
  // matrix-js-sdk leaves timers behind for ~110 s after stopClient (test-peers.md): once the runner
  // has reported, end the process instead of waiting for them.
  setTimeout(() => process.exit(process.exitCode ?? 0), 1000).unref();
});

test("lazy-loaded members: the summary counts 300, the client loads only the senders", async () => {
  const t0 = Date.now();
  await until("bob sees the room", () => B.getRoom(roomId) !== null);
  const room = B.getRoom(roomId)!;
  if (process.env.PROBE) console.log("room seen after", Date.now() - t0, "members", room.getMembers().length);
  assert.equal(room.getJoinedMemberCount(), MEMBERS);
  assert.ok(room.getMembers().length < 50, `loaded ${room.getMembers().length} members`);
  assert.equal(room.name, "Agora");
});

test("messages, typing and receipts reach the other client", async () => {
  const roomB = B.getRoom(roomId)!;
  const { event_id } = await A.sendTextMessage(roomId, "bonjour à tous");
  await until("bob sees the message", () => roomB.getLiveTimeline().getEvents().some((e) => e.getId() === event_id));
  // The sender's member event came with the timeline (lazy loading).
  assert.ok(roomB.getMember(alice.userId));

  await A.sendTyping(roomId, true, 30000);
  await until("bob sees alice typing", () => roomB.getMember(alice.userId)?.typing === true);
  await A.sendTyping(roomId, false, 0);
  await until("alice stops typing", () => roomB.getMember(alice.userId)?.typing === false);

  const ev = roomB.findEventById(event_id)!;
  await B.sendReadReceipt(ev);
  await until("alice sees bob's receipt", () => A.getRoom(roomId)?.getUsersReadUpTo(A.getRoom(roomId)!.findEventById(event_id)!).includes(bob.userId) === true);
});

test("unread counts rise with messages and drop to zero when read (receipt from another device)", async () => {
  const roomB = B.getRoom(roomId)!;
  const first = await A.sendTextMessage(roomId, "un");
  const second = await A.sendMessage(roomId, { msgtype: "m.text", body: "deux", "m.mentions": { user_ids: [bob.userId] } } as never);
  await until("bob sees both", () => roomB.findEventById(second.event_id) !== undefined);
  await until("counts reach the client", () => roomB.getUnreadNotificationCount(sdk.NotificationCountType.Total) === 2);
  assert.equal(roomB.getUnreadNotificationCount(sdk.NotificationCountType.Highlight), 1);
  // Read up to the first from a raw HTTP call (another device): the server's count is what moves.
  await call(s.url, "POST", `${C}/rooms/${encodeURIComponent(roomId)}/receipt/m.read/${encodeURIComponent(first.event_id)}`, { token: bob.accessToken, body: {} });
  await until("one left", () => roomB.getUnreadNotificationCount(sdk.NotificationCountType.Total) === 1);
  await call(s.url, "POST", `${C}/rooms/${encodeURIComponent(roomId)}/read_markers`, { token: bob.accessToken, body: { "m.fully_read": second.event_id, "m.read": second.event_id } });
  await until("zero", () => roomB.getUnreadNotificationCount(sdk.NotificationCountType.Total) === 0);
  assert.equal(roomB.getUnreadNotificationCount(sdk.NotificationCountType.Highlight), 0);
  // Another member's count is untouched by bob's reads.
  const member = await s.user("reader");
  await s.app.membership.join(member.userId, roomId);
  await A.sendTextMessage(roomId, "trois");
  const r = await call(s.url, "GET", `${C}/sync?timeout=0`, { token: member.accessToken });
  assert.deepEqual((r.body.rooms as { join: Record<string, { unread_notifications: unknown }> }).join[roomId]!.unread_notifications, { notification_count: 1, highlight_count: 0 });
});

test("invites carry stripped state; leaves and the summary's heroes", async () => {
  const dave = await s.user("dave");
  const created = await call(s.url, "POST", `${C}/createRoom`, { token: alice.accessToken, body: { preset: "private_chat", name: "Secret", topic: "t", invite: [dave.userId] } });
  const priv = created.body.room_id as string;
  const r1 = await call(s.url, "GET", `${C}/sync?timeout=0`, { token: dave.accessToken });
  const invite = (r1.body.rooms as { invite: Record<string, { invite_state: { events: Array<{ type: string; state_key: string; content: Record<string, unknown>; sender: string }> } }> }).invite[priv]!;
  const stripped = invite.invite_state.events;
  assert.ok(stripped.some((e) => e.type === "m.room.name" && e.content.name === "Secret"));
  assert.ok(stripped.some((e) => e.type === "m.room.create"));
  assert.ok(stripped.some((e) => e.type === "m.room.member" && e.state_key === dave.userId && e.content.membership === "invite"));
  for (const e of stripped) for (const k of ["type", "state_key", "sender", "content"]) assert.ok(k in e, k);

  // Join, then the summary of an unnamed room names heroes.
  const dm = (await call(s.url, "POST", `${C}/createRoom`, { token: alice.accessToken, body: { preset: "private_chat", invite: [dave.userId] } })).body.room_id as string;
  await call(s.url, "POST", `${C}/join/${encodeURIComponent(dm)}`, { token: dave.accessToken });
  const r2 = await call(s.url, "GET", `${C}/sync?timeout=0&since=${r1.body.next_batch as string}`, { token: dave.accessToken });
  const joined = (r2.body.rooms as { join: Record<string, { summary: Record<string, unknown> }> }).join[dm]!;
  assert.deepEqual(joined.summary, { "m.joined_member_count": 2, "m.invited_member_count": 0, "m.heroes": [alice.userId] });

  // Leaving: the room moves to leave with its timeline up to the leave.
  await call(s.url, "POST", `${C}/rooms/${encodeURIComponent(dm)}/leave`, { token: dave.accessToken, body: {} });
  const r3 = await call(s.url, "GET", `${C}/sync?timeout=0&since=${r2.body.next_batch as string}`, { token: dave.accessToken });
  const left = (r3.body.rooms as { leave: Record<string, { timeline: { events: Array<{ type: string; state_key?: string; content: Record<string, unknown> }> } }> }).leave[dm]!;
  assert.ok(left.timeline.events.some((e) => e.type === "m.room.member" && e.state_key === dave.userId && e.content.membership === "leave"));
  assert.ok(!(dm in (r3.body.rooms as { join: Record<string, unknown> }).join));
});

test("knocks carry stripped state in rooms.knock", async () => {
  const erin = await s.user("erin");
  const created = await call(s.url, "POST", `${C}/createRoom`, {
    token: alice.accessToken,
    body: { preset: "private_chat", name: "Knock knock", initial_state: [{ type: "m.room.join_rules", state_key: "", content: { join_rule: "knock" } }] },
  });
  const roomId2 = created.body.room_id as string;
  const first = await call(s.url, "GET", `${C}/sync?timeout=0`, { token: erin.accessToken });
  const k = await call(s.url, "POST", `${C}/knock/${encodeURIComponent(roomId2)}`, { token: erin.accessToken, body: { reason: "let me in" } });
  assert.equal(k.status, 200, JSON.stringify(k.body));
  const next = await call(s.url, "GET", `${C}/sync?timeout=0&since=${first.body.next_batch as string}`, { token: erin.accessToken });
  const knock = (next.body.rooms as { knock: Record<string, { knock_state: { events: Array<{ type: string; state_key: string; content: Record<string, unknown> }> } }> }).knock[roomId2]!;
  assert.ok(knock.knock_state.events.some((e) => e.type === "m.room.name" && e.content.name === "Knock knock"));
  assert.ok(knock.knock_state.events.some((e) => e.type === "m.room.member" && e.state_key === erin.userId && e.content.membership === "knock"));
  assert.ok(!(roomId2 in (next.body.rooms as { join: Record<string, unknown> }).join));
});
