// Room rules under the government model, through matrix-js-sdk: direct chats (two members, no
// name), forums (no encryption, never private), Tchap's default power levels, last-admin
// protection; and the same requests on a server without the policy, which allows them.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startPolicyServer, expectError, type PolicyServer } from "../helpers/policy.js";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { client, sdk } from "../helpers/sdk.js";

let s: PolicyServer;
let plain: TestServer;
let alice: TestUser, bob: TestUser, carol: TestUser;
let A: sdk.MatrixClient, B: sdk.MatrixClient, C: sdk.MatrixClient;
const RULES = "im.vector.room.access_rules";
const ENC = { algorithm: "m.megolm.v1.aes-sha2" };
const mk = (u: TestUser, url: string) => client(url, { accessToken: u.accessToken, userId: u.userId, deviceId: u.deviceId });

before(async () => {
  s = await startPolicyServer();
  plain = await startTestServer();
  [alice, bob, carol] = [await s.user("alice"), await s.user("bob"), await s.user("carol")];
  [A, B, C] = [mk(alice, s.url), mk(bob, s.url), mk(carol, s.url)];
});
after(async () => {
  await s.close();
  await plain.close();
});

test("a DM gets rule direct; a third member is refused; it has no name", async () => {
  const { room_id } = await A.createRoom({ is_direct: true, invite: [bob.userId], preset: sdk.Preset.TrustedPrivateChat });
  assert.deepEqual(await A.getStateEvent(room_id, RULES, ""), { rule: "direct" });
  // One pending invite at most: carol is refused while bob is invited, and once he joined.
  await expectError(A.invite(room_id, carol.userId), "M_FORBIDDEN", 403);
  await B.joinRoom(room_id);
  await expectError(A.invite(room_id, carol.userId), "M_FORBIDDEN", 403);
  await expectError(A.setRoomName(room_id, "Our chat"), "M_FORBIDDEN", 403);
  await expectError(A.setRoomTopic(room_id, "topic"), "M_FORBIDDEN", 403);
  // Never public.
  await expectError(A.sendStateEvent(room_id, "m.room.join_rules" as never, { join_rule: "public" } as never, ""), "M_FORBIDDEN", 403);
  // Creation refusals: two invitees, a name, or public.
  await expectError(A.createRoom({ is_direct: true, invite: [bob.userId, carol.userId] }), "M_FORBIDDEN", 403);
  await expectError(A.createRoom({ is_direct: true, invite: [bob.userId], name: "x" }), "M_FORBIDDEN", 403);
  await expectError(A.createRoom({ is_direct: true, invite: [bob.userId], visibility: sdk.Visibility.Public }), "M_FORBIDDEN", 403);
  // Encryption in a DM is fine.
  await A.sendStateEvent(room_id, "m.room.encryption" as never, ENC as never, "");
});

test("forums: encryption is refused, and a public unencrypted room never becomes private", async () => {
  const { room_id } = await A.createRoom({ preset: sdk.Preset.PublicChat, name: "Forum" });
  assert.deepEqual(await A.getStateEvent(room_id, RULES, ""), { rule: "restricted" });
  await expectError(A.sendStateEvent(room_id, "m.room.encryption" as never, ENC as never, ""), "M_FORBIDDEN", 403);
  await expectError(A.sendStateEvent(room_id, "m.room.join_rules" as never, { join_rule: "invite" } as never, ""), "M_FORBIDDEN", 403);
  // Creating an encrypted forum, or a public room open to externals, is refused up front.
  await expectError(A.createRoom({ preset: sdk.Preset.PublicChat, initial_state: [{ type: "m.room.encryption", state_key: "", content: ENC }] }), "M_FORBIDDEN", 403);
  await expectError(A.createRoom({ preset: sdk.Preset.PublicChat, initial_state: [{ type: RULES, state_key: "", content: { rule: "unrestricted" } }] }), "M_FORBIDDEN", 403);
  // A private room may be encrypted, and an encrypted room never becomes public.
  const priv = (await A.createRoom({ name: "Private" })).room_id;
  await A.sendStateEvent(priv, "m.room.encryption" as never, ENC as never, "");
  await expectError(A.sendStateEvent(priv, "m.room.join_rules" as never, { join_rule: "public" } as never, ""), "M_FORBIDDEN", 403);
  // A private unencrypted room may become a forum.
  const open = (await A.createRoom({ name: "To open" })).room_id;
  await A.sendStateEvent(open, "m.room.join_rules" as never, { join_rule: "public" } as never, "");
  // Without the policy the same changes go through.
  const u = await plain.user("plainalice");
  const P = mk(u, plain.url);
  const pub = (await P.createRoom({ preset: sdk.Preset.PublicChat })).room_id;
  await P.sendStateEvent(pub, "m.room.encryption" as never, ENC as never, "");
  await P.sendStateEvent(pub, "m.room.join_rules" as never, { join_rule: "invite" } as never, "");
});

test("new rooms get Tchap's default power levels (invite/kick/ban/redact 50, state_default 100)", async () => {
  const { room_id } = await A.createRoom({ name: "Levels" });
  const pl = await A.getStateEvent(room_id, "m.room.power_levels", "");
  assert.deepEqual([pl.invite, pl.kick, pl.ban, pl.redact, pl.state_default], [50, 50, 50, 50, 100]);
  // The client's own override still wins.
  const custom = (await A.createRoom({ power_level_content_override: { invite: 0 } })).room_id;
  assert.equal((await A.getStateEvent(custom, "m.room.power_levels", "")).invite, 0);
  // Without the policy: the spec's defaults (invite 0, state_default 50).
  const u = await plain.user("plainbob");
  const P = mk(u, plain.url);
  const r = (await P.createRoom({})).room_id;
  const ppl = await P.getStateEvent(r, "m.room.power_levels", "");
  assert.deepEqual([ppl.invite, ppl.state_default], [0, 50]);
});

test("last admin leaving: the highest moderator is promoted, never an external", async () => {
  const dave = await s.user("dave");
  const ext = await s.user("partner");
  await s.app.policy.registered(ext.userId, "partner@company.example", true);
  const D = mk(dave, s.url);
  const E = mk(ext, s.url);
  const { room_id } = await A.createRoom({ name: "Team", initial_state: [{ type: RULES, state_key: "", content: { rule: "unrestricted" } }] });
  for (const [u, c] of [[bob, B], [carol, C], [dave, D], [ext, E]] as const) {
    await A.invite(room_id, u.userId);
    await c.joinRoom(room_id);
  }
  const pl = await A.getStateEvent(room_id, "m.room.power_levels", "");
  await A.sendStateEvent(room_id, "m.room.power_levels" as never, { ...pl, users: { ...(pl.users as object), [bob.userId]: 50, [carol.userId]: 60 } } as never, "");
  await A.leave(room_id);
  const after = (await B.getStateEvent(room_id, "m.room.power_levels", "")).users as Record<string, number>;
  assert.equal(after[carol.userId], 100, "the highest moderator became admin");
  assert.equal(after[bob.userId], 50);
  assert.equal(after[ext.userId] ?? 0, 0);
  // Not the last admin any more: carol leaving with no other admin promotes bob; dave (0) stays 0.
  await C.leave(room_id);
  const after2 = (await B.getStateEvent(room_id, "m.room.power_levels", "")).users as Record<string, number>;
  assert.equal(after2[bob.userId], 100);
  // No moderator left (only power 0 members): nobody is promoted, the room keeps no admin.
  const { room_id: r2 } = await A.createRoom({ name: "Flat" });
  await A.invite(r2, dave.userId);
  await D.joinRoom(r2);
  await A.leave(r2);
  const flat = (await D.getStateEvent(r2, "m.room.power_levels", "")).users as Record<string, number>;
  assert.equal(flat[dave.userId] ?? 0, 0);
  // A non-admin leaving changes nothing.
  const { room_id: r3 } = await A.createRoom({ name: "Other" });
  await A.invite(r3, bob.userId);
  await B.joinRoom(r3);
  await B.leave(r3);
  assert.equal(((await A.getStateEvent(r3, "m.room.power_levels", "")).users as Record<string, number>)[alice.userId], 100);
});

test("invitations by email are rate-limited per inviter (each one sends a mail)", async () => {
  const limited = await startPolicyServer({}, { rate_limiting: { enabled: true, register_burst: 2, register_per_second: 0.001 } });
  try {
    const u = await limited.user("inviter");
    const U = client(limited.url, { accessToken: u.accessToken, userId: u.userId, deviceId: u.deviceId, idBaseUrl: limited.url });
    const { room_id } = await U.createRoom({ name: "Team" });
    await U.inviteByEmail(room_id, "one@interieur.gouv.fr");
    await U.inviteByEmail(room_id, "two@interieur.gouv.fr");
    await expectError(U.inviteByEmail(room_id, "three@interieur.gouv.fr"), "M_LIMIT_EXCEEDED", 429);
    assert.equal(limited.smtp.messages.filter((m) => m.to.includes("three@interieur.gouv.fr")).length, 0);
  } finally {
    await limited.close();
  }
});
