// Accounts through matrix-js-sdk 37.5.0, the Element family's own SDK: register (UIA dummy),
// login, whoami, profile, devices, refresh, logout.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { client, sdk } from "../helpers/sdk.js";

let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(async () => {
  await s.close();
});

async function expectMatrixError(p: Promise<unknown>, errcode: string, status?: number): Promise<sdk.MatrixError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof sdk.MatrixError, `expected MatrixError, got ${e}`);
    assert.equal(e.errcode, errcode);
    if (status !== undefined) assert.equal(e.httpStatus, status);
    return e;
  }
  assert.fail(`expected ${errcode}`);
}

/** The 401 of user-interactive auth: flows and session, no errcode when no stage failed. */
async function uiaChallenge(p: Promise<unknown>): Promise<{ flows: { stages: string[] }[]; session: string; completed?: string[] }> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof sdk.MatrixError);
    assert.equal(e.httpStatus, 401);
    return e.data as never;
  }
  assert.fail("expected a 401 challenge");
}

test("register with UIA dummy, then whoami", async () => {
  const c = client(s.url);
  // First call without auth: the server answers 401 with the flows.
  const data = await uiaChallenge(c.registerRequest({ username: "alice", password: "correct horse battery staple" }));
  assert.deepEqual(data.flows, [{ stages: ["m.login.dummy"] }]);
  const res = await c.registerRequest({
    username: "alice",
    password: "correct horse battery staple",
    auth: { type: "m.login.dummy", session: data.session },
    initial_device_display_name: "Alice's laptop",
  });
  assert.equal(res.user_id, "@alice:rempart.test");
  assert.ok(res.access_token && res.device_id);
  const authed = client(s.url, { accessToken: res.access_token, userId: res.user_id });
  const who = await authed.whoami();
  assert.equal(who.user_id, "@alice:rempart.test");
  assert.equal(who.device_id, res.device_id);
});

test("the same name cannot be registered twice", async () => {
  const c = client(s.url);
  await c.registerRequest({ username: "bob", password: "pw-bob-123456-long-enough", auth: { type: "m.login.dummy" } });
  await expectMatrixError(c.registerRequest({ username: "bob", password: "other", auth: { type: "m.login.dummy" } }), "M_USER_IN_USE", 400);
  const avail = await c.isUsernameAvailable("carol");
  assert.equal(avail, true);
  // The SDK turns the server's 400 M_USER_IN_USE into false.
  assert.equal(await c.isUsernameAvailable("bob"), false);
  await expectMatrixError(c.isUsernameAvailable("Not Valid!"), "M_INVALID_USERNAME", 400);
});

test("login with password, legacy user field, wrong password", async () => {
  await s.app.accounts.createUser("dave", "dave-password-1");
  const c = client(s.url);
  const res = await c.loginRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: "dave" }, password: "dave-password-1" });
  assert.equal(res.user_id, "@dave:rempart.test");
  const legacy = await c.loginRequest({ type: "m.login.password", user: "@dave:rempart.test", password: "dave-password-1" } as never);
  assert.equal(legacy.user_id, "@dave:rempart.test");
  assert.notEqual(legacy.device_id, res.device_id);
  await expectMatrixError(c.loginRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: "dave" }, password: "nope" }), "M_FORBIDDEN", 403);
  // An unknown user gets exactly the same answer as a wrong password.
  const e = await expectMatrixError(c.loginRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: "nobody" }, password: "x" }), "M_FORBIDDEN", 403);
  assert.equal(e.data.error, "Invalid username or password");
  const flows = await c.loginFlows();
  assert.deepEqual(flows.flows.map((f) => f.type), ["m.login.password", "m.login.sso", "m.login.token"]);
});

test("set and read the display name and avatar", async () => {
  const u = await s.user("erin");
  const c = client(s.url, { accessToken: u.accessToken, userId: u.userId });
  await c.setDisplayName("Erin Example");
  await c.setAvatarUrl("mxc://rempart.test/abcDEF123");
  const p = await c.getProfileInfo(u.userId);
  assert.equal(p.displayname, "Erin Example");
  assert.equal(p.avatar_url, "mxc://rempart.test/abcDEF123");
  const other = await s.user();
  const c2 = client(s.url, { accessToken: other.accessToken, userId: other.userId });
  assert.equal((await c2.getProfileInfo(u.userId, "displayname")).displayname, "Erin Example");
});

test("list devices, rename, delete with UIA password", async () => {
  const u = await s.user("frank");
  const c = client(s.url, { accessToken: u.accessToken, userId: u.userId, deviceId: u.deviceId });
  const second = await client(s.url).loginRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: "frank" }, password: u.password });
  let devices = (await c.getDevices()).devices;
  assert.deepEqual(devices.map((d) => d.device_id).sort(), [u.deviceId, second.device_id].sort());
  await c.setDeviceDetails(second.device_id, { display_name: "Phone" });
  assert.equal((await c.getDevice(second.device_id)).display_name, "Phone");
  // Without auth: 401 with the password flow; then with the password it goes through.
  const { session, flows } = await uiaChallenge(c.deleteDevice(second.device_id));
  assert.deepEqual(flows, [{ stages: ["m.login.password"] }, { stages: ["m.login.sso"] }]);
  await expectMatrixError(
    c.deleteDevice(second.device_id, { type: "m.login.password", identifier: { type: "m.id.user", user: u.userId }, password: "wrong", session }),
    "M_FORBIDDEN",
    401,
  );
  await c.deleteDevice(second.device_id, { type: "m.login.password", identifier: { type: "m.id.user", user: u.userId }, password: u.password, session });
  devices = (await c.getDevices()).devices;
  assert.deepEqual(devices.map((d) => d.device_id), [u.deviceId]);
  // The deleted device's token no longer works.
  const gone = client(s.url, { accessToken: second.access_token, userId: u.userId });
  await expectMatrixError(gone.whoami(), "M_UNKNOWN_TOKEN", 401);
});

test("refresh tokens: the new pair works, the old pair does not", async () => {
  await s.app.accounts.createUser("grace", "grace-password-1");
  const c = client(s.url);
  const res = await c.loginRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: "grace" }, password: "grace-password-1", refresh_token: true });
  assert.ok(res.refresh_token);
  assert.equal(typeof res.expires_in_ms, "number");
  const refreshed = await c.refreshToken(res.refresh_token!);
  assert.ok(refreshed.access_token && refreshed.refresh_token);
  assert.notEqual(refreshed.access_token, res.access_token);
  const fresh = client(s.url, { accessToken: refreshed.access_token });
  assert.equal((await fresh.whoami()).user_id, "@grace:rempart.test");
  await expectMatrixError(client(s.url, { accessToken: res.access_token }).whoami(), "M_UNKNOWN_TOKEN", 401);
  await expectMatrixError(c.refreshToken(res.refresh_token!), "M_UNKNOWN_TOKEN", 401);
});

test("logout ends the session and deletes the device; logout/all ends all", async () => {
  const u = await s.user("heidi");
  const other = await client(s.url).loginRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: "heidi" }, password: u.password });
  const c = client(s.url, { accessToken: u.accessToken, userId: u.userId });
  await c.logout();
  await expectMatrixError(c.whoami(), "M_UNKNOWN_TOKEN", 401);
  const c2 = client(s.url, { accessToken: other.access_token, userId: u.userId });
  assert.deepEqual((await c2.getDevices()).devices.map((d) => d.device_id), [other.device_id]);
  const third = await client(s.url).loginRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: "heidi" }, password: u.password });
  // The SDK has no wrapper for /logout/all; its generic request path is still the real client.
  await c2.http.authedRequest(sdk.Method.Post, "/logout/all");
  await expectMatrixError(c2.whoami(), "M_UNKNOWN_TOKEN", 401);
  await expectMatrixError(client(s.url, { accessToken: third.access_token }).whoami(), "M_UNKNOWN_TOKEN", 401);
});

test("change password, then deactivate", async () => {
  const u = await s.user("ivan");
  const c = client(s.url, { accessToken: u.accessToken, userId: u.userId });
  await c.setPassword({ type: "m.login.password", identifier: { type: "m.id.user", user: u.userId }, password: u.password }, "a brand new password", false);
  const c2 = client(s.url);
  await expectMatrixError(c2.loginRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: "ivan" }, password: u.password }), "M_FORBIDDEN", 403);
  const again = await c2.loginRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: "ivan" }, password: "a brand new password" });
  const c3 = client(s.url, { accessToken: again.access_token, userId: u.userId });
  await c3.deactivateAccount({ type: "m.login.password", identifier: { type: "m.id.user", user: u.userId }, password: "a brand new password" }, true);
  await expectMatrixError(c3.whoami(), "M_UNKNOWN_TOKEN", 401);
  await expectMatrixError(c2.loginRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: "ivan" }, password: "a brand new password" }), "M_FORBIDDEN", 403);
});

test("account data and filters round-trip", async () => {
  const u = await s.user("judy");
  const c = client(s.url, { accessToken: u.accessToken, userId: u.userId });
  await c.setAccountDataRaw("org.example.test" as never, { hello: "world" } as never);
  assert.deepEqual(await c.getAccountDataFromServer("org.example.test" as never), { hello: "world" });
  const filter = await c.createFilter({ room: { timeline: { limit: 10 } } });
  const fetched = await c.getFilter(u.userId, filter.filterId!, false);
  assert.deepEqual(fetched.getDefinition(), { room: { timeline: { limit: 10 } } });
});
