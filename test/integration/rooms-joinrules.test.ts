// Join rules through the server, end to end: knock, restricted and knock_restricted joins (with
// their authorising user), and room version 12's creators (room id from the create event,
// infinite power, never listed in power levels).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";

let s: TestServer;
let alice: TestUser, bob: TestUser, carol: TestUser;
const V3 = "/_matrix/client/v3";
const enc = encodeURIComponent;

before(async () => {
  s = await startTestServer();
  [alice, bob, carol] = [await s.user("alice"), await s.user("bob"), await s.user("carol")];
});
after(async () => {
  await s.close();
});

type Ev = { type: string; state_key?: string; event_id: string; content: Record<string, unknown> };
const req = (who: TestUser, method: string, path: string, body?: unknown) => call(s.url, method, path, { token: who.accessToken, body: body ?? (method === "GET" ? undefined : {}) });
async function ok(who: TestUser, method: string, path: string, body?: unknown) {
  const r = await req(who, method, path, body);
  assert.equal(r.status, 200, `${method} ${path}: ${JSON.stringify(r.body)}`);
  return r.body;
}
async function refused(who: TestUser, method: string, path: string, body?: unknown, status = 403) {
  const r = await req(who, method, path, body);
  assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
  return r.body;
}
const createRoom = async (who: TestUser, body: Record<string, unknown>) => (await ok(who, "POST", `${V3}/createRoom`, body)).room_id as string;
const joinRules = (content: Record<string, unknown>) => ({ initial_state: [{ type: "m.room.join_rules", content }] });
const memberOf = async (roomId: string, user: string) =>
  ((await ok(alice, "GET", `${V3}/rooms/${enc(roomId)}/state`)) as unknown as Ev[]).find((e) => e.type === "m.room.member" && e.state_key === user)?.content;

test("knock: allowed on a knock room, refused elsewhere and when banned; an invite answers it", async () => {
  const room = await createRoom(alice, { preset: "private_chat", room_version: "10", ...joinRules({ join_rule: "knock" }) });
  await ok(carol, "POST", `${V3}/knock/${enc(room)}`, { reason: "let me in" });
  assert.equal((await memberOf(room, carol.userId))?.membership, "knock");
  // Knocking is not joining: no sending, no joining uninvited (knocking again is allowed: 4.7.3).
  await refused(carol, "PUT", `${V3}/rooms/${enc(room)}/send/m.room.message/k1`, { msgtype: "m.text", body: "hi" });
  await refused(carol, "POST", `${V3}/join/${enc(room)}`);
  await ok(carol, "POST", `${V3}/knock/${enc(room)}`);
  await ok(alice, "POST", `${V3}/rooms/${enc(room)}/invite`, { user_id: carol.userId });
  await ok(carol, "POST", `${V3}/join/${enc(room)}`);
  assert.equal((await memberOf(room, carol.userId))?.membership, "join");

  const inviteOnly = await createRoom(alice, { preset: "private_chat" });
  await refused(bob, "POST", `${V3}/knock/${enc(inviteOnly)}`);
  const knockRoom = await createRoom(alice, { preset: "private_chat", ...joinRules({ join_rule: "knock" }) });
  await ok(alice, "POST", `${V3}/rooms/${enc(knockRoom)}/ban`, { user_id: bob.userId });
  await refused(bob, "POST", `${V3}/knock/${enc(knockRoom)}`);
});

test("restricted and knock_restricted: members of an allowed room join, named authoriser; others cannot", async () => {
  const space = await createRoom(alice, { preset: "public_chat" });
  await ok(bob, "POST", `${V3}/join/${enc(space)}`);
  const allow = [{ type: "m.room_membership", room_id: space }];
  const restricted = await createRoom(alice, { preset: "private_chat", ...joinRules({ join_rule: "restricted", allow }) });
  await ok(bob, "POST", `${V3}/join/${enc(restricted)}`);
  const bobs = await memberOf(restricted, bob.userId);
  assert.equal(bobs?.membership, "join");
  assert.equal(bobs?.join_authorised_via_users_server, alice.userId);
  await refused(carol, "POST", `${V3}/join/${enc(restricted)}`);
  await refused(carol, "POST", `${V3}/knock/${enc(restricted)}`);

  const kr = await createRoom(alice, { preset: "private_chat", ...joinRules({ join_rule: "knock_restricted", allow }) });
  await ok(bob, "POST", `${V3}/join/${enc(kr)}`);
  await refused(carol, "POST", `${V3}/join/${enc(kr)}`);
  await ok(carol, "POST", `${V3}/knock/${enc(kr)}`);
  assert.equal((await memberOf(kr, carol.userId))?.membership, "knock");
  // Leaving the allowed room closes the door for a rejoin.
  await ok(bob, "POST", `${V3}/rooms/${enc(restricted)}/leave`);
  await ok(bob, "POST", `${V3}/rooms/${enc(space)}/leave`);
  await refused(bob, "POST", `${V3}/join/${enc(restricted)}`);
});

test("room version 12: room id from the create event, creator's infinite power, creators never in power levels", async () => {
  const room = await createRoom(alice, { preset: "private_chat", room_version: "12", invite: [bob.userId] });
  const state = (await ok(alice, "GET", `${V3}/rooms/${enc(room)}/state`)) as unknown as Ev[];
  const create = state.find((e) => e.type === "m.room.create")!;
  assert.equal(room.slice(1), create.event_id.slice(1), "the room id is the create event's reference hash");
  assert.ok(!room.includes(":"), "v12 room ids have no server name");
  const pl = state.find((e) => e.type === "m.room.power_levels")!.content;
  assert.ok(!Object.hasOwn(pl.users as object, alice.userId));
  assert.equal((pl.events as Record<string, number>)["m.room.tombstone"], 150);
  // Alice may send what needs 150 (more than any listed user could have)...
  await ok(alice, "PUT", `${V3}/rooms/${enc(room)}/state/m.room.server_acl`, { allow: ["*"], deny: [], allow_ip_literals: false });
  await ok(alice, "PUT", `${V3}/rooms/${enc(room)}/state/m.room.power_levels`, { ...pl, users: { [bob.userId]: 100 }, events: { ...(pl.events as object), "m.room.server_acl": 150 } });
  // ... but cannot list herself (auth rule: users must not contain a creator) ...
  await refused(alice, "PUT", `${V3}/rooms/${enc(room)}/state/m.room.power_levels`, { ...pl, users: { [alice.userId]: 100 } });
  // ... and Bob at 100 cannot do what needs 150, nor kick the creator.
  await ok(bob, "POST", `${V3}/join/${enc(room)}`);
  await refused(bob, "PUT", `${V3}/rooms/${enc(room)}/state/m.room.server_acl`, { allow: ["*"], deny: ["evil.example"] });
  await refused(bob, "POST", `${V3}/rooms/${enc(room)}/kick`, { user_id: alice.userId });
  await ok(bob, "PUT", `${V3}/rooms/${enc(room)}/state/m.room.name`, { name: "bob may" });
});
