// End-to-end encryption with real clients: two matrix-js-sdk clients with the Rust crypto exchange
// encrypted messages; Bob's second device is cross-signed from secret storage and restores the
// history from the key backup; Alice's view of Bob's devices follows his additions and removals.
// Afterwards neither the database nor the server's logs hold any plaintext that was sent.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { PassThrough } from "node:stream";
import { randomBytes } from "node:crypto";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { cryptoClient, decryptedBodies, eventually, passwordAuth, setUpSecurity, stop, sdk, type CryptoClient } from "../helpers/e2ee.js";
import { call } from "../helpers/http.js";
import { createLogger } from "../../src/log.js";
import { allStoredText } from "../helpers/db-text.js";
import { CryptoEvent } from "matrix-js-sdk/lib/crypto-api/index.js";

let s: TestServer;
let logs = "";
const clients: CryptoClient[] = [];
const tag = randomBytes(4).toString("hex");
const PLAIN = [`alice says the code word is heron-${tag}`, `bob answers with otter-${tag}`, `a later secret lynx-${tag}`, `sent while Bob is away: wren-${tag}`];
let alice: TestUser, bob: TestUser;
let A: CryptoClient, B1: CryptoClient;
let roomId: string;
let B2: CryptoClient;
let bob2: TestUser;

before(async () => {
  const stream = new PassThrough();
  stream.on("data", (d: Buffer) => (logs += d.toString()));
  s = await startTestServer({ log: createLogger("debug", stream) });
  // The Rust crypto logs through console at debug/info: keep the test output readable.
  console.debug = () => {};
  console.info = () => {};
  console.log = () => {};
  console.warn = () => {};
});

after(async () => {
  await stop(...clients);
  await s.close();
  // The SDK's timers keep Node alive for minutes after stopClient (test-peers.md).
  setTimeout(() => process.exit(0), 500).unref();
});

async function login(user: TestUser): Promise<TestUser> {
  const r = await call(s.url, "POST", "/_matrix/client/v3/login", {
    body: { type: "m.login.password", identifier: { type: "m.id.user", user: user.userId }, password: user.password },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return { ...user, accessToken: r.body.access_token as string, deviceId: r.body.device_id as string };
}

test("two Rust-crypto clients exchange encrypted messages in a private room", async () => {
  alice = await s.user("alice");
  bob = await s.user("bob");
  A = await cryptoClient(s.url, alice);
  clients.push(A);
  B1 = await cryptoClient(s.url, bob);
  clients.push(B1);
  // Bob sets up cross-signing, secret storage and a key backup (user-interactive auth by password).
  await setUpSecurity(B1);
  const backup = await s.app.e2ee.keyBackup.getVersion(bob.userId);
  assert.equal(backup.algorithm, "m.megolm_backup.v1.curve25519-aes-sha2");

  const created = await A.client.createRoom({
    preset: sdk.Preset.PrivateChat,
    invite: [bob.userId],
    initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
  });
  roomId = created.room_id;
  await eventually("Bob's invite", () => B1.client.getRoom(roomId)?.getMyMembership() === "invite");
  await B1.client.joinRoom(roomId);
  await eventually("Alice sees Bob joined in an encrypted room", () => {
    const room = A.client.getRoom(roomId);
    return room?.hasEncryptionStateEvent() && room.getMember(bob.userId)?.membership === "join";
  });
  await A.client.sendTextMessage(roomId, PLAIN[0]!);
  await eventually("Bob decrypts Alice's message", () => decryptedBodies(B1.client, roomId).includes(PLAIN[0]!));
  await eventually("Bob's client knows the room is encrypted", () => B1.client.getRoom(roomId)?.hasEncryptionStateEvent());
  await B1.client.sendTextMessage(roomId, PLAIN[1]!);
  await eventually("Alice decrypts Bob's message", () => decryptedBodies(A.client, roomId).includes(PLAIN[1]!));

  // The server holds ciphertext only.
  const types = await s.app.storage.db.selectFrom("events").select("type").where("room_id", "=", roomId).where("type", "like", "m.room.%").execute();
  assert.ok(types.some((t) => t.type === "m.room.encrypted"));
  assert.ok(!types.some((t) => t.type === "m.room.message"), "a message was sent in clear");
});

test("Bob's second device: cross-signed from secret storage, history restored from the key backup, seen by Alice", async () => {
  // Bob's first device backs up both megolm sessions (Alice's and its own).
  await eventually("the backup holds both sessions", async () => ((await s.app.e2ee.keyBackup.getVersion(bob.userId)).count as number) >= 2);
  const b1Device = bob.deviceId;
  // Stop the first device: whatever the second one reads must come from the backup.
  B1.client.stopClient();

  bob2 = await login(bob);
  B2 = await cryptoClient(s.url, bob2);
  clients.push(B2);
  // The new device first learns the user's cross-signing keys from the server (/keys/query).
  await eventually("the new device knows Bob's cross-signing keys", () => B2.crypto.userHasCrossSigningKeys(bob.userId, true));
  await B2.crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys: passwordAuth(bob2) });
  const status = await eventually("the new device is cross-signed", async () => {
    const st = await B2.crypto.getDeviceVerificationStatus(bob.userId, bob2.deviceId);
    return st?.signedByOwner ? st : undefined;
  });
  assert.equal(status.crossSigningVerified, true);
  // The server serves the self-signing key's signature on the new device to everyone.
  const q = await call(s.url, "POST", "/_matrix/client/v3/keys/query", { token: alice.accessToken, body: { device_keys: { [bob.userId]: [] } } });
  const ssk = Object.keys((q.body.self_signing_keys as Record<string, { keys: Record<string, string> }>)[bob.userId]!.keys)[0]!;
  const dev2 = (q.body.device_keys as Record<string, Record<string, { signatures: Record<string, Record<string, string>> }>>)[bob.userId]![bob2.deviceId]!;
  assert.ok(dev2.signatures[bob.userId]![ssk], "the self-signing signature is served");

  await B2.crypto.loadSessionBackupPrivateKeyFromSecretStorage();
  await B2.crypto.checkKeyBackupAndEnable();
  const restored = await B2.crypto.restoreKeyBackup();
  assert.ok(restored.imported >= 2, `imported ${restored.imported} of ${restored.total}`);
  const res = await B2.client.createMessagesRequest(roomId, null, 50, sdk.Direction.Backward);
  const bodies: string[] = [];
  for (const raw of res.chunk) {
    const ev = new sdk.MatrixEvent(raw);
    if (!ev.isEncrypted()) continue;
    await B2.client.decryptEventIfNeeded(ev);
    if (ev.getType() === "m.room.message") bodies.push(String(ev.getContent().body));
  }
  assert.ok(bodies.includes(PLAIN[0]!) && bodies.includes(PLAIN[1]!), `decrypted ${JSON.stringify(bodies)}`);

  // Alice's client learns of the new device through device_lists.changed…
  await eventually("Alice sees Bob's second device", async () => (await A.crypto.getUserDeviceInfo([bob.userId])).get(bob.userId)?.has(bob2.deviceId));
  // …and of the first one's removal.
  const del = await call(s.url, "DELETE", `/_matrix/client/v3/devices/${b1Device}`, {
    token: bob2.accessToken,
    body: { auth: { type: "m.login.password", identifier: { type: "m.id.user", user: bob.userId }, password: bob.password } },
  });
  assert.equal(del.status, 200, JSON.stringify(del.body));
  await eventually("Alice no longer sees Bob's first device", async () => {
    const devs = (await A.crypto.getUserDeviceInfo([bob.userId])).get(bob.userId);
    return devs !== undefined && !devs.has(b1Device) && devs.has(bob2.deviceId);
  });

  // New messages reach the new device too.
  await A.client.sendTextMessage(roomId, PLAIN[2]!);
  await eventually("Bob's second device decrypts a new message", () => decryptedBodies(B2.client, roomId).includes(PLAIN[2]!));
});

test("dehydrated device (MSC3814): keys sent while Bob has no device online are picked up by his next device", async () => {
  assert.equal(await B2.crypto.isDehydrationSupported(), true);
  await B2.crypto.startDehydration();
  const dehydrated = await eventually("a dehydrated device on the server", async () => (await s.app.e2ee.dehydrated.get(bob.userId).catch(() => undefined))?.device_id);
  await eventually("Alice sees the dehydrated device", async () => (await A.crypto.getUserDeviceInfo([bob.userId])).get(bob.userId)?.has(dehydrated));
  // Bob goes offline everywhere; Alice writes.
  B2.client.stopClient();
  await A.client.sendTextMessage(roomId, PLAIN[3]!);
  await eventually("the room key waits in the dehydrated device's inbox", async () => {
    const rows = await s.app.storage.db.selectFrom("e2e_to_device_inbox").select("device_id").where("user_id", "=", bob.userId).where("device_id", "=", dehydrated).execute();
    return rows.length > 0;
  });

  // A new device rehydrates: it reads the dehydrated device's to-device messages and gets the key.
  const bob3 = await login(bob);
  const B3 = await cryptoClient(s.url, bob3);
  clients.push(B3);
  let roomKeys = 0;
  B3.client.on(CryptoEvent.RehydrationProgress, (keys: number) => (roomKeys = keys));
  await eventually("the new device knows Bob's cross-signing keys", () => B3.crypto.userHasCrossSigningKeys(bob.userId, true));
  await B3.crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys: passwordAuth(bob3) });
  await B3.crypto.startDehydration({ rehydrate: true });
  assert.ok(roomKeys >= 1, `rehydration imported ${roomKeys} room keys`);
  const res = await B3.client.createMessagesRequest(roomId, null, 20, sdk.Direction.Backward);
  const bodies: string[] = [];
  for (const raw of res.chunk) {
    const ev = new sdk.MatrixEvent(raw);
    if (!ev.isEncrypted()) continue;
    await B3.client.decryptEventIfNeeded(ev);
    if (ev.getType() === "m.room.message") bodies.push(String(ev.getContent().body));
  }
  assert.ok(bodies.includes(PLAIN[3]!), `decrypted ${JSON.stringify(bodies)}`);
  // Rehydration replaced the dehydrated device with a fresh one.
  const next = await s.app.e2ee.dehydrated.get(bob.userId);
  assert.notEqual(next.device_id, dehydrated);
});

test("no plaintext sent in the encrypted room is in the database or the logs", async () => {
  await s.app.e2ee.deviceLists.settled();
  const text = await allStoredText(s);
  for (const p of PLAIN) {
    assert.ok(!text.includes(p), `the database holds "${p}"`);
    assert.ok(!logs.includes(p), `the logs hold "${p}"`);
  }
  assert.ok(logs.includes("request"), "the logs were captured");
  // The SQLite file itself (and its write-ahead log), byte for byte.
  if (s.app.storage.dialect === "sqlite") {
    const file = s.config.database.replace(/^sqlite:(\/\/)?/i, "");
    for (const f of [file, `${file}-wal`]) {
      if (!existsSync(f)) continue;
      const bytes = readFileSync(f).toString("latin1");
      for (const p of PLAIN) assert.ok(!bytes.includes(p), `${f} holds "${p}"`);
    }
  }
});
