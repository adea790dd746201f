// The rooms scenario end to end with three matrix-js-sdk clients: edits, reactions and their
// aggregation, threads and /threads, redaction gone for everyone on every read path, aliases,
// search, kick/ban/unban, leave and forget.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { client, sdk, expectError } from "../helpers/sdk.js";
import { call } from "../helpers/http.js";

let s: TestServer;
let alice: TestUser, bob: TestUser, carol: TestUser;
let A: sdk.MatrixClient, B: sdk.MatrixClient, C: sdk.MatrixClient;
const enc = encodeURIComponent;

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

type Ev = { event_id: string; type: string; sender: string; content: Record<string, unknown>; unsigned?: Record<string, unknown> };
const send = async (c: sdk.MatrixClient, roomId: string, content: Record<string, unknown>, type = "m.room.message") =>
  (await c.sendEvent(roomId, type as never, content as never)).event_id;

test("edit, react, thread, redact: aggregations visible, redactions gone everywhere", async () => {
  const { room_id } = await A.createRoom({ preset: sdk.Preset.TrustedPrivateChat, invite: [bob.userId, carol.userId] });
  await B.joinRoom(room_id);
  await C.joinRoom(room_id);

  // Edit: the original carries the replacement in unsigned.m.relations (server-side aggregation).
  const original = await send(A, room_id, { msgtype: "m.text", body: "helo" });
  const edit = await send(A, room_id, { msgtype: "m.text", body: "* hello", "m.new_content": { msgtype: "m.text", body: "hello" }, "m.relates_to": { rel_type: "m.replace", event_id: original } });
  const seenByBob = (await B.fetchRoomEvent(room_id, original)) as unknown as Ev;
  assert.equal(((seenByBob.unsigned?.["m.relations"] as Record<string, { event_id: string }>)["m.replace"]).event_id, edit);

  // Reactions: each client's annotation is a child of the event, listed by /relations.
  const r1 = await send(B, room_id, { "m.relates_to": { rel_type: "m.annotation", event_id: original, key: "👍" } }, "m.reaction");
  const r2 = await send(C, room_id, { "m.relates_to": { rel_type: "m.annotation", event_id: original, key: "👍" } }, "m.reaction");
  const reactions = await A.fetchRelations(room_id, original, "m.annotation", "m.reaction");
  assert.deepEqual(new Set(reactions.chunk.map((e) => e.event_id)), new Set([r1, r2]));
  assert.deepEqual(reactions.chunk.map((e) => (e.content["m.relates_to"] as { key: string }).key), ["👍", "👍"]);

  // A thread: replies from two users; the root shows the thread summary; /threads lists it.
  const root = await send(A, room_id, { msgtype: "m.text", body: "thread root" });
  const replies: string[] = [];
  for (const [c, body] of [[B, "reply 1"], [C, "reply 2"], [B, "reply 3"]] as const) {
    replies.push(await send(c, room_id, { msgtype: "m.text", body, "m.relates_to": { rel_type: "m.thread", event_id: root } }));
  }
  const rootEv = (await C.fetchRoomEvent(room_id, root)) as unknown as Ev;
  const summary = (rootEv.unsigned?.["m.relations"] as Record<string, { count: number; latest_event: { event_id: string }; current_user_participated: boolean }>)["m.thread"];
  assert.equal(summary.count, 3);
  assert.equal(summary.latest_event.event_id, replies[2]);
  assert.equal(summary.current_user_participated, true);
  // (The SDK picks the stable /threads path only after a /versions check done by startClient.)
  const threadList = (c: sdk.MatrixClient, include: string) =>
    c.http.authedRequest<{ chunk: Ev[] }>(sdk.Method.Get, `/rooms/${enc(room_id)}/threads`, { include, limit: "10" }, undefined, { prefix: "/_matrix/client/v1" });
  assert.deepEqual((await threadList(A, "all")).chunk.map((e) => e.event_id), [root]);
  assert.deepEqual((await threadList(B, "participated")).chunk.map((e) => e.event_id), [root]);
  assert.deepEqual((await threadList(A, "participated")).chunk.map((e) => e.event_id), [root]);
  // Raw: without a /versions check the SDK names threads by their unstable relation type.
  const threadChildren = (c: sdk.MatrixClient) =>
    c.http.authedRequest<{ chunk: Ev[] }>(sdk.Method.Get, `/rooms/${enc(room_id)}/relations/${enc(root)}/m.thread`, undefined, undefined, { prefix: "/_matrix/client/v1" });
  const inThread = await threadChildren(A);
  assert.deepEqual(inThread.chunk.map((e) => e.event_id), [...replies].reverse());

  // Redact the second reply: its content is gone for everyone, on /event, /messages, /context, /relations.
  await C.redactEvent(room_id, replies[1]!);
  for (const c of [A, B, C]) {
    const ev = (await c.fetchRoomEvent(room_id, replies[1]!)) as unknown as Ev;
    assert.deepEqual(ev.content, {});
    const msgs = await c.createMessagesRequest(room_id, null, 100, sdk.Direction.Backward);
    assert.ok(!msgs.chunk.some((e) => e.content.body === "reply 2"));
    assert.deepEqual(msgs.chunk.find((e) => e.event_id === replies[1])?.content, {});
    const ctx = (await c.http.authedRequest(sdk.Method.Get, `/rooms/${enc(room_id)}/context/${enc(replies[2]!)}`, { limit: "6" })) as { events_before: Ev[] };
    assert.deepEqual(ctx.events_before.find((e) => e.event_id === replies[1])?.content, {});
    const rel = await threadChildren(c);
    // The redaction removed its m.relates_to: it is no longer in the thread at all.
    assert.deepEqual(rel.chunk.map((e) => e.event_id), [replies[2], replies[0]]);
    assert.ok(!rel.chunk.some((e) => e.content.body === "reply 2"));
  }
});

test("aliases: create, resolve, list, join by alias, delete; only for members and with power", async () => {
  const { room_id } = await A.createRoom({ preset: sdk.Preset.PublicChat });
  await A.createAlias("#scenario-one:rempart.test", room_id);
  await A.createAlias("#scenario-two:rempart.test", room_id);
  assert.equal((await C.getRoomIdForAlias("#scenario-one:rempart.test")).room_id, room_id);
  assert.deepEqual((await A.getLocalAliases(room_id)).aliases, ["#scenario-one:rempart.test", "#scenario-two:rempart.test"]);
  await expectError(A.createAlias("#scenario-one:rempart.test", room_id), "M_UNKNOWN", 409);
  await expectError(C.createAlias("#scenario-three:rempart.test", room_id), "M_FORBIDDEN", 403);
  await expectError(A.createAlias("#elsewhere:matrix.org", room_id), "M_INVALID_PARAM", 400);
  await C.joinRoom("#scenario-two:rempart.test");
  await expectError(C.deleteAlias("#scenario-one:rempart.test"), "M_FORBIDDEN", 403);
  await A.sendStateEvent(room_id, "m.room.canonical_alias" as never, { alias: "#scenario-one:rempart.test" } as never, "");
  await expectError(A.sendStateEvent(room_id, "m.room.canonical_alias" as never, { alias: "#not-ours:rempart.test" } as never, ""), "M_BAD_ALIAS", 400);
  await A.deleteAlias("#scenario-two:rempart.test");
  await expectError(C.getRoomIdForAlias("#scenario-two:rempart.test"), "M_NOT_FOUND", 404);
  assert.deepEqual((await A.getLocalAliases(room_id)).aliases, ["#scenario-one:rempart.test"]);
});

test("search: members find messages of their rooms, never of rooms they are not in", async () => {
  const { room_id } = await A.createRoom({ preset: sdk.Preset.PrivateChat });
  await A.invite(room_id, bob.userId);
  await B.joinRoom(room_id);
  await A.sendTextMessage(room_id, "the quarterly zanzibar report");
  await A.sendTextMessage(room_id, "unrelated chatter");
  const res = (await B.search({ body: { search_categories: { room_events: { search_term: "zanzibar" } } } })) as unknown as {
    search_categories: { room_events: { results: Array<{ result: Ev }>; count: number } };
  };
  assert.deepEqual(res.search_categories.room_events.results.map((r) => r.result.content.body), ["the quarterly zanzibar report"]);
  const carols = (await C.search({ body: { search_categories: { room_events: { search_term: "zanzibar" } } } })) as unknown as typeof res;
  assert.equal(carols.search_categories.room_events.results.length, 0);
});

test("moderation: kick, ban, banned join refused, unban, rejoin by invite, leave and forget", async () => {
  const { room_id } = await A.createRoom({ preset: sdk.Preset.PublicChat });
  await B.joinRoom(room_id);
  await C.joinRoom(room_id);
  await expectError(B.kick(room_id, carol.userId), "M_FORBIDDEN", 403);
  await A.kick(room_id, carol.userId, "calm down");
  await C.joinRoom(room_id);
  await A.ban(room_id, carol.userId, "enough");
  await expectError(C.joinRoom(room_id), "M_FORBIDDEN", 403);
  await expectError(C.sendTextMessage(room_id, "let me in"), "M_FORBIDDEN", 403);
  await expectError(B.unban(room_id, carol.userId), "M_FORBIDDEN", 403);
  await A.unban(room_id, carol.userId);
  await C.joinRoom(room_id);
  const members = await A.members(room_id);
  assert.equal(members.chunk.find((e) => e.state_key === carol.userId)?.content.membership, "join");
  // Forget needs a leave first; then the room is gone from the user's lists.
  const early = await call(s.url, "POST", `/_matrix/client/v3/rooms/${enc(room_id)}/forget`, { token: carol.accessToken, body: {} });
  assert.equal(early.status, 400);
  await C.leave(room_id);
  await C.forget(room_id);
  assert.ok(!(await C.getJoinedRooms()).joined_rooms.includes(room_id));
  await expectError(C.sendTextMessage(room_id, "gone"), "M_FORBIDDEN", 403);
});
