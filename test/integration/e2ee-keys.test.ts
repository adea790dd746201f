// End-to-end keys over raw HTTP: upload, query, claim (one-time then fallback), device lists in
// /sync and /keys/changes, cross-signing with its user-interactive auth and signature checks,
// dehydrated devices. Bad input gets a clear error and stores nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call, type Res } from "../helpers/http.js";
import { Ed25519, crossSigningKey, deviceIdentity, fallbackKey, oneTimeKeys, type Json } from "../helpers/e2ee-keys.js";

const C = "/_matrix/client/v3";
const MSC3814 = "/_matrix/client/unstable/org.matrix.msc3814.v1";
let s: TestServer;

before(async () => {
  s = await startTestServer();
});
after(async () => {
  await s.close();
});

function ok(res: Res, what: string): Json {
  assert.equal(res.status, 200, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}
function err(res: Res, status: number, errcode: string, what: string): void {
  assert.equal(res.status, status, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
  assert.equal(res.body.errcode, errcode, `${what}: ${JSON.stringify(res.body)}`);
  assert.equal(typeof res.body.error, "string");
}
const upload = (u: TestUser, body: Json) => call(s.url, "POST", `${C}/keys/upload`, { token: u.accessToken, body });
const query = (u: TestUser, who: Record<string, string[]>) => call(s.url, "POST", `${C}/keys/query`, { token: u.accessToken, body: { device_keys: who } });
const claim = (u: TestUser, req: Json) => call(s.url, "POST", `${C}/keys/claim`, { token: u.accessToken, body: { one_time_keys: req } });
const sync = (u: TestUser, since?: string, timeout = 0) =>
  call(s.url, "GET", `${C}/sync?timeout=${timeout}${since ? `&since=${encodeURIComponent(since)}` : ""}`, { token: u.accessToken });
const pw = (u: TestUser) => ({ type: "m.login.password", identifier: { type: "m.id.user", user: u.userId }, password: u.password });
const keyRows = async (userId: string) => ({
  device: await s.app.storage.db.selectFrom("e2e_device_keys").selectAll().where("user_id", "=", userId).execute(),
  otk: await s.app.storage.db.selectFrom("e2e_one_time_keys").selectAll().where("user_id", "=", userId).execute(),
  fallback: await s.app.storage.db.selectFrom("e2e_fallback_keys").selectAll().where("user_id", "=", userId).execute(),
});

async function sharedRoom(a: TestUser, b: TestUser): Promise<string> {
  const r = ok(await call(s.url, "POST", `${C}/createRoom`, { token: a.accessToken, body: { preset: "private_chat", invite: [b.userId] } }), "createRoom");
  const roomId = r.room_id as string;
  ok(await call(s.url, "POST", `${C}/join/${encodeURIComponent(roomId)}`, { token: b.accessToken, body: {} }), "join");
  await s.app.e2ee.deviceLists.settled();
  return roomId;
}

test("keys: upload, query with display names, claim one-time keys then the fallback key", async () => {
  const alice = await s.user();
  const bob = await s.user();
  const id = deviceIdentity(alice.userId, alice.deviceId);
  const up = ok(await upload(alice, { device_keys: id.deviceKeys, one_time_keys: oneTimeKeys(id.ed, alice.userId, alice.deviceId, 2), fallback_keys: fallbackKey(id.ed, alice.userId, alice.deviceId) }), "upload");
  assert.deepEqual(up.one_time_key_counts, { signed_curve25519: 2 });
  // Re-uploading the same keys is harmless.
  ok(await upload(alice, { device_keys: id.deviceKeys }), "re-upload");

  ok(await call(s.url, "PUT", `${C}/devices/${alice.deviceId}`, { token: alice.accessToken, body: { display_name: "Alice's laptop" } }), "rename");
  const q = ok(await query(bob, { [alice.userId]: [] }), "query");
  const dev = (q.device_keys as Record<string, Record<string, Json>>)[alice.userId]![alice.deviceId]!;
  assert.deepEqual(dev.keys, id.deviceKeys.keys);
  assert.deepEqual(dev.signatures, id.deviceKeys.signatures);
  assert.equal((dev.unsigned as Json).device_display_name, "Alice's laptop");
  // Asking for a device that does not exist gives nothing for it.
  const q2 = ok(await query(bob, { [alice.userId]: ["NOSUCHDEVICE"], "@nobody:rempart.test": [] }), "query unknown");
  assert.deepEqual(q2.device_keys, { [alice.userId]: {}, "@nobody:rempart.test": {} });

  const req = { [alice.userId]: { [alice.deviceId]: "signed_curve25519" } };
  const seen = new Set<string>();
  for (let i = 0; i < 2; i++) {
    const c = ok(await claim(bob, req), "claim");
    const k = Object.keys((c.one_time_keys as Record<string, Record<string, Json>>)[alice.userId]![alice.deviceId]!)[0]!;
    assert.match(k, /^signed_curve25519:A\d$/);
    seen.add(k);
  }
  assert.equal(seen.size, 2, "each claim takes a different one-time key");
  // None left: the fallback key, as often as asked, and it is then reported used.
  let first = await sync(alice);
  assert.deepEqual(ok(first, "sync").device_unused_fallback_key_types, ["signed_curve25519"]);
  assert.deepEqual(first.body.device_one_time_keys_count, { signed_curve25519: 0 });
  for (let i = 0; i < 2; i++) {
    const c = ok(await claim(bob, req), "claim fallback");
    const keys = (c.one_time_keys as Record<string, Record<string, Json>>)[alice.userId]![alice.deviceId]!;
    assert.deepEqual(Object.keys(keys), ["signed_curve25519:FB1"]);
  }
  first = await sync(alice);
  assert.deepEqual(first.body.device_unused_fallback_key_types, []);
  // A new fallback key is unused again.
  ok(await upload(alice, { fallback_keys: fallbackKey(id.ed, alice.userId, alice.deviceId, "FB2") }), "new fallback");
  assert.deepEqual((await sync(alice)).body.device_unused_fallback_key_types, ["signed_curve25519"]);
});

test("claim: concurrent claims never hand out the same one-time key", async () => {
  const u = await s.user();
  const claimer = await s.user();
  const id = deviceIdentity(u.userId, u.deviceId);
  ok(await upload(u, { device_keys: id.deviceKeys, one_time_keys: oneTimeKeys(id.ed, u.userId, u.deviceId, 20), fallback_keys: fallbackKey(id.ed, u.userId, u.deviceId) }), "upload");
  const req = { [u.userId]: { [u.deviceId]: "signed_curve25519" } };
  const results = await Promise.all(Array.from({ length: 24 }, () => claim(claimer, req)));
  const ids = results.map((r) => Object.keys((ok(r, "claim").one_time_keys as Record<string, Record<string, Json>>)[u.userId]![u.deviceId]!)[0]!);
  const otks = ids.filter((k) => k !== "signed_curve25519:FB1");
  assert.equal(otks.length, 20, "every one-time key is served once");
  assert.equal(new Set(otks).size, 20);
  assert.equal(ids.length - otks.length, 4, "then the fallback key");
});

test("keys: malformed keys and signatures that do not verify are refused, and nothing is stored", async () => {
  const u = await s.user();
  const id = deviceIdentity(u.userId, u.deviceId);
  const forged = { ...id.deviceKeys, keys: { ...(id.deviceKeys.keys as Json), [`curve25519:${u.deviceId}`]: "c29tZXRoaW5nIGVsc2U" } };
  const other = deviceIdentity(u.userId, "OTHERDEVICE");
  const cases: Array<[string, Json, string]> = [
    ["a signature that does not verify", { device_keys: forged }, "M_INVALID_SIGNATURE"],
    ["another device's keys", { device_keys: other.deviceKeys }, "M_INVALID_PARAM"],
    ["another user's id", { device_keys: { ...id.deviceKeys, user_id: "@mallory:rempart.test" } }, "M_INVALID_PARAM"],
    ["no ed25519 key", { device_keys: { ...id.deviceKeys, keys: { [`curve25519:${u.deviceId}`]: "abc" } } }, "M_INVALID_PARAM"],
    ["no signatures", { device_keys: { ...id.deviceKeys, signatures: undefined } }, "M_INVALID_PARAM"],
    ["algorithms not a list", { device_keys: { ...id.deviceKeys, algorithms: "m.megolm.v1.aes-sha2" } }, "M_INVALID_PARAM"],
    // The whole upload is one transaction: valid device keys are not kept when a one-time key fails.
    ["a one-time key signed by someone else", { device_keys: id.deviceKeys, one_time_keys: oneTimeKeys(new Ed25519(), u.userId, u.deviceId, 1) }, "M_INVALID_SIGNATURE"],
    ["a one-time key id without algorithm", { device_keys: id.deviceKeys, one_time_keys: { nocolon: "abc" } }, "M_INVALID_PARAM"],
    ["a one-time key that is a number", { device_keys: id.deviceKeys, one_time_keys: { "curve25519:X": 5 } }, "M_INVALID_PARAM"],
    ["a signed one-time key with no device keys", { one_time_keys: oneTimeKeys(id.ed, u.userId, u.deviceId, 1) }, "M_INVALID_PARAM"],
  ];
  for (const [what, body, errcode] of cases) {
    err(await upload(u, body), 400, errcode, what);
    assert.deepEqual(await keyRows(u.userId), { device: [], otk: [], fallback: [] }, `${what} stored something`);
  }
  // A one-time key id cannot be reused for another key.
  ok(await upload(u, { device_keys: id.deviceKeys, one_time_keys: oneTimeKeys(id.ed, u.userId, u.deviceId, 1) }), "upload");
  const before = await keyRows(u.userId);
  err(await upload(u, { one_time_keys: oneTimeKeys(id.ed, u.userId, u.deviceId, 1) }), 400, "M_INVALID_PARAM", "reused key id");
  assert.deepEqual(await keyRows(u.userId), before);
});

test("claim: unknown users and devices are left out and consume nothing; malformed ids are refused", async () => {
  const u = await s.user();
  const id = deviceIdentity(u.userId, u.deviceId);
  ok(await upload(u, { device_keys: id.deviceKeys, one_time_keys: oneTimeKeys(id.ed, u.userId, u.deviceId, 1) }), "upload");
  const c = ok(await claim(u, { [u.userId]: { NOSUCH: "signed_curve25519" }, "@ghost:rempart.test": { X: "signed_curve25519" } }), "claim unknown");
  assert.deepEqual(c.one_time_keys, {});
  const remote = ok(await claim(u, { "@someone:elsewhere.example": { X: "signed_curve25519" } }), "claim remote");
  assert.ok((remote.failures as Json)["elsewhere.example"]);
  err(await claim(u, { "not-a-user": { X: "signed_curve25519" } }), 400, "M_INVALID_PARAM", "malformed user id");
  err(await query(u, { "not-a-user": [] }), 400, "M_INVALID_PARAM", "malformed user id in query");
  assert.equal((await keyRows(u.userId)).otk.length, 1, "the one-time key is still there");
});

test("device lists: changes reach those who share a room, left when no room is shared any more", async () => {
  const alice = await s.user();
  const bob = await s.user();
  const carol = await s.user();
  const roomId = await sharedRoom(alice, bob);
  const a0 = (await sync(alice)).body.next_batch as string;
  const c0 = (await sync(carol)).body.next_batch as string;
  const b0 = (await sync(bob)).body.next_batch as string;

  const id = deviceIdentity(bob.userId, bob.deviceId);
  ok(await upload(bob, { device_keys: id.deviceKeys }), "upload");
  const a1 = ok(await sync(alice, a0), "alice sync");
  assert.deepEqual(a1.device_lists, { changed: [bob.userId], left: [] });
  const ch = ok(await call(s.url, "GET", `${C}/keys/changes?from=${a0}&to=${a1.next_batch as string}`, { token: alice.accessToken }), "changes");
  assert.deepEqual(ch, { changed: [bob.userId], left: [] });
  // Bob sees his own change; Carol, who shares no room, sees nothing.
  assert.deepEqual((await sync(bob, b0)).body.device_lists, { changed: [bob.userId], left: [] });
  assert.deepEqual((await sync(carol, c0)).body.device_lists, { changed: [], left: [] });

  // A new member and the members become "changed" for each other.
  ok(await call(s.url, "POST", `${C}/rooms/${encodeURIComponent(roomId)}/invite`, { token: alice.accessToken, body: { user_id: carol.userId } }), "invite");
  ok(await call(s.url, "POST", `${C}/join/${encodeURIComponent(roomId)}`, { token: carol.accessToken, body: {} }), "carol joins");
  await s.app.e2ee.deviceLists.settled();
  const a2 = ok(await sync(alice, a1.next_batch as string), "alice sync 2");
  assert.deepEqual(a2.device_lists, { changed: [carol.userId], left: [] });
  const c1 = ok(await sync(carol, c0), "carol sync");
  // In no particular order (the spec gives none): sorted on both sides.
  assert.deepEqual([...((c1.device_lists as Json).changed as string[])].sort(), [alice.userId, bob.userId].sort());

  // Bob leaves the only room he shares with them: left for both sides.
  ok(await call(s.url, "POST", `${C}/rooms/${encodeURIComponent(roomId)}/leave`, { token: bob.accessToken, body: {} }), "leave");
  await s.app.e2ee.deviceLists.settled();
  assert.deepEqual(ok(await sync(alice, a2.next_batch as string), "alice sync 3").device_lists, { changed: [], left: [bob.userId] });
  const b1 = ok(await sync(bob, b0), "bob sync");
  assert.deepEqual(((b1.device_lists as Json).left as string[]).sort(), [alice.userId, carol.userId].sort());

  // Deleting a device is a change others see.
  const a3 = (await sync(carol)).body.next_batch as string;
  ok(await call(s.url, "POST", `${C}/logout`, { token: alice.accessToken }), "alice logs out");
  assert.deepEqual(ok(await sync(carol, a3), "carol sync 2").device_lists, { changed: [alice.userId], left: [] });
});

test("device lists: a long-polling sync wakes up when a room-mate uploads keys", async () => {
  const alice = await s.user();
  const bob = await s.user();
  await sharedRoom(alice, bob);
  const since = (await sync(alice)).body.next_batch as string;
  const pending = sync(alice, since, 20_000);
  await new Promise((r) => setTimeout(r, 200));
  const id = deviceIdentity(bob.userId, bob.deviceId);
  ok(await upload(bob, { device_keys: id.deviceKeys }), "upload");
  assert.deepEqual(ok(await pending, "long poll").device_lists, { changed: [bob.userId], left: [] });
});

test("device lists: a join wakes the room's syncing members and the joiner; a key upload, each room of the uploader", async () => {
  const alice = await s.user();
  const bob = await s.user();
  const carol = await s.user();
  const dave = await s.user();
  const roomId = await sharedRoom(alice, bob);
  // Carol already shares another room with Dave, who tracks her devices: her join is nothing new to him.
  const other = await sharedRoom(carol, dave);
  const woken: string[] = [];
  const offRoom = s.app.notifier.onRoom((stream, r) => stream === "device_lists" && woken.push(r));
  const offUsers = s.app.notifier.onUsers((stream, users) => stream === "device_lists" && woken.push(...users));
  try {
    ok(await call(s.url, "POST", `${C}/rooms/${encodeURIComponent(roomId)}/invite`, { token: alice.accessToken, body: { user_id: carol.userId } }), "invite");
    ok(await call(s.url, "POST", `${C}/join/${encodeURIComponent(roomId)}`, { token: carol.accessToken, body: {} }), "carol joins");
    await s.app.e2ee.deviceLists.settled();
    assert.deepEqual(woken.splice(0).sort(), [roomId, carol.userId].sort());
    ok(await upload(carol, { device_keys: deviceIdentity(carol.userId, carol.deviceId).deviceKeys }), "upload");
    assert.deepEqual(woken.splice(0).sort(), [roomId, other, carol.userId].sort());
  } finally {
    offRoom();
    offUsers();
  }
});

test("device lists: joins and leaves committed in a burst are processed together, in order", async () => {
  const alice = await s.user();
  const bob = await s.user();
  const rooms = s.app.membership;
  const roomId = (await s.app.rooms.create({ userId: alice.userId, deviceId: alice.deviceId }, { preset: "public_chat" })).room_id;
  await rooms.join(bob.userId, roomId);
  const others = await Promise.all(Array.from({ length: 6 }, () => s.user()));
  await s.app.e2ee.deviceLists.settled();
  const a0 = (await sync(alice)).body.next_batch as string;
  const b0 = (await sync(bob)).body.next_batch as string;
  // Joins without waiting for each other (their device-list updates pile up behind the first), then
  // Bob leaves and joins again, and one of the newcomers leaves.
  await Promise.all(others.map((u) => rooms.join(u.userId, roomId)));
  await rooms.leave(bob.userId, roomId);
  await rooms.join(bob.userId, roomId);
  await rooms.leave(others[0]!.userId, roomId);
  await s.app.e2ee.deviceLists.settled();
  const a1 = ok(await sync(alice, a0), "alice sync").device_lists as Json;
  assert.deepEqual(a1.changed, [bob.userId, ...others.slice(1).map((u) => u.userId)].sort());
  assert.deepEqual(a1.left, [others[0]!.userId]);
  const b1 = ok(await sync(bob, b0), "bob sync").device_lists as Json;
  assert.deepEqual(b1.changed, [alice.userId, ...others.slice(1).map((u) => u.userId)].sort());
  assert.deepEqual(b1.left, [others[0]!.userId]);
});

test("cross-signing: first upload without auth, replacement behind the password, signatures verified", async () => {
  const u = await s.user();
  const friend = await s.user();
  const id = deviceIdentity(u.userId, u.deviceId);
  ok(await upload(u, { device_keys: id.deviceKeys }), "device keys");
  const master = new Ed25519();
  const ssk = new Ed25519();
  const usk = new Ed25519();
  const mk = crossSigningKey(master, u.userId, "master");
  const sk = master.sign(crossSigningKey(ssk, u.userId, "self_signing"), u.userId, `ed25519:${master.pub}`);
  const uk = master.sign(crossSigningKey(usk, u.userId, "user_signing"), u.userId, `ed25519:${master.pub}`);
  const csUpload = (body: Json) => call(s.url, "POST", `${C}/keys/device_signing/upload`, { token: u.accessToken, body });
  const stored = () => s.app.storage.db.selectFrom("e2e_cross_signing_keys").selectAll().where("user_id", "=", u.userId).orderBy("key_type").execute();

  // A self-signing key not signed by the master key is refused (and nothing is stored).
  err(await csUpload({ master_key: mk, self_signing_key: crossSigningKey(ssk, u.userId, "self_signing") }), 400, "M_INVALID_SIGNATURE", "unsigned ssk");
  err(await csUpload({ self_signing_key: sk }), 400, "M_MISSING_PARAM", "no master key");
  err(await csUpload({ master_key: { ...mk, user_id: friend.userId } }), 400, "M_INVALID_PARAM", "another user's key");
  assert.deepEqual(await stored(), []);
  // The first upload needs no user-interactive auth (spec 1.11), and an exact retry neither.
  ok(await csUpload({ master_key: mk, self_signing_key: sk, user_signing_key: uk }), "first upload");
  ok(await csUpload({ master_key: mk, self_signing_key: sk, user_signing_key: uk }), "retry");
  // Replacing a key needs the password.
  const master2 = new Ed25519();
  const challenge = await csUpload({ master_key: crossSigningKey(master2, u.userId, "master") });
  assert.equal(challenge.status, 401);
  // The same re-authentication as every sensitive operation (uia-stages.ts reauthFlows): the password, or
  // the web login (second factor included) through the fallback page.
  assert.deepEqual(challenge.body.flows, [{ stages: ["m.login.password"] }, { stages: ["m.login.sso"] }]);
  assert.equal((await stored()).find((r) => r.key_type === "master")!.public_key, master.pub);
  err(await csUpload({ master_key: crossSigningKey(master2, u.userId, "master"), auth: { ...pw(u), password: "wrong", session: challenge.body.session } }), 401, "M_FORBIDDEN", "wrong password");

  // Signing one's own device with the self-signing key.
  const signedDevice = ssk.sign(id.deviceKeys, u.userId, `ed25519:${ssk.pub}`);
  const sig = ok(await call(s.url, "POST", `${C}/keys/signatures/upload`, { token: u.accessToken, body: { [u.userId]: { [u.deviceId]: signedDevice } } }), "sign device");
  assert.deepEqual(sig.failures, {});
  const q = ok(await query(friend, { [u.userId]: [] }), "query");
  const dev = (q.device_keys as Record<string, Record<string, Json>>)[u.userId]![u.deviceId]!;
  assert.ok((dev.signatures as Record<string, Json>)[u.userId]![`ed25519:${ssk.pub}`]);
  assert.deepEqual(((q.master_keys as Json)[u.userId] as Json).keys, mk.keys);
  assert.equal((q.user_signing_keys as Json)[u.userId], undefined, "a user-signing key is for its owner only");
  assert.ok((ok(await query(u, { [u.userId]: [] }), "own query").user_signing_keys as Json)[u.userId]);

  // Failures, per key: a forged signature, an unknown device, an altered key; nothing stored.
  const sigRows = () => s.app.storage.db.selectFrom("e2e_signatures").selectAll().execute();
  const before = await sigRows();
  const forger = new Ed25519();
  const bad = ok(
    await call(s.url, "POST", `${C}/keys/signatures/upload`, {
      token: u.accessToken,
      body: {
        [u.userId]: {
          [u.deviceId]: forger.sign(id.deviceKeys, u.userId, `ed25519:${ssk.pub}`),
          NOSUCHDEVICE: ssk.sign({ ...id.deviceKeys, device_id: "NOSUCHDEVICE" }, u.userId, `ed25519:${ssk.pub}`),
          [master.pub]: id.ed.sign({ ...mk, usage: ["master", "extra"] }, u.userId, `ed25519:${u.deviceId}`),
        },
      },
    }),
    "bad signatures",
  );
  const f = (bad.failures as Record<string, Record<string, Json>>)[u.userId]!;
  assert.equal(f[u.deviceId]!.errcode, "M_INVALID_SIGNATURE");
  assert.equal(f.NOSUCHDEVICE!.errcode, "M_NOT_FOUND");
  assert.equal(f[master.pub]!.errcode, "M_INVALID_SIGNATURE");
  assert.deepEqual(await sigRows(), before);

  // Signing someone else's master key with the user-signing key: seen by the signer only.
  const fm = new Ed25519();
  const friendMaster = crossSigningKey(fm, friend.userId, "master");
  ok(await call(s.url, "POST", `${C}/keys/device_signing/upload`, { token: friend.accessToken, body: { master_key: friendMaster } }), "friend's master");
  const r = ok(await call(s.url, "POST", `${C}/keys/signatures/upload`, { token: u.accessToken, body: { [friend.userId]: { [fm.pub]: usk.sign(friendMaster, u.userId, `ed25519:${usk.pub}`) } } }), "sign friend");
  assert.deepEqual(r.failures, {});
  const mine = ok(await query(u, { [friend.userId]: [] }), "query as signer");
  assert.ok((((mine.master_keys as Json)[friend.userId] as Json).signatures as Record<string, Json>)[u.userId]);
  const theirs = ok(await query(friend, { [friend.userId]: [] }), "query as friend");
  assert.equal((((theirs.master_keys as Json)[friend.userId] as Json).signatures as Record<string, Json> | undefined)?.[u.userId], undefined);

  // With the password, the master key is replaced.
  ok(await csUpload({ master_key: crossSigningKey(master2, u.userId, "master"), auth: pw(u) }), "replace with password");
  assert.equal((await stored()).find((r) => r.key_type === "master")!.public_key, master2.pub);
});

test("dehydrated devices (MSC3814): store, fetch, receive to-device messages, replace, delete", async () => {
  const u = await s.user();
  const sender = await s.user();
  const versions = ok(await call(s.url, "GET", "/_matrix/client/versions"), "versions");
  assert.equal((versions.unstable_features as Json)["org.matrix.msc3814"], true);
  err(await call(s.url, "GET", `${MSC3814}/dehydrated_device`, { token: u.accessToken }), 404, "M_NOT_FOUND", "none yet");

  const put = async (deviceId: string) => {
    const id = deviceIdentity(u.userId, deviceId);
    return call(s.url, "PUT", `${MSC3814}/dehydrated_device`, {
      token: u.accessToken,
      body: {
        device_id: deviceId,
        device_data: { algorithm: "org.matrix.msc3814.v2", device_pickle: "ZW5jcnlwdGVk", nonce: "bm9uY2U" },
        initial_device_display_name: "Dehydrated device",
        device_keys: { ...id.deviceKeys },
        one_time_keys: oneTimeKeys(id.ed, u.userId, deviceId, 3),
        fallback_keys: fallbackKey(id.ed, u.userId, deviceId),
      },
    });
  };
  // Keys signed for another device id are refused, and nothing is created.
  const wrong = deviceIdentity(u.userId, "DEHYD1");
  err(
    await call(s.url, "PUT", `${MSC3814}/dehydrated_device`, { token: u.accessToken, body: { device_id: "DEHYD0", device_data: {}, device_keys: wrong.deviceKeys } }),
    400,
    "M_INVALID_PARAM",
    "mismatched keys",
  );
  assert.equal((await s.app.devices.list(u.userId)).length, 1);
  err(await put(u.deviceId), 400, "M_INVALID_PARAM", "a live device's id");

  assert.deepEqual(ok(await put("DEHYD1"), "put"), { device_id: "DEHYD1" });
  const got = ok(await call(s.url, "GET", `${MSC3814}/dehydrated_device`, { token: u.accessToken }), "get");
  assert.equal(got.device_id, "DEHYD1");
  assert.equal((got.device_data as Json).device_pickle, "ZW5jcnlwdGVk");
  const q = ok(await query(sender, { [u.userId]: [] }), "query");
  assert.ok((q.device_keys as Record<string, Json>)[u.userId]!.DEHYD1, "others see the dehydrated device's keys");
  const c = ok(await claim(sender, { [u.userId]: { DEHYD1: "signed_curve25519" } }), "claim");
  assert.ok((c.one_time_keys as Record<string, Json>)[u.userId]);

  // To-device messages wait for it; next_batch acknowledges them.
  for (const txn of ["t1", "t2"]) {
    ok(await call(s.url, "PUT", `${C}/sendToDevice/m.room.encrypted/${txn}`, { token: sender.accessToken, body: { messages: { [u.userId]: { DEHYD1: { ciphertext: txn } } } } }), "send");
  }
  const ev = `${MSC3814}/dehydrated_device/DEHYD1/events`;
  err(await call(s.url, "POST", `${MSC3814}/dehydrated_device/OTHER/events`, { token: u.accessToken, body: {} }), 403, "M_FORBIDDEN", "not the dehydrated device");
  const page = ok(await call(s.url, "POST", ev, { token: u.accessToken, body: {} }), "events");
  assert.deepEqual((page.events as Json[]).map((e) => (e.content as Json).ciphertext), ["t1", "t2"]);
  assert.equal((page.events as Json[])[0]!.sender, sender.userId);
  const next = ok(await call(s.url, "POST", ev, { token: u.accessToken, body: { next_batch: page.next_batch } }), "events 2");
  assert.deepEqual(next.events, []);
  err(await call(s.url, "POST", ev, { token: u.accessToken, body: { next_batch: "garbage" } }), 400, "M_INVALID_PARAM", "bad next_batch");

  // A new dehydrated device replaces the old one, its keys and its inbox.
  ok(await put("DEHYD2"), "replace");
  const ids = (await s.app.devices.list(u.userId)).map((d) => d.device_id);
  assert.ok(ids.includes("DEHYD2") && !ids.includes("DEHYD1"));
  assert.equal((ok(await query(sender, { [u.userId]: [] }), "query 2").device_keys as Record<string, Json>)[u.userId]!.DEHYD1, undefined);
  assert.deepEqual(ok(await call(s.url, "DELETE", `${MSC3814}/dehydrated_device`, { token: u.accessToken }), "delete"), { device_id: "DEHYD2" });
  err(await call(s.url, "GET", `${MSC3814}/dehydrated_device`, { token: u.accessToken }), 404, "M_NOT_FOUND", "deleted");
  assert.deepEqual((await s.app.devices.list(u.userId)).map((d) => d.device_id), [u.deviceId]);
});

test("one-time-key counts in /sync (kept in memory) follow uploads, claims and device deletion", async () => {
  const u = await s.user();
  const claimer = await s.user();
  const id = deviceIdentity(u.userId, u.deviceId);
  const counts = async () => {
    const b = ok(await sync(u), "sync");
    return [b.device_one_time_keys_count, b.device_unused_fallback_key_types];
  };
  assert.deepEqual(await counts(), [{ signed_curve25519: 0 }, []]);
  ok(await upload(u, { device_keys: id.deviceKeys, one_time_keys: oneTimeKeys(id.ed, u.userId, u.deviceId, 3), fallback_keys: fallbackKey(id.ed, u.userId, u.deviceId) }), "upload");
  assert.deepEqual(await counts(), [{ signed_curve25519: 3 }, ["signed_curve25519"]]);
  assert.deepEqual(await counts(), [{ signed_curve25519: 3 }, ["signed_curve25519"]]);
  const req = { [u.userId]: { [u.deviceId]: "signed_curve25519" } };
  ok(await claim(claimer, req), "claim");
  assert.deepEqual(await counts(), [{ signed_curve25519: 2 }, ["signed_curve25519"]]);
  ok(await upload(u, { one_time_keys: oneTimeKeys(id.ed, u.userId, u.deviceId, 2, "B") }), "upload more");
  assert.deepEqual(await counts(), [{ signed_curve25519: 4 }, ["signed_curve25519"]]);
  // Claims answered concurrently with syncs: the counts after them are exact.
  await Promise.all([...Array.from({ length: 5 }, () => claim(claimer, req)), sync(u), sync(u)]);
  assert.deepEqual(await counts(), [{ signed_curve25519: 0 }, []]);
  ok(await upload(u, { one_time_keys: oneTimeKeys(id.ed, u.userId, u.deviceId, 2, "D") }), "upload again");
  assert.deepEqual(await counts(), [{ signed_curve25519: 2 }, []]);
  // A refused upload (a key id reused with another value, beside a new one) changes nothing.
  const other = oneTimeKeys(id.ed, u.userId, u.deviceId, 2, "C");
  err(await upload(u, { one_time_keys: { "signed_curve25519:D0": other["signed_curve25519:C0"], "signed_curve25519:E0": other["signed_curve25519:C1"] } }), 400, "M_INVALID_PARAM", "clashing upload");
  assert.deepEqual(await counts(), [{ signed_curve25519: 2 }, []]);
  // A deleted device's keys go, and its counts with them.
  await s.app.devices.delete(u.userId, [u.deviceId]);
  const gone = await s.app.e2ee.oneTimeKeys.counts(u.userId, u.deviceId);
  assert.deepEqual([gone.oneTimeKeyCounts, gone.unusedFallbackKeyTypes], [{ signed_curve25519: 0 }, []]);
});
