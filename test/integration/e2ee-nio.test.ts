// Interoperability: python matrix-nio with olm and matrix-js-sdk with the Rust crypto exchange
// encrypted messages both ways in one room; the server never holds the plaintext.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { randomBytes } from "node:crypto";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { cryptoClient, decryptedBodies, eventually, stop, sdk, type CryptoClient } from "../helpers/e2ee.js";
import { createLogger } from "../../src/log.js";
import { allStoredText } from "../helpers/db-text.js";

let s: TestServer;
let logs = "";
let A: CryptoClient | undefined;
const store = mkdtempSync(join(tmpdir(), "rempart-nio-"));

before(async () => {
  const stream = new PassThrough();
  stream.on("data", (d: Buffer) => (logs += d.toString()));
  s = await startTestServer({ log: createLogger("debug", stream) });
  console.debug = () => {};
  console.info = () => {};
  console.log = () => {};
  console.warn = () => {};
});
after(async () => {
  if (A) await stop(A);
  await s.close();
  rmSync(store, { recursive: true, force: true });
  setTimeout(() => process.exit(0), 500).unref();
});

test("matrix-nio (olm) and matrix-js-sdk (Rust crypto) exchange encrypted messages both ways", async () => {
  const tag = randomBytes(4).toString("hex");
  const toNio = `js to nio: the kestrel flies at dawn ${tag}`;
  const toJs = `nio to js: the badger sleeps ${tag}`;
  const alice = await s.user("alice");
  await s.app.accounts.createUser("nio", "nio-password-123");
  const nioId = "@nio:rempart.test";
  A = await cryptoClient(s.url, alice);
  const { room_id: roomId } = await A.client.createRoom({
    preset: sdk.Preset.PrivateChat,
    invite: [nioId],
    initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }],
  });

  const steps: string[] = [];
  let out = "";
  let errOut = "";
  const py = spawn("/usr/bin/python3", ["test/peers/nio_e2ee.py", s.url, nioId, "nio-password-123", roomId, toNio, toJs, store]);
  py.stdout.on("data", (d: Buffer) => {
    out += d.toString();
    for (const line of d.toString().split("\n")) if (line.trim().startsWith("{")) steps.push((JSON.parse(line) as { step: string }).step);
  });
  py.stderr.on("data", (d: Buffer) => (errOut += d.toString()));
  const exited = new Promise<number>((resolve) => py.on("close", (code) => resolve(code ?? 1)));
  try {
    await eventually("nio joins", () => steps.includes("joined") || (steps.includes("error") && Promise.reject(new Error(out))), 60_000);
    await eventually("Alice sees nio joined", () => A!.client.getRoom(roomId)?.getMember(nioId)?.membership === "join");
    // Alice's client must know nio's device before it shares the room key.
    await eventually("Alice knows nio's device", async () => ((await A!.crypto.getUserDeviceInfo([nioId], true)).get(nioId)?.size ?? 0) > 0);
    await A.client.sendTextMessage(roomId, toNio);
    await eventually("nio decrypts and replies", () => steps.includes("sent") || (steps.includes("error") && Promise.reject(new Error(out))), 80_000);
    await eventually("Alice decrypts nio's reply", () => decryptedBodies(A!.client, roomId).includes(toJs));
    assert.equal(await exited, 0, `nio: ${out} ${errOut.slice(-2000)}`);
  } finally {
    py.kill();
  }

  await s.app.e2ee.deviceLists.settled();
  const text = await allStoredText(s);
  for (const p of [toNio, toJs]) {
    assert.ok(!text.includes(p), `the database holds "${p}"`);
    assert.ok(!logs.includes(p), `the logs hold "${p}"`);
  }
});
