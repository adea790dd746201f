// The security API (docs/security-console.md) over real HTTP: a scripted scraping session trips the
// read gate; the API shows the alert, the top readers, the reader's timeline with the containment
// step, the room's readers and the meters; lock / unlock / end sessions act on the account and are
// audited with the admin and the target; the audit chain verifies; non-admins get 403 and anonymous
// callers 401 on every endpoint; a console (cookie) session needs the CSRF token to act.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";
import { records } from "../helpers/audit.js";
import { join, login, messages, publicRoom, sendMany } from "../helpers/rooms.js";

const P = "/_rempart/admin/v1/security";
const C = "/_matrix/client/v3";
const enc = encodeURIComponent;
let s: TestServer;
let admin: TestUser;
let alice: TestUser;
let mallory: TestUser;
const rooms: string[] = [];

before(async () => {
  s = await startTestServer({ read_gate: { thresholds: { rooms_read: 3 }, throttles_to_step_up: 3 } });
  admin = await s.user("root", { admin: true });
  alice = await s.user("alice");
  mallory = await s.user("mallory");
  for (let i = 0; i < 8; i++) {
    const r = await publicRoom(s, alice, `forum ${i}`);
    await sendMany(s, alice, r, 2);
    await join(s, mallory, r);
    rooms.push(r);
  }
  // The scraping session: reads room after room until the gate steps it up (soft logout).
  let last = 200;
  for (let i = 0; i < 8 && last !== 401; i++) last = (await messages(s, mallory, rooms[i]!)).status;
  assert.equal(last, 401, "the scraping session is stepped up");
});
after(async () => {
  await s.close();
});

const get = (path: string, token = admin.accessToken) => call(s.url, "GET", path, { token });
const post = (path: string, body: unknown, token = admin.accessToken) => call(s.url, "POST", path, { token, body });

test("every security endpoint: 401 without a token, 403 for a non-admin (recorded), 200 for an admin", async () => {
  const endpoints: [string, string, unknown?][] = [
    ["GET", `${P}/alerts`],
    ["GET", `${P}/meters/${enc(alice.userId)}`],
    ["GET", `${P}/readers`],
    ["GET", `${P}/timeline/${enc(alice.userId)}`],
    ["GET", `${P}/rooms/${enc(rooms[0]!)}/readers`],
    ["POST", `${P}/users/${enc(alice.userId)}/lock`, { reason: "x" }],
    ["POST", `${P}/users/${enc(alice.userId)}/unlock`, {}],
    ["POST", `${P}/users/${enc(alice.userId)}/end_sessions`, { reason: "x" }],
    ["GET", `${P}/audit/verify`],
  ];
  for (const [method, path, body] of endpoints) {
    const anon = await call(s.url, method, path, { body });
    assert.equal(anon.status, 401, `${method} ${path}`);
    assert.equal(anon.body.errcode, "M_MISSING_TOKEN");
    const user = await call(s.url, method, path, { token: alice.accessToken, body });
    assert.equal(user.status, 403, `${method} ${path}`);
    assert.equal(user.body.errcode, "M_FORBIDDEN");
  }
  assert.equal((await s.app.locks.status(alice.userId)).locked, false, "refused calls changed nothing");
  assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: alice.accessToken })).status, 200);
});

test("alerts, top readers, timeline with containment, room readers and meters show the scraping session", async () => {
  const a = await get(`${P}/alerts?limit=10`);
  assert.equal(a.status, 200);
  const alerts = a.body.alerts as { user_id: string; kind: string; detail: { metric: string } }[];
  assert.equal(alerts[0]!.user_id, mallory.userId);
  assert.equal(alerts[0]!.kind, "read_gate.step_up");
  assert.equal(alerts[0]!.detail.metric, "rooms_read");
  assert.deepEqual((await get(`${P}/alerts?since=${Date.now() + 60_000}`)).body.alerts, []);
  assert.equal((await get(`${P}/alerts?limit=0`)).status, 400);
  assert.equal((await get(`${P}/alerts?since=yesterday`)).body.errcode, "M_INVALID_PARAM");

  const r = await get(`${P}/readers?limit=5`);
  assert.equal(r.status, 200);
  const top = (r.body.readers as { user_id: string; reads: number; rooms: number; refused: number }[])[0]!;
  assert.equal(top.user_id, mallory.userId);
  assert.equal(top.rooms, 8, "joined 8 rooms (joins are read records), read 7");
  assert.ok(top.refused >= 3, JSON.stringify(top));

  const t = await get(`${P}/timeline/${enc(mallory.userId)}?minutes=30`);
  assert.equal(t.status, 200);
  const minutes = t.body.minutes as { ts: number; reads: number }[];
  assert.equal(minutes.length, 31);
  assert.equal(minutes.reduce((n, m) => n + m.reads, 0), 15, "8 joins and 7 reads of messages");
  const steps = (t.body.containment as { action: string }[]).map((c) => c.action);
  assert.deepEqual(steps, ["throttle", "throttle", "throttle", "step_up"]);
  assert.equal((await get(`${P}/timeline/${enc(alice.userId)}`)).body.containment instanceof Array, true);
  assert.equal((await get(`${P}/timeline/${enc("@nobody:rempart.test")}`)).status, 404);
  assert.equal((await get(`${P}/timeline/${enc("@x:elsewhere.example")}`)).status, 400);
  assert.equal((await get(`${P}/timeline/${enc(mallory.userId)}?minutes=99999`)).status, 400);

  const rr = await get(`${P}/rooms/${enc(rooms[0]!)}/readers`);
  assert.equal(rr.status, 200);
  assert.deepEqual((rr.body.readers as { user_id: string }[]).map((x) => x.user_id), [mallory.userId]);
  assert.deepEqual((await get(`${P}/rooms/${enc("!unknown:rempart.test")}/readers`)).body.readers, []);
  assert.equal((await get(`${P}/rooms/nonsense/readers`)).status, 400);

  const m = await get(`${P}/meters/${enc(alice.userId)}`);
  assert.equal(m.status, 200);
  const rooms_read = (m.body.metrics as { metric: string; value: number; threshold: number }[]).find((x) => x.metric === "rooms_read")!;
  assert.equal(rooms_read.threshold, 3);
  assert.equal(m.body.lock && (m.body.lock as { locked: boolean }).locked, false);
});

test("lock, unlock and end sessions act on the account and are audited with admin and target", async () => {
  const again = await login(s, "mallory", mallory.password);
  assert.equal(again.status, 200);
  assert.equal((await post(`${P}/users/${enc(mallory.userId)}/lock`, {})).body.errcode, "M_BAD_JSON");
  assert.equal((await post(`${P}/users/${enc(mallory.userId)}/lock`, { reason: "" })).status, 400);
  assert.equal((await post(`${P}/users/${enc("@nobody:rempart.test")}/lock`, { reason: "r" })).status, 404);
  assert.equal((await post(`${P}/users/${enc(admin.userId)}/lock`, { reason: "r" })).status, 403, "not one's own account");
  const l = await post(`${P}/users/${enc(mallory.userId)}/lock`, { reason: "bulk reading" });
  assert.equal(l.status, 200, JSON.stringify(l.body));
  const w = await call(s.url, "GET", `${C}/account/whoami`, { token: again.token });
  assert.equal(w.status, 401);
  assert.equal(w.body.errcode, "M_USER_LOCKED");
  const st = (await get(`${P}/meters/${enc(mallory.userId)}`)).body.lock as { locked: boolean; reason: string; locked_by: string };
  assert.deepEqual([st.locked, st.reason, st.locked_by], [true, "bulk reading", admin.userId]);
  assert.equal((await post(`${P}/users/${enc(mallory.userId)}/unlock`, {})).status, 200);
  assert.equal((await s.app.locks.status(mallory.userId)).locked, false);
  const back = await login(s, "mallory", mallory.password);
  assert.equal(back.status, 200);
  assert.equal((await messages(s, back.token, rooms[0]!)).status, 200, "the read gate lets the unlocked user read");

  const e = await post(`${P}/users/${enc(mallory.userId)}/end_sessions`, { reason: "suspicious" });
  assert.equal(e.status, 200);
  const gone = await call(s.url, "GET", `${C}/account/whoami`, { token: back.token });
  assert.equal(gone.status, 401);
  assert.equal(gone.body.errcode, "M_UNKNOWN_TOKEN");
  assert.equal((await login(s, "mallory", mallory.password)).status, 200, "not locked: the owner signs in again");

  const acts = (await records(s)).filter((r) => r.kind === "admin" && typeof r.data.e === "string" && (r.data.e as string).startsWith("security."));
  assert.deepEqual(
    acts.map((r) => [r.data.e, r.data.u, r.data.target]),
    [
      ["security.lock", admin.userId, mallory.userId],
      ["security.unlock", admin.userId, mallory.userId],
      ["security.end_sessions", admin.userId, mallory.userId],
    ],
  );
  assert.equal(acts[0]!.data.reason, "bulk reading");
  // The admin-path hook records every call too, refusals included.
  const calls = (await records(s)).filter((r) => r.kind === "admin" && r.data.e === "/_rempart/admin/v1/security/users/:userId/lock");
  assert.ok(calls.some((r) => r.data.u === admin.userId && r.data.c === 200));
  assert.ok(calls.some((r) => r.data.u === alice.userId && r.data.c === 403));
});

test("audit verify returns the chain's status", async () => {
  const v = await get(`${P}/audit/verify`);
  assert.equal(v.status, 200);
  assert.equal(v.body.ok, true);
  assert.ok((v.body.records as number) > 10);
});

test("a console (cookie) session: GETs work, POSTs need the CSRF token", async () => {
  const ws = await s.app.webSessions.save(await s.app.webSessions.create({}), { userId: admin.userId, state: "full" });
  const cookie = `rempart_web=${enc(ws.id)}`;
  const g = await call(s.url, "GET", `${P}/alerts`, { headers: { cookie } });
  assert.equal(g.status, 200);
  const noCsrf = await call(s.url, "POST", `${P}/users/${enc(alice.userId)}/end_sessions`, { headers: { cookie }, body: { reason: "x" } });
  assert.equal(noCsrf.status, 403);
  const bad = await call(s.url, "POST", `${P}/users/${enc(alice.userId)}/end_sessions`, { headers: { cookie, "x-csrf-token": "nope" }, body: { reason: "x" } });
  assert.equal(bad.status, 403);
  assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: alice.accessToken })).status, 200);
  const ok = await call(s.url, "POST", `${P}/users/${enc(alice.userId)}/end_sessions`, { headers: { cookie, "x-csrf-token": ws.csrf }, body: { reason: "x" } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  // A non-admin's web session is refused; an unfinished login (password only) is not a session.
  const us = await s.app.webSessions.save(await s.app.webSessions.create({}), { userId: mallory.userId, state: "full" });
  assert.equal((await call(s.url, "GET", `${P}/alerts`, { headers: { cookie: `rempart_web=${enc(us.id)}` } })).status, 403);
  const half = await s.app.webSessions.save(await s.app.webSessions.create({}), { userId: admin.userId, state: "password" });
  assert.equal((await call(s.url, "GET", `${P}/alerts`, { headers: { cookie: `rempart_web=${enc(half.id)}` } })).status, 401);
});
