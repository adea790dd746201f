// The antivirus gate with a real clamd (INSTREAM over its Unix socket): infected uploads refused and
// quarantined with a record in the database; scanner down → 503 until it is back (fail closed), or
// served with fail_open; scanner disabled. Then the Synapse-compatible media admin API.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";
import { client } from "../helpers/sdk.js";
import { EICAR, clamdSocketPath, startClamd, type Clamd } from "../helpers/clamd.js";
import { ClamdScanner } from "../../src/media/antivirus.js";
import { Readable } from "node:stream";

const V1 = "/_matrix/client/v1/media";
const UPLOAD = "/_matrix/media/v3/upload";
const A = "/_synapse/admin/v1";

let clamd: Clamd;
let s: TestServer;
let alice: TestUser;
let bob: TestUser;
let admin: TestUser;

const av = (socket: string, failOpen = false) => ({ enabled: true, socket, port: 3310, fail_open: failOpen, timeout_ms: 5000 });
const idOf = (mxc: string) => mxc.split("/").pop()!;

async function up(server: TestServer, token: string, body: string | Buffer, type = "application/octet-stream", name?: string) {
  const q = name ? `?filename=${encodeURIComponent(name)}` : "";
  return call(server.url, "POST", UPLOAD + q, { token, raw: body as unknown as string, headers: { "content-type": type } });
}

const row = (server: TestServer, id: string) => server.app.storage.db.selectFrom("media").selectAll().where("media_id", "=", id).executeTakeFirstOrThrow();

before(async () => {
  clamd = await startClamd();
  s = await startTestServer({ antivirus: av(clamd.socket) });
  alice = await s.user("alice");
  bob = await s.user("bob");
  admin = await s.user("admin", { admin: true });
});

after(async () => {
  await s?.close();
  await clamd?.stop();
});

test("the clamd client: PING, a clean stream, the EICAR stream, a multi-chunk stream", async () => {
  const scanner = new ClamdScanner({ socket: clamd.socket, port: 0, timeoutMs: 5000 });
  assert.equal(await scanner.ping(), true);
  assert.deepEqual(await scanner.scan(Readable.from([Buffer.from("hello")])), { infected: false });
  const v = await scanner.scan(Readable.from([EICAR]));
  assert.equal(v.infected, true);
  assert.match((v as { signature: string }).signature, /Rempart-Test-EICAR/);
  const big = Readable.from((function* () {
    for (let i = 0; i < 40; i++) yield Buffer.alloc(100_000, i);
  })());
  assert.deepEqual(await scanner.scan(big), { infected: false });
  const down = new ClamdScanner({ socket: join(clamd.socket, "..", "nope.sock"), port: 0, timeoutMs: 1000 });
  await assert.rejects(down.scan(Readable.from([Buffer.from("x")])), /clamd/);
  assert.equal(await down.ping(), false);
});

test("a clean upload is scanned before it is served", async () => {
  const r = await up(s, alice.accessToken, "a clean report", "text/plain", "report.txt");
  assert.equal(r.status, 200);
  const id = idOf(r.body.content_uri as string);
  const m = await row(s, id);
  assert.equal(m.status, "clean");
  assert.ok(m.scanned_ts !== null);
  const d = await call(s.url, "GET", `${V1}/download/rempart.test/${id}`, { token: bob.accessToken });
  assert.equal(d.status, 200);
  assert.equal(d.body._text, "a clean report");
});

test("the EICAR file is refused with 403, quarantined, and recorded", async () => {
  const sdk = client(s.url, { accessToken: alice.accessToken, userId: alice.userId, deviceId: alice.deviceId });
  await assert.rejects(sdk.uploadContent(EICAR as unknown as Blob, { type: "text/plain", name: "eicar.com" }), (e: { httpStatus?: number; errcode?: string; data?: { error?: string } }) => {
    assert.equal(e.httpStatus, 403);
    assert.equal(e.errcode, "M_FORBIDDEN");
    assert.match(e.data?.error ?? "", /antivirus/);
    return true;
  });
  const rows = await s.app.storage.db.selectFrom("media").selectAll().where("status", "=", "infected").execute();
  assert.equal(rows.length, 1);
  const m = rows[0]!;
  assert.equal(m.user_id, alice.userId);
  assert.equal(m.quarantined_by, "antivirus");
  assert.match(m.scan_result ?? "", /Rempart-Test-EICAR/);
  assert.match(m.quarantine_reason ?? "", /infected: .*Rempart-Test-EICAR/);
  const root = join(s.config.data_dir, "media");
  assert.equal(existsSync(join(root, "local", m.media_id.slice(0, 2), m.media_id)), false, "not in the servable area");
  assert.equal(existsSync(join(root, "quarantine", m.media_id.slice(0, 2), m.media_id)), true, "kept in quarantine");
  const d = await call(s.url, "GET", `${V1}/download/rempart.test/${m.media_id}`, { token: alice.accessToken });
  assert.equal(d.status, 403);
  assert.equal(d.body.errcode, "M_FORBIDDEN");
});

test("the EICAR file through create + PUT: the PUT is refused and the id never serves it", async () => {
  const c = await call(s.url, "POST", "/_matrix/media/v1/create", { token: alice.accessToken });
  const id = idOf(c.body.content_uri as string);
  const put = await call(s.url, "PUT", `${UPLOAD}/rempart.test/${id}`, { token: alice.accessToken, raw: EICAR.toString("latin1"), headers: { "content-type": "application/octet-stream" } });
  assert.equal(put.status, 403);
  for (const path of [`${V1}/download/rempart.test/${id}`, `${V1}/thumbnail/rempart.test/${id}?width=32&height=32`]) {
    const r = await call(s.url, "GET", path, { token: bob.accessToken });
    assert.equal(r.status, 403, path);
  }
  assert.equal((await call(s.url, "PUT", `${UPLOAD}/rempart.test/${id}`, { token: alice.accessToken, raw: "clean now" })).status, 409);
});

test("scanner down: uploads are kept but not served (503, retryable) until a scan succeeds", async () => {
  const socket = clamdSocketPath();
  const s2 = await startTestServer({ antivirus: av(socket) });
  let late: Clamd | undefined;
  try {
    const u = await s2.user("frank");
    const r = await up(s2, u.accessToken, "scanned later", "text/plain");
    assert.equal(r.status, 200);
    const id = idOf(r.body.content_uri as string);
    assert.equal((await row(s2, id)).status, "unscanned");
    for (const path of [`${V1}/download/rempart.test/${id}`, `${V1}/thumbnail/rempart.test/${id}?width=32&height=32`]) {
      const d = await call(s2.url, "GET", path, { token: u.accessToken });
      assert.equal(d.status, 503, path);
      assert.equal(d.body.errcode, "M_UNKNOWN");
      assert.equal(typeof d.body.retry_after_ms, "number");
      assert.ok(d.headers.get("retry-after"));
    }
    // An infected file uploaded while the scanner was down is caught when it comes back.
    const bad = await up(s2, u.accessToken, EICAR);
    assert.equal(bad.status, 200);
    late = await startClamd({ socket });
    const d = await call(s2.url, "GET", `${V1}/download/rempart.test/${id}`, { token: u.accessToken });
    assert.equal(d.status, 200);
    assert.equal(d.body._text, "scanned later");
    assert.equal((await row(s2, id)).status, "clean");
    const b = await call(s2.url, "GET", `${V1}/download/rempart.test/${idOf(bad.body.content_uri as string)}`, { token: u.accessToken });
    assert.equal(b.status, 403);
    assert.equal((await row(s2, idOf(bad.body.content_uri as string))).quarantined_by, "antivirus");
  } finally {
    await s2.close();
    await late?.stop();
  }
});

test("scanner down with fail_open: files are served unscanned", async () => {
  const s2 = await startTestServer({ antivirus: av(clamdSocketPath(), true) });
  try {
    const u = await s2.user("gina");
    const r = await up(s2, u.accessToken, "served anyway", "text/plain");
    const id = idOf(r.body.content_uri as string);
    const d = await call(s2.url, "GET", `${V1}/download/rempart.test/${id}`, { token: u.accessToken });
    assert.equal(d.status, 200);
    assert.equal(d.body._text, "served anyway");
    assert.equal((await row(s2, id)).status, "unscanned", "still to be scanned when the scanner returns");
  } finally {
    await s2.close();
  }
});

test("antivirus disabled: files are served, and marked as not scanned", async () => {
  const s2 = await startTestServer({ antivirus: { enabled: false } as never });
  try {
    const u = await s2.user("hank");
    const r = await up(s2, u.accessToken, EICAR);
    assert.equal(r.status, 200);
    const id = idOf(r.body.content_uri as string);
    assert.equal((await row(s2, id)).status, "skipped");
    assert.equal((await call(s2.url, "GET", `${V1}/download/rempart.test/${id}`, { token: u.accessToken })).status, 200);
  } finally {
    await s2.close();
  }
});

test("admin: query, quarantine one file, list a user's media and usage, quarantine all, delete", async () => {
  const ids: string[] = [];
  for (const body of ["one", "two!", "three"]) ids.push(idOf((await up(s, bob.accessToken, body, "text/plain")).body.content_uri as string));

  const info = await call(s.url, "GET", `${A}/media/rempart.test/${ids[0]}`, { token: admin.accessToken });
  assert.equal(info.status, 200);
  const mi = info.body.media_info as Record<string, unknown>;
  assert.equal(mi.user_id, bob.userId);
  assert.equal(mi.scan_status, "clean");
  assert.equal(mi.media_length, 3);

  const q = await call(s.url, "POST", `${A}/media/quarantine/rempart.test/${ids[0]}`, { token: admin.accessToken });
  assert.equal(q.status, 200);
  const gone = await call(s.url, "GET", `${V1}/download/rempart.test/${ids[0]}`, { token: bob.accessToken });
  assert.equal(gone.status, 404);
  assert.equal((await row(s, ids[0]!)).quarantined_by, admin.userId);

  const list = await call(s.url, "GET", `${A}/users/${encodeURIComponent(bob.userId)}/media?limit=2`, { token: admin.accessToken });
  assert.equal(list.status, 200);
  assert.equal(list.body.total, 3);
  assert.equal(list.body.total_bytes, 3 + 4 + 5);
  assert.equal((list.body.media as unknown[]).length, 2);
  assert.equal(list.body.next_token, 2);
  const page2 = await call(s.url, "GET", `${A}/users/${encodeURIComponent(bob.userId)}/media?from=2`, { token: admin.accessToken });
  const all = [...(list.body.media as { media_id: string }[]), ...(page2.body.media as { media_id: string }[])].map((m) => m.media_id).sort();
  assert.deepEqual(all, [...ids].sort());

  const qa = await call(s.url, "POST", `${A}/user/${encodeURIComponent(bob.userId)}/media/quarantine`, { token: admin.accessToken });
  assert.equal(qa.body.num_quarantined, 2, "the first one was already quarantined");
  for (const id of ids) assert.equal((await call(s.url, "GET", `${V1}/download/rempart.test/${id}`, { token: bob.accessToken })).status, 404);

  const del = await call(s.url, "DELETE", `${A}/media/rempart.test/${ids[0]}`, { token: admin.accessToken });
  assert.deepEqual(del.body, { deleted_media: [ids[0]], total: 1 });
  assert.equal((await call(s.url, "GET", `${A}/media/rempart.test/${ids[0]}`, { token: admin.accessToken })).status, 404);
  assert.equal(existsSync(join(s.config.data_dir, "media", "quarantine", ids[0]!.slice(0, 2), ids[0]!)), false);

  const delAll = await call(s.url, "DELETE", `${A}/users/${encodeURIComponent(bob.userId)}/media`, { token: admin.accessToken });
  assert.equal(delAll.body.total, 2);
  const empty = await call(s.url, "GET", `${A}/users/${encodeURIComponent(bob.userId)}/media`, { token: admin.accessToken });
  assert.deepEqual([empty.body.total, empty.body.total_bytes], [0, 0]);

  // Unknown or malformed ids, a non-admin.
  assert.equal((await call(s.url, "POST", `${A}/media/quarantine/rempart.test/NoSuchMedia`, { token: admin.accessToken })).status, 404);
  assert.equal((await call(s.url, "DELETE", `${A}/media/rempart.test/..%2Fx`, { token: admin.accessToken })).status, 400);
  assert.equal((await call(s.url, "GET", `${A}/users/not-a-user/media`, { token: admin.accessToken })).status, 400);
  const mine = idOf((await up(s, alice.accessToken, "mine", "text/plain")).body.content_uri as string);
  const refused = await call(s.url, "DELETE", `${A}/media/rempart.test/${mine}`, { token: alice.accessToken });
  assert.equal(refused.status, 403);
  assert.equal((await call(s.url, "GET", `${V1}/download/rempart.test/${mine}`, { token: alice.accessToken })).status, 200);
});
