// Rooms through matrix-js-sdk: presets, invite/join, 200 messages paginated back in pages of 50,
// context, redaction, kick/ban/unban, leave/forget, refusals and idempotent transactions.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { client, sdk, expectError } from "../helpers/sdk.js";
import { call } from "../helpers/http.js";

let s: TestServer;
let alice: TestUser, bob: TestUser, carol: TestUser;
let A: sdk.MatrixClient, B: sdk.MatrixClient, C: sdk.MatrixClient;

before(async () => {
  s = await startTestServer();
  [alice, bob, carol] = [await s.user("alice"), await s.user("bob"), await s.user("carol")];
  A = client(s.url, { accessToken: alice.accessToken, userId: alice.userId, deviceId: alice.deviceId });
  B = client(s.url, { accessToken: bob.accessToken, userId: bob.userId, deviceId: bob.deviceId });
  C = client(s.url, { accessToken: carol.accessToken, userId: carol.userId, deviceId: carol.deviceId });
});
after(async () => {
  await s.close();
});

test("each preset creates the state the spec lists", async () => {
  for (const [preset, joinRule, guest] of [
    ["private_chat", "invite", "can_join"],
    ["trusted_private_chat", "invite", "can_join"],
    ["public_chat", "public", "forbidden"],
  ] as const) {
    const { room_id } = await A.createRoom({ preset: preset as sdk.Preset, name: `Room ${preset}`, topic: "t" });
    const state = (await A.roomState(room_id)) as unknown as Array<{ type: string; content: Record<string, unknown>; state_key: string }>;
    const get = (t: string) => state.find((e) => e.type === t)?.content;
    assert.equal(get("m.room.join_rules")?.join_rule, joinRule);
    assert.equal(get("m.room.history_visibility")?.history_visibility, "shared");
    assert.equal(get("m.room.guest_access")?.guest_access, guest);
    assert.equal(get("m.room.name")?.name, `Room ${preset}`);
    assert.equal(get("m.room.create")?.room_version, "10");
    assert.equal((get("m.room.power_levels")?.users as Record<string, number>)[alice.userId], 100);
  }
});

test("invite, join, 200 messages, paginate back in pages of 50 down to the creation event", async () => {
  const { room_id } = await A.createRoom({ preset: sdk.Preset.PrivateChat });
  await A.invite(room_id, bob.userId);
  await B.joinRoom(room_id);
  for (let i = 0; i < 200; i++) await (i % 2 ? B : A).sendTextMessage(room_id, `message ${i}`);
  const seen: string[] = [];
  let from: string | undefined;
  let pages = 0;
  for (;;) {
    const res = await B.createMessagesRequest(room_id, from ?? null, 50, sdk.Direction.Backward);
    pages++;
    for (const e of res.chunk) seen.push(e.type === "m.room.message" ? String(e.content.body) : e.type);
    if (!res.end || res.chunk.length === 0) break;
    from = res.end;
  }
  const bodies = seen.filter((x) => x.startsWith("message "));
  assert.equal(bodies.length, 200);
  assert.deepEqual(bodies, Array.from({ length: 200 }, (_, i) => `message ${199 - i}`));
  assert.equal(seen[seen.length - 1], "m.room.create");
  assert.ok(pages >= 5);
  const joined = await B.getJoinedRooms();
  assert.ok(joined.joined_rooms.includes(room_id));
});

test("refusals: non-member reads, uninvited join, no power, banned join", async () => {
  const { room_id } = await A.createRoom({ preset: sdk.Preset.PrivateChat });
  await expectError(C.createMessagesRequest(room_id, null, 10, sdk.Direction.Backward), "M_FORBIDDEN", 403);
  await expectError(C.joinRoom(room_id), "M_FORBIDDEN", 403);
  await A.invite(room_id, bob.userId);
  await B.joinRoom(room_id);
  await expectError(B.sendStateEvent(room_id, "m.room.name" as never, { name: "nope" } as never, ""), "M_FORBIDDEN", 403);
  await A.ban(room_id, carol.userId, "spam");
  await expectError(C.joinRoom(room_id), "M_FORBIDDEN", 403);
  await A.unban(room_id, carol.userId);
  await A.invite(room_id, carol.userId);
  await C.joinRoom(room_id);
  await A.kick(room_id, carol.userId, "bye");
  const members = await A.members(room_id);
  const carolMember = members.chunk.find((e) => e.state_key === carol.userId);
  assert.equal(carolMember?.content.membership, "leave");
});

test("a replayed txnId returns the first event id and stores nothing new", async () => {
  const { room_id } = await A.createRoom({ preset: sdk.Preset.PrivateChat });
  const path = `/_matrix/client/v3/rooms/${encodeURIComponent(room_id)}/send/m.room.message/txn-1`;
  const r1 = await call(s.url, "PUT", path, { token: alice.accessToken, body: { msgtype: "m.text", body: "once" } });
  const r2 = await call(s.url, "PUT", path, { token: alice.accessToken, body: { msgtype: "m.text", body: "once" } });
  assert.equal(r1.status, 200);
  assert.equal(r2.body.event_id, r1.body.event_id);
  const msgs = await A.createMessagesRequest(room_id, null, 100, sdk.Direction.Backward);
  assert.equal(msgs.chunk.filter((e) => e.content.body === "once").length, 1);
});

test("a txnId replayed after its sender left the room still answers its first event (idempotent), and a new one is refused", async () => {
  const { room_id } = await A.createRoom({ preset: sdk.Preset.PublicChat });
  await B.joinRoom(room_id);
  const path = (txn: string) => `/_matrix/client/v3/rooms/${encodeURIComponent(room_id)}/send/m.room.message/${txn}`;
  const first = await call(s.url, "PUT", path("left-1"), { token: bob.accessToken, body: { msgtype: "m.text", body: "before leaving" } });
  assert.equal(first.status, 200);
  await B.leave(room_id);
  const again = await call(s.url, "PUT", path("left-1"), { token: bob.accessToken, body: { msgtype: "m.text", body: "before leaving" } });
  assert.deepEqual([again.status, again.body.event_id], [200, first.body.event_id]);
  const fresh = await call(s.url, "PUT", path("left-2"), { token: bob.accessToken, body: { msgtype: "m.text", body: "after leaving" } });
  assert.deepEqual([fresh.status, fresh.body.errcode], [403, "M_FORBIDDEN"]);
});

test("context, redaction gone everywhere, leave and forget", async () => {
  const { room_id } = await A.createRoom({ preset: sdk.Preset.PrivateChat });
  await A.invite(room_id, bob.userId);
  await B.joinRoom(room_id);
  const ids: string[] = [];
  for (let i = 0; i < 10; i++) ids.push((await A.sendTextMessage(room_id, `c${i}`)).event_id);
  const ctx = (await B.http.authedRequest(sdk.Method.Get, `/rooms/${encodeURIComponent(room_id)}/context/${encodeURIComponent(ids[5]!)}`, { limit: "4" })) as {
    event: { content: { body: string } };
    events_before: Array<{ content: { body: string } }>;
    events_after: Array<{ content: { body: string } }>;
  };
  assert.equal(ctx.event.content.body, "c5");
  assert.deepEqual(ctx.events_before.map((e) => e.content.body), ["c4", "c3"]);
  assert.deepEqual(ctx.events_after.map((e) => e.content.body), ["c6", "c7"]);

  await A.redactEvent(room_id, ids[5]!);
  const ev = await B.fetchRoomEvent(room_id, ids[5]!);
  assert.deepEqual(ev.content, {});
  assert.ok((ev.unsigned as Record<string, unknown>).redacted_because);
  const msgs = await B.createMessagesRequest(room_id, null, 50, sdk.Direction.Backward);
  assert.ok(!msgs.chunk.some((e) => e.content.body === "c5"));
  const ctx2 = (await B.http.authedRequest(sdk.Method.Get, `/rooms/${encodeURIComponent(room_id)}/context/${encodeURIComponent(ids[6]!)}`, { limit: "4" })) as {
    events_before: Array<{ event_id: string; content: Record<string, unknown> }>;
  };
  assert.deepEqual(ctx2.events_before.find((e) => e.event_id === ids[5])?.content, {});
  // Bob cannot redact Alice's message without the redact power level.
  await expectError(B.redactEvent(room_id, ids[6]!), "M_FORBIDDEN", 403);

  await B.leave(room_id);
  await A.sendTextMessage(room_id, "after bob left");
  const bobView = await B.createMessagesRequest(room_id, null, 50, sdk.Direction.Backward);
  assert.ok(!bobView.chunk.some((e) => e.content.body === "after bob left"));
  assert.ok(bobView.chunk.some((e) => e.content.body === "c9"));
  await B.forget(room_id);
  assert.ok(!(await B.getJoinedRooms()).joined_rooms.includes(room_id));
});
