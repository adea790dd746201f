// Externals through matrix-js-sdk: an external invited by email registers, joins the room opened to
// externals, and is refused from a forum, from restricted rooms, from power, from creating rooms or
// DMs, from inviting and from the user directory; the room directory check refuses them too.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startPolicyServer, registerByEmail, expectError, type PolicyServer } from "../helpers/policy.js";
import { client, sdk } from "../helpers/sdk.js";
import type { TestUser } from "../helpers/server.js";

let s: PolicyServer;
let alice: TestUser;
let A: sdk.MatrixClient;
let ext: Awaited<ReturnType<typeof registerByEmail>>;
let partnersRoom: string;
let forum: string;
let restricted: string;
const RULES = "im.vector.room.access_rules";

before(async () => {
  s = await startPolicyServer();
  alice = await s.user("alice");
  A = client(s.url, { accessToken: alice.accessToken, userId: alice.userId, deviceId: alice.deviceId, idBaseUrl: s.url });
  partnersRoom = (await A.createRoom({ name: "Partners" })).room_id;
  forum = (await A.createRoom({ preset: sdk.Preset.PublicChat, name: "Forum" })).room_id;
  restricted = (await A.createRoom({ name: "Internal" })).room_id;
});
after(async () => {
  await s.close();
});

test("a room is opened to externals (restricted → unrestricted), never back", async () => {
  assert.deepEqual(await A.getStateEvent(partnersRoom, RULES, ""), { rule: "restricted" });
  await A.sendStateEvent(partnersRoom, RULES as never, { rule: "unrestricted" } as never, "");
  await expectError(A.sendStateEvent(partnersRoom, RULES as never, { rule: "restricted" } as never, ""), "M_FORBIDDEN", 403);
  await expectError(A.sendStateEvent(partnersRoom, RULES as never, { rule: "direct" } as never, ""), "M_FORBIDDEN", 403);
  // A forum cannot be opened to externals.
  await expectError(A.sendStateEvent(forum, RULES as never, { rule: "unrestricted" } as never, ""), "M_FORBIDDEN", 403);
});

test("an external invited by email registers and joins the room opened to externals", async () => {
  await A.inviteByEmail(partnersRoom, "bob@partner.example");
  // Invitations by email to rooms closed to externals, or to other servers' agents, are refused.
  await expectError(A.inviteByEmail(restricted, "carol@partner.example"), "M_FORBIDDEN", 403);
  await expectError(A.inviteByEmail(partnersRoom, "prof@education.gouv.fr"), "M_FORBIDDEN", 403);
  const mail = await s.smtp.take("bob@partner.example", /invited/i);
  assert.match(mail.text, /@alice:rempart\.test/);
  // The room shows the pending invitation as an m.room.third_party_invite with a masked address,
  // signed by a key the identity endpoints vouch for.
  const state = await A.roomState(partnersRoom);
  const tpi = state.find((e) => e.type === "m.room.third_party_invite")!;
  assert.equal(tpi.content.display_name, "bo…@partner.example");
  assert.ok(!JSON.stringify(state).includes("bob@partner.example"), "the address itself stays private");
  const valid = await (await fetch(`${s.url}/_matrix/identity/v2/pubkey/isvalid?public_key=${encodeURIComponent(tpi.content.public_key)}`)).json();
  assert.deepEqual(valid, { valid: true });
  assert.deepEqual(await (await fetch(`${s.url}/_matrix/identity/v2/pubkey/isvalid?public_key=AAAA`)).json(), { valid: false });
  const keyRes = await fetch(`${s.url}/_matrix/identity/v2/pubkey/${encodeURIComponent(s.app.signingKey.keyId)}`);
  assert.deepEqual(await keyRes.json(), { public_key: tpi.content.public_key });
  assert.equal((await fetch(`${s.url}/_matrix/identity/v2/pubkey/ed25519:nope`)).status, 404);
  ext = await registerByEmail(s, "bob@partner.example");
  assert.equal(await s.app.policy.isExternal(ext.userId), true);
  assert.equal(await s.app.policy.isExternal(alice.userId), false);
  // The pending invitation became a real invite at registration.
  const member = await A.getStateEvent(partnersRoom, "m.room.member", ext.userId);
  assert.equal(member.membership, "invite");
  // …that carries the signed proof of the address (auth rules 4.4.1 checked it).
  assert.equal(member.third_party_invite.display_name, "bo…@partner.example");
  assert.equal(member.third_party_invite.signed.mxid, ext.userId);
  assert.equal(member.third_party_invite.signed.token, tpi.state_key);
  await ext.client.joinRoom(partnersRoom);
  assert.deepEqual((await ext.client.getJoinedRooms()).joined_rooms, [partnersRoom]);
  // The invitation is used up: the address is no longer "invited".
  const info = await (await fetch(`${s.url}/_matrix/identity/api/v1/info?medium=email&address=bob%40partner.example`)).json();
  assert.equal((info as { invited: boolean }).invited, false);
});

test("an external is refused from a forum and from a restricted room", async () => {
  await expectError(ext.client.joinRoom(forum), "M_FORBIDDEN", 403);
  await expectError(A.invite(restricted, ext.userId), "M_FORBIDDEN", 403);
  await expectError(ext.client.joinRoom(restricted), "M_FORBIDDEN", 403);
});

test("an external never holds power above 0", async () => {
  await expectError(A.setPowerLevel(partnersRoom, ext.userId, 50), "M_FORBIDDEN", 403);
  const pl = await A.getStateEvent(partnersRoom, "m.room.power_levels", "");
  await expectError(A.sendStateEvent(partnersRoom, "m.room.power_levels" as never, { ...pl, users_default: 10 } as never, ""), "M_FORBIDDEN", 403);
  // An internal member may be promoted (the allowed case).
  const carol = await s.user("carol");
  await A.invite(partnersRoom, carol.userId);
  await A.setPowerLevel(partnersRoom, carol.userId, 50);
});

test("an external cannot create rooms, DMs or spaces, nor invite", async () => {
  await expectError(ext.client.createRoom({ name: "mine" }), "M_FORBIDDEN", 403);
  await expectError(ext.client.createRoom({ is_direct: true, invite: [alice.userId] }), "M_FORBIDDEN", 403);
  await expectError(ext.client.createRoom({ creation_content: { type: "m.space" } }), "M_FORBIDDEN", 403);
  const dave = await s.user("dave");
  await expectError(ext.client.invite(partnersRoom, dave.userId), "M_FORBIDDEN", 403);
  ext.client.setIdentityServerUrl(s.url);
  await expectError(ext.client.inviteByEmail(partnersRoom, "friend@partner.example"), "M_FORBIDDEN", 403);
});

test("an external cannot search the user directory nor list the room directory", async () => {
  await expectError(ext.client.searchUserDirectory({ term: "alice" }), "M_FORBIDDEN", 403);
  assert.equal(await s.app.policy.mayListDirectory(ext.userId), false);
  assert.equal(await s.app.policy.mayListDirectory(alice.userId), true);
  // Only restricted rooms may be published.
  assert.equal(await s.app.policy.mayPublishRoom(forum), true);
  assert.equal(await s.app.policy.mayPublishRoom(partnersRoom), false);
});

test("an internal user may DM an external (rule direct), at most two members", async () => {
  const { room_id } = await A.createRoom({ is_direct: true, invite: [ext.userId], preset: sdk.Preset.TrustedPrivateChat });
  assert.deepEqual(await A.getStateEvent(room_id, RULES, ""), { rule: "direct" });
  await ext.client.joinRoom(room_id);
  const pl = await A.getStateEvent(room_id, "m.room.power_levels", "");
  assert.equal((pl.users as Record<string, number>)[ext.userId] ?? 0, 0, "trusted_private_chat does not make an external admin");
});

test("createRoom's invite_3pid: a DM with a not yet registered external; refused where externals may not go", async () => {
  const before = (await A.getJoinedRooms()).joined_rooms.length;
  const tp = (address: string) => ({ id_server: "ignored.example", medium: "email", address });
  await expectError(A.createRoom({ name: "Closed", invite_3pid: [tp("eve@partner.example")] }), "M_FORBIDDEN", 403);
  await expectError(A.createRoom({ is_direct: true, invite_3pid: [tp("prof@education.gouv.fr")] }), "M_FORBIDDEN", 403);
  await expectError(A.createRoom({ is_direct: true, invite_3pid: [tp("not-an-address")] }), "M_INVALID_PARAM", 400);
  assert.equal((await A.getJoinedRooms()).joined_rooms.length, before, "refused requests created no room");
  const { room_id } = await A.createRoom({ is_direct: true, invite_3pid: [tp("eve@partner.example")] });
  assert.deepEqual(await A.getStateEvent(room_id, RULES, ""), { rule: "direct" });
  const tpi = (await A.roomState(room_id)).find((e) => e.type === "m.room.third_party_invite")!;
  assert.equal(tpi.content.display_name, "ev…@partner.example");
  const eve = await registerByEmail(s, "eve@partner.example");
  assert.equal((await A.getStateEvent(room_id, "m.room.member", eve.userId)).membership, "invite");
  await eve.client.joinRoom(room_id);
  // An existing account's address is invited directly.
  const { room_id: r2 } = await A.createRoom({ is_direct: true, invite_3pid: [tp("Bob@Partner.example")] });
  assert.equal((await A.getStateEvent(r2, "m.room.member", ext.userId)).membership, "invite");
});
