// To-device messaging and server-side key backup over raw HTTP, and encrypted events staying
// ciphertext (never indexed for search).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call, type Res } from "../helpers/http.js";

type Json = Record<string, unknown>;
const C = "/_matrix/client/v3";
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
}
const sync = (u: TestUser, since?: string, timeout = 0) =>
  call(s.url, "GET", `${C}/sync?timeout=${timeout}${since ? `&since=${encodeURIComponent(since)}` : ""}`, { token: u.accessToken });
const send = (u: TestUser, txn: string, messages: Json, type = "m.room.encrypted") => call(s.url, "PUT", `${C}/sendToDevice/${type}/${txn}`, { token: u.accessToken, body: { messages } });
const inbox = (userId: string) => s.app.storage.db.selectFrom("e2e_to_device_inbox").selectAll().where("user_id", "=", userId).execute();
const toDevice = (r: Json) => ((r.to_device as Json).events as Json[]).map((e) => (e.content as Json).n);

async function secondDevice(u: TestUser): Promise<TestUser> {
  const r = ok(await call(s.url, "POST", `${C}/login`, { body: { type: "m.login.password", identifier: { type: "m.id.user", user: u.userId }, password: u.password } }), "login");
  return { ...u, accessToken: r.access_token as string, deviceId: r.device_id as string };
}

test("to-device: delivered in /sync until acknowledged by the next token, then deleted", async () => {
  const alice = await s.user();
  const bob = await s.user();
  const bob2 = await secondDevice(bob);
  const b0 = ok(await sync(bob), "initial").next_batch as string;
  ok(await send(alice, "m1", { [bob.userId]: { [bob.deviceId]: { n: 1 } } }), "to one device");
  ok(await send(alice, "m2", { [bob.userId]: { "*": { n: 2 } } }), "to all devices");

  const r1 = ok(await sync(bob, b0), "sync");
  assert.deepEqual(toDevice(r1), [1, 2]);
  assert.deepEqual((r1.to_device as { events: Json[] }).events[0], { type: "m.room.encrypted", sender: alice.userId, content: { n: 1 } });
  assert.deepEqual(toDevice(ok(await sync(bob2), "other device initial")), [2]);
  // Not acknowledged yet: syncing again from the same token delivers them again.
  assert.deepEqual(toDevice(ok(await sync(bob, b0), "repeat")), [1, 2]);
  assert.equal((await inbox(bob.userId)).filter((r) => r.device_id === bob.deviceId).length, 2);
  // The next token acknowledges: gone from the response and from the database.
  const r2 = ok(await sync(bob, r1.next_batch as string), "next");
  assert.deepEqual(r2.to_device, { events: [] });
  assert.equal((await inbox(bob.userId)).filter((r) => r.device_id === bob.deviceId).length, 0);
});

test("to-device: the transaction id makes a send idempotent; unknown devices are skipped", async () => {
  const alice = await s.user();
  const bob = await s.user();
  for (let i = 0; i < 3; i++) ok(await send(alice, "same-txn", { [bob.userId]: { [bob.deviceId]: { n: 7 }, NOSUCHDEVICE: { n: 8 } }, "@ghost:rempart.test": { X: { n: 9 } } }), "send");
  assert.deepEqual(toDevice(ok(await sync(bob), "sync")), [7]);
  assert.equal((await inbox(bob.userId)).length, 1);
  // Another device of the sender may use the same transaction id.
  const alice2 = await secondDevice(alice);
  ok(await send(alice2, "same-txn", { [bob.userId]: { [bob.deviceId]: { n: 10 } } }), "other device");
  assert.equal((await inbox(bob.userId)).length, 2);
});

test("to-device: oversized or malformed messages are refused and nothing is stored", async () => {
  const alice = await s.user();
  const bob = await s.user();
  const big = { [bob.userId]: { [bob.deviceId]: { n: 1 }, "*": { ciphertext: "x".repeat(70_000) } } };
  err(await send(alice, "big", big), 413, "M_TOO_LARGE", "oversized");
  err(await send(alice, "bad-user", { "not-a-user": { X: { n: 1 } } }), 400, "M_INVALID_PARAM", "malformed user id");
  err(await call(s.url, "PUT", `${C}/sendToDevice/m.room.encrypted/nobody`, { token: alice.accessToken, body: { messages: { [bob.userId]: { X: "text" } } } }), 400, "M_BAD_JSON", "content not an object");
  assert.equal((await inbox(bob.userId)).length, 0);
  // The refused transaction id was not recorded: a corrected retry goes through.
  ok(await send(alice, "big", { [bob.userId]: { [bob.deviceId]: { n: 2 } } }), "retry");
  assert.deepEqual(toDevice(ok(await sync(bob), "sync")), [2]);
});

test("to-device: a long-polling sync wakes up for a message; deleting the device drops its inbox", async () => {
  const alice = await s.user();
  const bob = await s.user();
  const since = ok(await sync(bob), "initial").next_batch as string;
  const pending = sync(bob, since, 20_000);
  await new Promise((r) => setTimeout(r, 200));
  ok(await send(alice, "wake", { [bob.userId]: { [bob.deviceId]: { n: 3 } } }), "send");
  assert.deepEqual(toDevice(ok(await pending, "long poll")), [3]);
  ok(await call(s.url, "POST", `${C}/logout`, { token: bob.accessToken }), "logout");
  assert.equal((await inbox(bob.userId)).length, 0);
});

test("to-device: more than a page waits for the next sync, in order", async () => {
  const alice = await s.user();
  const bob = await s.user();
  for (let i = 0; i < 130; i++) ok(await send(alice, `p${i}`, { [bob.userId]: { [bob.deviceId]: { n: i } } }), "send");
  const r1 = ok(await sync(bob), "page 1");
  const r2 = ok(await sync(bob, r1.next_batch as string), "page 2");
  assert.deepEqual([...toDevice(r1), ...toDevice(r2)], Array.from({ length: 130 }, (_, i) => i));
});

const data = (fmi: number, fc: number, verified: boolean, tag: string) => ({ first_message_index: fmi, forwarded_count: fc, is_verified: verified, session_data: { ciphertext: tag, ephemeral: "e", mac: "m" } });
const ALG = "m.megolm_backup.v1.curve25519-aes-sha2";

test("key backup: versions, keys at three levels, replacement rules, etag and count", async () => {
  const u = await s.user();
  const other = await s.user();
  const K = `${C}/room_keys`;
  const req = (method: string, path: string, body?: unknown, who = u) => call(s.url, method, path, { token: who.accessToken, body });
  err(await req("GET", `${K}/version`), 404, "M_NOT_FOUND", "no backup yet");
  err(await req("PUT", `${K}/keys?version=1`, { rooms: {} }), 404, "M_NOT_FOUND", "no backup to write to");
  const v1 = ok(await req("POST", `${K}/version`, { algorithm: ALG, auth_data: { public_key: "pk1", signatures: {} } }), "create").version as string;
  const info = ok(await req("GET", `${K}/version`), "latest");
  assert.deepEqual({ ...info, etag: undefined }, { algorithm: ALG, auth_data: { public_key: "pk1", signatures: {} }, count: 0, etag: undefined, version: v1 });
  err(await req("GET", `${K}/version/${v1}`, undefined, other), 404, "M_NOT_FOUND", "another user's version");

  const room = "!room:rempart.test";
  const r = encodeURIComponent(room);
  let put = ok(await req("PUT", `${K}/keys?version=${v1}`, { rooms: { [room]: { sessions: { s1: data(5, 1, false, "a"), s2: data(0, 0, false, "b") } } } }), "put all");
  assert.equal(put.count, 2);
  const etag1 = put.etag;
  // Rules (spec "Server-side key backups"): verified wins, then lower first_message_index, then
  // lower forwarded_count; anything else keeps the stored key (and the etag).
  put = ok(await req("PUT", `${K}/keys/${r}/s1?version=${v1}`, data(9, 9, true, "verified")), "verified replaces");
  assert.notEqual(put.etag, etag1);
  ok(await req("PUT", `${K}/keys/${r}/s1?version=${v1}`, data(0, 0, false, "unverified")), "unverified never replaces verified");
  ok(await req("PUT", `${K}/keys/${r}/s1?version=${v1}`, data(10, 0, true, "later index")), "higher index does not replace");
  ok(await req("PUT", `${K}/keys/${r}/s1?version=${v1}`, data(9, 10, true, "more forwarded")), "more forwards do not replace");
  const etag2 = ok(await req("PUT", `${K}/keys/${r}/s1?version=${v1}`, data(9, 9, true, "same")), "equal does not replace").etag;
  assert.equal(etag2, put.etag);
  assert.equal((ok(await req("GET", `${K}/keys/${r}/s1?version=${v1}`), "get session").session_data as Json).ciphertext, "verified");
  ok(await req("PUT", `${K}/keys/${r}/s1?version=${v1}`, data(3, 9, true, "earlier index")), "lower index replaces");
  ok(await req("PUT", `${K}/keys/${r}?version=${v1}`, { sessions: { s1: data(3, 2, true, "fewer forwards") } }), "fewer forwards replace");
  assert.equal((ok(await req("GET", `${K}/keys/${r}/s1?version=${v1}`), "get").session_data as Json).ciphertext, "fewer forwards");

  const all = ok(await req("GET", `${K}/keys?version=${v1}`), "get all");
  assert.deepEqual(Object.keys(((all.rooms as Json)[room] as { sessions: Json }).sessions).sort(), ["s1", "s2"]);
  assert.deepEqual(Object.keys((ok(await req("GET", `${K}/keys/${r}?version=${v1}`), "get room").sessions as Json)).sort(), ["s1", "s2"]);
  assert.deepEqual(ok(await req("GET", `${K}/keys/${encodeURIComponent("!empty:rempart.test")}?version=${v1}`), "empty room"), { sessions: {} });
  err(await req("GET", `${K}/keys/${r}/nosuch?version=${v1}`), 404, "M_NOT_FOUND", "unknown session");
  err(await req("GET", `${K}/keys?version=999`), 404, "M_NOT_FOUND", "unknown version");
  assert.equal(ok(await req("GET", `${K}/version/${v1}`), "info").count, 2);

  // Updating auth_data; the algorithm and version cannot change.
  ok(await req("PUT", `${K}/version/${v1}`, { algorithm: ALG, auth_data: { public_key: "pk1", signatures: { x: {} } }, version: v1 }), "update");
  err(await req("PUT", `${K}/version/${v1}`, { algorithm: "other", auth_data: {} }), 400, "M_INVALID_PARAM", "algorithm change");
  err(await req("PUT", `${K}/version/${v1}`, { algorithm: ALG, auth_data: {}, version: "77" }), 400, "M_INVALID_PARAM", "version mismatch");

  // A new version: writes to the old one are refused with the current version named.
  const v2 = ok(await req("POST", `${K}/version`, { algorithm: ALG, auth_data: { public_key: "pk2" } }), "create 2").version as string;
  assert.notEqual(v2, v1);
  const wrong = await req("PUT", `${K}/keys/${r}/s3?version=${v1}`, data(0, 0, false, "late"));
  err(wrong, 403, "M_WRONG_ROOM_KEYS_VERSION", "old version");
  assert.equal(wrong.body.current_version, v2);
  assert.equal(ok(await req("GET", `${K}/version`), "latest 2").version, v2);

  // Deleting keys at each level, then the version.
  let del = ok(await req("DELETE", `${K}/keys/${r}/s2?version=${v1}`), "delete session");
  assert.equal(del.count, 1);
  del = ok(await req("DELETE", `${K}/keys/${r}?version=${v1}`), "delete room");
  assert.equal(del.count, 0);
  ok(await req("PUT", `${K}/keys?version=${v2}`, { rooms: { [room]: { sessions: { s9: data(0, 0, false, "z") } } } }), "put v2");
  assert.equal(ok(await req("DELETE", `${K}/keys?version=${v2}`), "delete all").count, 0);
  ok(await req("DELETE", `${K}/version/${v2}`), "delete version");
  err(await req("GET", `${K}/version/${v2}`), 404, "M_NOT_FOUND", "deleted version");
  ok(await req("DELETE", `${K}/version/${v2}`), "deleting it again succeeds");
  err(await req("DELETE", `${K}/version/424242`), 404, "M_NOT_FOUND", "a version that never existed");
  assert.equal(ok(await req("GET", `${K}/version`), "latest after delete").version, v1);
  // A deleted version's number is never reused.
  const v3 = ok(await req("POST", `${K}/version`, { algorithm: ALG, auth_data: {} }), "create 3").version as string;
  assert.ok(Number(v3) > Number(v2));
  err(await req("GET", `${K}/version/not-a-number`), 404, "M_NOT_FOUND", "malformed version");
});

test("encrypted room events are stored as sent and never indexed for search", async () => {
  const u = await s.user();
  const room = ok(await call(s.url, "POST", `${C}/createRoom`, {
    token: u.accessToken,
    body: { preset: "private_chat", initial_state: [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }] },
  }), "create").room_id as string;
  const content = { algorithm: "m.megolm.v1.aes-sha2", ciphertext: "pelican ciphertext", sender_key: "k", session_id: "s", device_id: u.deviceId };
  const sent = ok(await call(s.url, "PUT", `${C}/rooms/${encodeURIComponent(room)}/send/m.room.encrypted/e1`, { token: u.accessToken, body: content }), "send").event_id as string;
  const ev = ok(await call(s.url, "GET", `${C}/rooms/${encodeURIComponent(room)}/event/${encodeURIComponent(sent)}`, { token: u.accessToken }), "get");
  assert.equal(ev.type, "m.room.encrypted");
  assert.deepEqual(ev.content, content);
  const idx = await s.app.storage.db.selectFrom("event_search").selectAll().where("event_id", "=", sent).execute();
  assert.deepEqual(idx, []);
  const found = ok(await call(s.url, "POST", `${C}/search`, { token: u.accessToken, body: { search_categories: { room_events: { search_term: "pelican" } } } }), "search");
  assert.equal(((found.search_categories as Json).room_events as Json).count ?? 0, 0);
});
