// Account locking (issue 9, step 1): the spec's admin endpoints, M_USER_LOCKED with soft_logout on
// every request but /logout, login refused, sessions ended, unlock.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { call } from "../helpers/http.js";
import { client, sdk } from "../helpers/sdk.js";

const C = "/_matrix/client/v3";
const L = "/_matrix/client/v1/admin/lock";
let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(async () => {
  await s.close();
});

const login = (user: string, password: string) =>
  call(s.url, "POST", `${C}/login`, { body: { type: "m.login.password", identifier: { type: "m.id.user", user }, password } });

test("an admin locks a user: every request gets 401 M_USER_LOCKED soft_logout, login is refused, unlock ends old sessions", async () => {
  const admin = await s.user(undefined, { admin: true });
  const u = await s.user();
  const seen: string[] = [];
  s.app.securityEvents.on((e) => seen.push(`${e.type} ${e.userId}`));

  assert.deepEqual((await call(s.url, "GET", `${L}/${encodeURIComponent(u.userId)}`, { token: admin.accessToken })).body, { locked: false });
  const put = await call(s.url, "PUT", `${L}/${encodeURIComponent(u.userId)}`, { token: admin.accessToken, body: { locked: true, reason: "compromised" } });
  assert.equal(put.status, 200);
  assert.deepEqual(put.body, { locked: true });
  assert.ok(seen.includes(`account.locked ${u.userId}`));
  assert.deepEqual((await s.app.locks.status(u.userId)).reason, "compromised");

  for (const [method, path] of [["GET", `${C}/account/whoami`], ["GET", `${C}/sync?timeout=0`], ["GET", `${C}/devices`], ["POST", `${C}/createRoom`]] as const) {
    const r = await call(s.url, method, path, { token: u.accessToken, body: method === "POST" ? {} : undefined });
    assert.equal(r.status, 401, path);
    assert.equal(r.body.errcode, "M_USER_LOCKED", path);
    assert.equal(r.body.soft_logout, true, path);
  }
  // A real client sees the lock as an M_USER_LOCKED MatrixError.
  const c = client(s.url, { accessToken: u.accessToken, userId: u.userId });
  await assert.rejects(c.whoami(), (e: unknown) => e instanceof sdk.MatrixError && e.errcode === "M_USER_LOCKED");

  // Wrong password: the same answer as for anyone; right password: M_USER_LOCKED.
  assert.equal((await login(u.userId, "wrong-password-entirely")).body.errcode, "M_FORBIDDEN");
  const right = await login(u.userId, u.password);
  assert.equal(right.status, 401);
  assert.equal(right.body.errcode, "M_USER_LOCKED");

  // Unlock: the sessions that existed when the lock was applied stay ended; a new login works.
  await call(s.url, "PUT", `${L}/${encodeURIComponent(u.userId)}`, { token: admin.accessToken, body: { locked: false } });
  assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: u.accessToken })).body.errcode, "M_UNKNOWN_TOKEN");
  const again = await login(u.userId, u.password);
  assert.equal(again.status, 200);
  assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: again.body.access_token as string })).status, 200);
});

test("a locked user may still log out", async () => {
  const u = await s.user();
  await s.app.locks.lock(u.userId, null, null);
  assert.equal((await call(s.url, "POST", `${C}/logout`, { token: u.accessToken })).status, 200);
  assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: u.accessToken })).body.errcode, "M_UNKNOWN_TOKEN");
});

test("a locked user's refresh token is refused with M_USER_LOCKED", async () => {
  const u = await s.user();
  const r = await call(s.url, "POST", `${C}/login`, {
    body: { type: "m.login.password", identifier: { type: "m.id.user", user: u.userId }, password: u.password, refresh_token: true },
  });
  await s.app.locks.lock(u.userId, "test", null);
  const refreshed = await call(s.url, "POST", `${C}/refresh`, { body: { refresh_token: r.body.refresh_token } });
  assert.equal(refreshed.status, 401);
  assert.equal(refreshed.body.errcode, "M_USER_LOCKED");
});

test("lock endpoints: non-admins 403, own account and other admins 403, remote 400, unknown 404, bad body 400", async () => {
  const admin = await s.user(undefined, { admin: true });
  const admin2 = await s.user(undefined, { admin: true });
  const u = await s.user();
  const path = (id: string) => `${L}/${encodeURIComponent(id)}`;
  assert.equal((await call(s.url, "GET", path(admin.userId), { token: u.accessToken })).status, 403);
  assert.equal((await call(s.url, "PUT", path(admin.userId), { token: u.accessToken, body: { locked: true } })).status, 403);
  assert.equal((await call(s.url, "PUT", path(admin.userId), { token: admin.accessToken, body: { locked: true } })).status, 403);
  assert.equal((await call(s.url, "PUT", path(admin2.userId), { token: admin.accessToken, body: { locked: true } })).status, 403);
  const remote = await call(s.url, "GET", path("@x:elsewhere.example"), { token: admin.accessToken });
  assert.equal(remote.status, 400);
  assert.equal(remote.body.errcode, "M_INVALID_PARAM");
  assert.equal((await call(s.url, "GET", path("@nobody:rempart.test"), { token: admin.accessToken })).status, 404);
  const bad = await call(s.url, "PUT", path(u.userId), { token: admin.accessToken, body: { locked: "yes" } });
  assert.equal(bad.body.errcode, "M_BAD_JSON");
  assert.equal((await s.app.locks.status(u.userId)).locked, false);
  await assert.rejects(s.app.locks.lock("@nobody:rempart.test", null, null), /Unknown user/);
});
