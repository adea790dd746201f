// Tags, reports and room upgrades through matrix-js-sdk and raw HTTP.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { client, sdk, expectError } from "../helpers/sdk.js";
import { call } from "../helpers/http.js";

let s: TestServer;
let alice: TestUser, bob: TestUser, carol: TestUser, dave: TestUser;
let A: sdk.MatrixClient, B: sdk.MatrixClient, C: sdk.MatrixClient;
const V3 = "/_matrix/client/v3";
const enc = encodeURIComponent;

before(async () => {
  s = await startTestServer();
  [alice, bob, carol, dave] = [await s.user("alice"), await s.user("bob"), await s.user("carol"), await s.user("dave")];
  A = client(s.url, { accessToken: alice.accessToken, userId: alice.userId, deviceId: alice.deviceId });
  B = client(s.url, { accessToken: bob.accessToken, userId: bob.userId, deviceId: bob.deviceId });
  C = client(s.url, { accessToken: carol.accessToken, userId: carol.userId, deviceId: carol.deviceId });
});
after(async () => {
  await s.close();
});

type Ev = { type: string; state_key?: string; content: Record<string, unknown>; event_id: string; sender: string };
const stateOf = async (c: sdk.MatrixClient, roomId: string) => (await c.roomState(roomId)) as unknown as Ev[];
const find = (st: Ev[], type: string, key = "") => st.find((e) => e.type === type && e.state_key === key);

test("tags: set, list, order, delete; stored as m.tag room account data that /sync delivers", async () => {
  const { room_id } = await A.createRoom({ preset: sdk.Preset.PrivateChat });
  await A.setRoomTag(room_id, "m.favourite", { order: 0.25 });
  await A.setRoomTag(room_id, "u.work", {});
  assert.deepEqual((await A.getRoomTags(room_id)).tags, { "m.favourite": { order: 0.25 }, "u.work": {} });
  await A.setRoomTag(room_id, "m.favourite", { order: 0.75 });
  await A.deleteRoomTag(room_id, "u.work");
  await A.deleteRoomTag(room_id, "u.never-set");
  assert.deepEqual((await A.getRoomTags(room_id)).tags, { "m.favourite": { order: 0.75 } });

  const sync = await call(s.url, "GET", `${V3}/sync?timeout=0`, { token: alice.accessToken });
  const events = (sync.body.rooms as { join: Record<string, { account_data: { events: Ev[] } }> }).join[room_id]!.account_data.events;
  assert.deepEqual(events.find((e) => e.type === "m.tag")?.content, { tags: { "m.favourite": { order: 0.75 } } });
  const ad = await call(s.url, "GET", `${V3}/user/${enc(alice.userId)}/rooms/${enc(room_id)}/account_data/m.tag`, { token: alice.accessToken });
  assert.deepEqual(ad.body, { tags: { "m.favourite": { order: 0.75 } } });

  // Refusals: another user's tags, an order outside [0, 1], an over-long tag name, a bad room id.
  const other = await call(s.url, "GET", `${V3}/user/${enc(alice.userId)}/rooms/${enc(room_id)}/tags`, { token: bob.accessToken });
  assert.deepEqual([other.status, other.body.errcode], [403, "M_FORBIDDEN"]);
  const put = (tag: string, body: unknown, room = room_id) => call(s.url, "PUT", `${V3}/user/${enc(alice.userId)}/rooms/${enc(room)}/tags/${enc(tag)}`, { token: alice.accessToken, body });
  assert.equal((await put("u.x", { order: 2 })).status, 400);
  assert.equal((await put("u.x", { order: "1" })).status, 400);
  assert.equal((await put("x".repeat(256), {})).status, 400);
  assert.equal((await put("u.x", {}, "not-a-room")).status, 400);
  assert.deepEqual((await A.getRoomTags(room_id)).tags, { "m.favourite": { order: 0.75 } });
  // Bob's tags of the same room are his own.
  assert.deepEqual((await B.getRoomTags(room_id)).tags, {});
});

test("reports: events only by joined members who can see them; rooms by anyone, if the room exists", async () => {
  const { room_id } = await A.createRoom({ preset: sdk.Preset.PrivateChat });
  await A.invite(room_id, bob.userId);
  await B.joinRoom(room_id);
  const { event_id } = await A.sendTextMessage(room_id, "offensive");
  await B.reportEvent(room_id, event_id, -100, "this makes me sad");
  const [r] = await s.app.reports.recent(1, room_id);
  assert.deepEqual([r!.event_id, r!.user_id, r!.reason, r!.score], [event_id, bob.userId, "this makes me sad", -100]);

  const report = (who: TestUser, room: string, ev: string, body: unknown = { reason: "x" }) =>
    call(s.url, "POST", `${V3}/rooms/${enc(room)}/report/${enc(ev)}`, { token: who.accessToken, body });
  // Without score (removed in v1.18) or with no body at all.
  assert.equal((await report(bob, room_id, event_id, {})).status, 200);
  // A stranger, an unknown event, an event of another room: the same 404.
  const { room_id: elsewhere } = await A.createRoom({ preset: sdk.Preset.PrivateChat });
  const { event_id: otherEvent } = await A.sendTextMessage(elsewhere, "elsewhere");
  for (const [who, room, ev] of [
    [carol, room_id, event_id],
    [bob, room_id, `$${"A".repeat(43)}`],
    [bob, room_id, otherEvent],
    [bob, "!no-room:rempart.test", event_id],
  ] as const) {
    const res = await report(who, room, ev);
    assert.deepEqual([res.status, res.body.errcode], [404, "M_NOT_FOUND"], `${who.userId} ${room} ${ev}`);
  }
  assert.equal((await report(bob, room_id, event_id, { score: 5 })).status, 400);
  assert.equal((await report(bob, room_id, event_id, { reason: 7 })).status, 400);
  // A redacted event cannot be reported any more; nor can anything once Bob has left.
  const { event_id: gone } = await A.sendTextMessage(room_id, "soon gone");
  await A.redactEvent(room_id, gone);
  assert.equal((await report(bob, room_id, gone)).status, 404);
  await B.leave(room_id);
  assert.equal((await report(bob, room_id, event_id)).status, 404);
  const before = (await s.app.reports.recent(100, room_id)).length;
  assert.equal(before, 2);

  // Room reports: not restricted to members (spec v1.13); the room must exist; reason is required.
  await C.reportRoom(room_id, "spam room");
  const [rr] = await s.app.reports.recent(1, room_id);
  assert.deepEqual([rr!.event_id, rr!.user_id, rr!.reason], [null, carol.userId, "spam room"]);
  const unknown = await call(s.url, "POST", `${V3}/rooms/${enc("!no-room:rempart.test")}/report`, { token: carol.accessToken, body: { reason: "x" } });
  assert.deepEqual([unknown.status, unknown.body.errcode], [404, "M_NOT_FOUND"]);
  const noReason = await call(s.url, "POST", `${V3}/rooms/${enc(room_id)}/report`, { token: carol.accessToken, body: {} });
  assert.deepEqual([noReason.status, noReason.body.errcode], [400, "M_BAD_JSON"]);
});

test("upgrade: new room with the copied state, tombstone, restricted old room, aliases, directory, invites and bans", async () => {
  const { room_id: old } = await A.createRoom({ preset: sdk.Preset.PublicChat, name: "Upgrade me", topic: "old topic", room_alias_name: "upgrade-me", visibility: sdk.Visibility.Public });
  await A.setRoomTag(old, "u.keep", {});
  await B.joinRoom(old);
  await A.sendTextMessage(old, "before the upgrade");
  await A.invite(old, carol.userId);
  await A.ban(old, dave.userId, "troll");
  await A.sendStateEvent(old, "m.room.history_visibility" as never, { history_visibility: "joined" } as never, "");

  const { replacement_room: neu } = (await A.upgradeRoom(old, "11")) as { replacement_room: string };
  assert.notEqual(neu, old);

  const ns = await stateOf(A, neu);
  const create = find(ns, "m.room.create")!;
  assert.equal(create.content.room_version, "11");
  assert.equal((create.content.predecessor as { room_id: string }).room_id, old);
  assert.equal(find(ns, "m.room.name")?.content.name, "Upgrade me");
  assert.equal(find(ns, "m.room.topic")?.content.topic, "old topic");
  assert.equal(find(ns, "m.room.join_rules")?.content.join_rule, "public");
  assert.equal(find(ns, "m.room.history_visibility")?.content.history_visibility, "joined");
  assert.equal(find(ns, "m.room.canonical_alias")?.content.alias, "#upgrade-me:rempart.test");
  assert.equal((find(ns, "m.room.power_levels")?.content.users as Record<string, number>)[alice.userId], 100);
  // Membership is not copied: only the upgrader is in; the pending invite is re-sent, the ban carried.
  assert.equal(find(ns, "m.room.member", alice.userId)?.content.membership, "join");
  assert.equal(find(ns, "m.room.member", bob.userId), undefined);
  assert.equal(find(ns, "m.room.member", carol.userId)?.content.membership, "invite");
  assert.equal(find(ns, "m.room.member", dave.userId)?.content.membership, "ban");

  const os = await stateOf(A, old);
  assert.equal(find(os, "m.room.tombstone")?.content.replacement_room, neu);
  const oldPl = find(os, "m.room.power_levels")!.content;
  assert.equal(oldPl.events_default, 50);
  assert.equal(oldPl.invite, 50);
  // So Bob can no longer talk in the old room, and the alias and the listing lead to the new one.
  await expectError(B.sendTextMessage(old, "still here?"), "M_FORBIDDEN", 403);
  assert.equal((await C.getRoomIdForAlias("#upgrade-me:rempart.test")).room_id, neu);
  assert.equal((await A.getRoomDirectoryVisibility(old)).visibility, "private");
  assert.equal((await A.getRoomDirectoryVisibility(neu)).visibility, "public");
  const listed = await C.publicRooms({ filter: { generic_search_term: "Upgrade me" } });
  assert.deepEqual(listed.chunk.map((r) => r.room_id), [neu]);
  // Bob follows the tombstone; Carol accepts her new invite.
  await B.joinRoom(neu);
  await C.joinRoom(neu);
  await B.sendTextMessage(neu, "in the new room");
});

test("upgrade refusals: no power, not a member, unknown version, unknown room", async () => {
  const { room_id } = await A.createRoom({ preset: sdk.Preset.PublicChat });
  await B.joinRoom(room_id);
  await expectError(B.upgradeRoom(room_id, "11"), "M_FORBIDDEN", 403);
  await expectError(C.upgradeRoom(room_id, "11"), "M_FORBIDDEN", 403);
  await expectError(A.upgradeRoom(room_id, "99"), "M_UNSUPPORTED_ROOM_VERSION", 400);
  await expectError(A.upgradeRoom("!nowhere:rempart.test", "11"), "M_NOT_FOUND", 404);
  const noVersion = await call(s.url, "POST", `${V3}/rooms/${enc(room_id)}/upgrade`, { token: alice.accessToken, body: {} });
  assert.deepEqual([noVersion.status, noVersion.body.errcode], [400, "M_BAD_JSON"]);
  // Nothing happened to the room.
  assert.equal(find(await stateOf(A, room_id), "m.room.tombstone"), undefined);
});

test("upgrade to v12: room id from the create event, creators outside power levels, additional creators", async () => {
  const { room_id: old } = await A.createRoom({ preset: sdk.Preset.PrivateChat, name: "To twelve" });
  await A.invite(old, bob.userId);
  await B.joinRoom(old);
  const res = await call(s.url, "POST", `${V3}/rooms/${enc(old)}/upgrade`, { token: alice.accessToken, body: { new_version: "12", additional_creators: [bob.userId] } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const neu = res.body.replacement_room as string;
  const ns = await stateOf(A, neu);
  const create = find(ns, "m.room.create")!;
  assert.equal(create.content.room_version, "12");
  assert.equal(neu.slice(1), create.event_id.slice(1), "v12 room id is the create event's reference hash");
  assert.deepEqual(create.content.additional_creators, [bob.userId]);
  const users = find(ns, "m.room.power_levels")!.content.users as Record<string, number>;
  assert.ok(!(alice.userId in users) && !(bob.userId in users), JSON.stringify(users));
  assert.equal(find(ns, "m.room.name")?.content.name, "To twelve");
  // Bob was in the old room; the new room is invite-only like the old one, so he needs an invite ...
  await A.invite(neu, bob.userId);
  await B.joinRoom(neu);
  // ... he has infinite power: he may change the power levels and send a tombstone (150).
  await B.sendStateEvent(neu, "m.room.topic" as never, { topic: "by bob" } as never, "");
  assert.equal(find(await stateOf(A, old), "m.room.tombstone")?.content.replacement_room, neu);
});

test("content with no Canonical JSON form (a float) is 400 M_BAD_JSON, alone or among concurrent sends, and nothing is stored", async () => {
  const { room_id } = await A.createRoom({ preset: sdk.Preset.PublicChat });
  const url = (txn: string) => `${V3}/rooms/${enc(room_id)}/send/m.room.message/${txn}`;
  const alone = await call(s.url, "PUT", url("float-alone"), { token: alice.accessToken, body: { msgtype: "m.text", body: "x", amount: 1.5 } });
  assert.deepEqual([alone.status, alone.body.errcode], [400, "M_BAD_JSON"]);
  assert.match(String(alone.body.error), /Canonical JSON/);
  // Among concurrent sends too. (Whether an event is signed on the signing thread depends on
  // timing; that path's errors are the same, test/unit/matrix/signer.test.ts.)
  const together = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      call(s.url, "PUT", url(`float-together-${i}`), { token: alice.accessToken, body: i === 3 ? { msgtype: "m.text", body: "y", ratio: 0.25 } : { msgtype: "m.text", body: `fine ${i}` } }),
    ),
  );
  assert.deepEqual(together.map((r) => r.status), [200, 200, 200, 400, 200, 200, 200, 200]);
  assert.equal(together[3]!.body.errcode, "M_BAD_JSON");
  const page = await call(s.url, "GET", `${V3}/rooms/${enc(room_id)}/messages?dir=b&limit=50`, { token: alice.accessToken });
  const bodies = (page.body.chunk as Array<{ type: string; content: { body?: string } }>).filter((e) => e.type === "m.room.message").map((e) => e.content.body);
  assert.deepEqual(bodies.sort(), ["fine 0", "fine 1", "fine 2", "fine 4", "fine 5", "fine 6", "fine 7"]);
});
