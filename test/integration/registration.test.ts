// Registration (client-server API "Account registration", "Token-authenticated registration") and
// Synapse's shared-secret registration, over raw HTTP: disabled registration, guests, registration
// tokens issued through the Synapse admin API, races on one name or one token, and the HMAC scheme
// of Synapse's register_new_matrix_user.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { assertError, call, type Res } from "../helpers/http.js";

const C = "/_matrix/client/v3";
const VALIDITY = "/_matrix/client/v1/register/m.login.registration_token/validity";
const ADMIN_REGISTER = "/_synapse/admin/v1/register";
const TOKENS = "/_synapse/admin/v1/registration_tokens";

const servers: TestServer[] = [];
async function server(overrides: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const s = await startTestServer(overrides);
  servers.push(s);
  return s;
}
after(async () => {
  for (const s of servers) await s.close();
});

const userExists = async (s: TestServer, localpart: string) => (await s.app.accounts.getUser(`@${localpart}:rempart.test`)) !== undefined;

test("registration disabled: 403 M_FORBIDDEN, nothing created, and no probing of names", async () => {
  const s = await server({ enable_registration: false });
  await s.app.accounts.createUser("existing", "existing-password");
  for (const auth of [undefined, { type: "m.login.dummy" }]) {
    assertError(await call(s.url, "POST", `${C}/register`, { body: { username: "newbie", password: "pw-newbie-1", auth } }), 403, "M_FORBIDDEN", "register");
  }
  assertError(await call(s.url, "POST", `${C}/register`), 403, "M_FORBIDDEN", "register without a body");
  assert.equal(await userExists(s, "newbie"), false);
  // With registration closed, /register/available must not tell anonymous callers who has an account.
  const taken = await call(s.url, "GET", `${C}/register/available?username=existing`);
  const free = await call(s.url, "GET", `${C}/register/available?username=nobody`);
  assertError(taken, 403, "M_FORBIDDEN", "available (taken)");
  assertError(free, 403, "M_FORBIDDEN", "available (free)");
  assertError(await call(s.url, "GET", `${VALIDITY}?token=abc`), 403, "M_FORBIDDEN", "validity");
});

test("guest registration is refused with 403 M_GUEST_ACCESS_FORBIDDEN", async () => {
  for (const enable_registration of [true, false]) {
    const s = await server({ enable_registration });
    const res = await call(s.url, "POST", `${C}/register?kind=guest`, { body: {} });
    assertError(res, 403, "M_GUEST_ACCESS_FORBIDDEN", `enable_registration: ${enable_registration}`);
    const users = await s.app.storage.db.selectFrom("users").select("user_id").execute();
    assert.deepEqual(users, []);
  }
});

test("open registration: the dummy flow, and the name is reported taken afterwards", async () => {
  const s = await server({ enable_registration: true });
  const challenge = await call(s.url, "POST", `${C}/register`, { body: { username: "Opal", password: "pw-opal-1234-long-enough" } });
  assert.equal(challenge.status, 401);
  assert.deepEqual(challenge.body.flows, [{ stages: ["m.login.dummy"] }]);
  const done = await call(s.url, "POST", `${C}/register`, {
    body: { username: "Opal", password: "pw-opal-1234-long-enough", auth: { type: "m.login.dummy", session: challenge.body.session } },
  });
  assert.equal(done.status, 200, JSON.stringify(done.body));
  assert.equal(done.body.user_id, "@opal:rempart.test");
  assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: done.body.access_token as string })).body.user_id, "@opal:rempart.test");
  assertError(await call(s.url, "GET", `${C}/register/available?username=opal`), 400, "M_USER_IN_USE");
  assert.deepEqual((await call(s.url, "GET", `${C}/register/available?username=other`)).body, { available: true });
});

test("registration tokens from the Synapse admin API: the flow, one use, validity, refusal of the second use", async () => {
  const s = await server({ enable_registration: true, registration_requires_token: true });
  const admin = await s.user("tokenadmin", { admin: true });
  const created = await call(s.url, "POST", `${TOKENS}/new`, { token: admin.accessToken, body: { uses_allowed: 1 } });
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const token = created.body.token as string;
  assert.match(token, /^[A-Za-z0-9._~-]{1,64}$/);
  assert.deepEqual({ ...created.body, token: "" }, { token: "", uses_allowed: 1, pending: 0, completed: 0, expiry_time: null });

  assert.deepEqual((await call(s.url, "GET", `${VALIDITY}?token=${token}`)).body, { valid: true });
  assert.deepEqual((await call(s.url, "GET", `${VALIDITY}?token=not-a-token`)).body, { valid: false });

  // The only flow offered is the registration token.
  const challenge = await call(s.url, "POST", `${C}/register`, { body: { username: "tess", password: "pw-tess-1234-long-enough" } });
  assert.equal(challenge.status, 401);
  assert.deepEqual(challenge.body.flows, [{ stages: ["m.login.registration_token"] }]);
  const session = challenge.body.session as string;
  // The dummy stage does not get around it; a wrong token is refused and the session goes on.
  const dummy = await call(s.url, "POST", `${C}/register`, { body: { username: "tess", password: "pw-tess-1234-long-enough", auth: { type: "m.login.dummy", session } } });
  assert.equal(dummy.status, 401);
  const wrong = await call(s.url, "POST", `${C}/register`, {
    body: { username: "tess", password: "pw-tess-1234-long-enough", auth: { type: "m.login.registration_token", token: "wrong-token", session } },
  });
  assertError(wrong, 401, "M_FORBIDDEN", "wrong token");
  assert.equal(await userExists(s, "tess"), false);

  const ok = await call(s.url, "POST", `${C}/register`, {
    body: { username: "tess", password: "pw-tess-1234-long-enough", auth: { type: "m.login.registration_token", token, session } },
  });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.user_id, "@tess:rempart.test");

  // Used up: the validity endpoint says so, the admin API counts it, a second registration is refused.
  assert.deepEqual((await call(s.url, "GET", `${VALIDITY}?token=${token}`)).body, { valid: false });
  const info = await call(s.url, "GET", `${TOKENS}/${token}`, { token: admin.accessToken });
  assert.equal(info.body.completed, 1);
  const again = await call(s.url, "POST", `${C}/register`, {
    body: { username: "tom", password: "pw-tom-12345-long-enough", auth: { type: "m.login.registration_token", token } },
  });
  assertError(again, 401, "M_FORBIDDEN", "second use");
  assert.equal(await userExists(s, "tom"), false);
  assert.equal((await call(s.url, "GET", `${TOKENS}/${token}`, { token: admin.accessToken })).body.completed, 1);

  // Raising uses_allowed through the admin API makes it valid again; deleting it ends it.
  assert.equal((await call(s.url, "PUT", `${TOKENS}/${token}`, { token: admin.accessToken, body: { uses_allowed: 2 } })).status, 200);
  assert.deepEqual((await call(s.url, "GET", `${VALIDITY}?token=${token}`)).body, { valid: true });
  assert.equal((await call(s.url, "DELETE", `${TOKENS}/${token}`, { token: admin.accessToken })).status, 200);
  assert.deepEqual((await call(s.url, "GET", `${VALIDITY}?token=${token}`)).body, { valid: false });
  const listed = await call(s.url, "GET", TOKENS, { token: admin.accessToken });
  assert.deepEqual(listed.body, { registration_tokens: [] });
});

test("a one-use registration token raced by several registrations lets exactly one through", async () => {
  const s = await server({ enable_registration: true, registration_requires_token: true });
  const admin = await s.user("raceadmin", { admin: true });
  const created = await call(s.url, "POST", `${TOKENS}/new`, { token: admin.accessToken, body: { token: "one-shot", uses_allowed: 1 } });
  assert.equal(created.status, 200);
  const names = Array.from({ length: 8 }, (_, i) => `racer${i}`);
  const results = await Promise.all(
    names.map((username) =>
      call(s.url, "POST", `${C}/register`, { body: { username, password: "pw-racer-123-long-enough", auth: { type: "m.login.registration_token", token: "one-shot" } } }),
    ),
  );
  const winners = results.filter((r) => r.status === 200);
  assert.equal(winners.length, 1, JSON.stringify(results.map((r) => [r.status, r.body.errcode])));
  for (const r of results.filter((x) => x.status !== 200)) {
    assert.ok(r.status === 401 || r.status === 403, `${r.status} ${JSON.stringify(r.body)}`);
    assert.equal(r.body.errcode, "M_FORBIDDEN");
  }
  const created_users = (await Promise.all(names.map((n) => userExists(s, n)))).filter(Boolean);
  assert.equal(created_users.length, 1);
  assert.equal((await call(s.url, "GET", `${TOKENS}/one-shot`, { token: admin.accessToken })).body.completed, 1);
});

test("concurrent registrations of the same name: exactly one succeeds", async () => {
  const s = await server({ enable_registration: true });
  const attempts = Array.from({ length: 10 }, (_, i) =>
    call(s.url, "POST", `${C}/register`, {
      body: { username: "Samename", password: `pw-same-${i}-123-long-enough`, initial_device_display_name: `attempt ${i}`, auth: { type: "m.login.dummy" } },
    }),
  );
  const results = await Promise.all(attempts);
  const winners = results.filter((r) => r.status === 200);
  assert.equal(winners.length, 1, JSON.stringify(results.map((r) => [r.status, r.body.errcode])));
  for (const r of results.filter((x) => x.status !== 200)) assertError(r, 400, "M_USER_IN_USE", "loser");
  const users = await s.app.storage.db.selectFrom("users").select("user_id").where("localpart", "=", "samename").execute();
  assert.equal(users.length, 1);
  // The winner's credentials are the ones stored: its session works and it alone has a device.
  const winner = winners[0]!;
  assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: winner.body.access_token as string })).status, 200);
  const devices = await call(s.url, "GET", `${C}/devices`, { token: winner.body.access_token as string });
  assert.deepEqual((devices.body.devices as { device_id: string }[]).map((d) => d.device_id), [winner.body.device_id]);
});

// Exactly what Synapse's register_new_matrix_user sends: HMAC-SHA1, hex, of
// nonce \0 user \0 password \0 admin|notadmin [\0 user_type], and a body with admin and user_type.
function synapseMac(secret: string, nonce: string, user: string, password: string, admin: boolean, userType: string | null = null): string {
  const mac = createHmac("sha1", Buffer.from(secret, "utf8"));
  mac.update(Buffer.from(nonce, "utf8")).update("\x00").update(Buffer.from(user, "utf8")).update("\x00").update(Buffer.from(password, "utf8"));
  mac.update("\x00").update(admin ? "admin" : "notadmin");
  if (userType) mac.update("\x00").update(Buffer.from(userType, "utf8"));
  return mac.digest("hex");
}

async function sharedSecretRegister(
  s: TestServer,
  secret: string,
  user: string,
  password: string,
  admin: boolean,
  opts: { nonce?: string; mac?: string; userType?: string | null } = {},
): Promise<{ nonce: string; res: Res }> {
  let nonce = opts.nonce;
  if (nonce === undefined) {
    const got = await call(s.url, "GET", ADMIN_REGISTER);
    assert.equal(got.status, 200, JSON.stringify(got.body));
    nonce = got.body.nonce as string;
    assert.ok(typeof nonce === "string" && nonce.length >= 16);
  }
  const mac = opts.mac ?? synapseMac(secret, nonce, user, password, admin, opts.userType ?? null);
  const res = await call(s.url, "POST", ADMIN_REGISTER, { body: { nonce, username: user, password, mac, admin, user_type: opts.userType ?? null } });
  return { nonce, res };
}

test("shared-secret registration as register_new_matrix_user does it: MAC, single-use nonces, admin flag", async () => {
  const secret = "a-long-registration-shared-secret";
  // Registration through /register is closed: shared-secret registration is the operator's way in.
  const s = await server({ enable_registration: false, registration_shared_secret: secret });

  // A plain user: the returned token works; the user is not an admin.
  const plain = await sharedSecretRegister(s, secret, "plain", "plain-password-1", false);
  assert.equal(plain.res.status, 200, JSON.stringify(plain.res.body));
  assert.equal(plain.res.body.user_id, "@plain:rempart.test");
  assert.equal(plain.res.body.home_server, "rempart.test");
  const plainToken = plain.res.body.access_token as string;
  assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: plainToken })).body.user_id, "@plain:rempart.test");
  assertError(await call(s.url, "GET", TOKENS, { token: plainToken }), 403, "M_FORBIDDEN", "non-admin on the admin API");
  // The password given is the one set.
  const login = await call(s.url, "POST", `${C}/login`, { body: { type: "m.login.password", user: "plain", password: "plain-password-1" } });
  assert.equal(login.status, 200);

  // The nonce was used: replaying the same request is refused.
  const replay = await sharedSecretRegister(s, secret, "plain2", "plain-password-2", false, { nonce: plain.nonce });
  assertError(replay.res, 400, "M_UNKNOWN", "reused nonce");
  assert.equal(await userExists(s, "plain2"), false);

  // A wrong MAC is refused, and it burns the nonce too.
  const wrongSecret = await sharedSecretRegister(s, "not-the-secret-at-all", "mallory", "mallory-password", true);
  assertError(wrongSecret.res, 403, "M_FORBIDDEN", "wrong MAC");
  const retry = await sharedSecretRegister(s, secret, "mallory", "mallory-password", true, { nonce: wrongSecret.nonce });
  assertError(retry.res, 400, "M_UNKNOWN", "nonce reused after a wrong MAC");
  assert.equal(await userExists(s, "mallory"), false);

  // The admin flag is covered by the MAC: claiming admin with a notadmin MAC is refused.
  const got = await call(s.url, "GET", ADMIN_REGISTER);
  const nonce = got.body.nonce as string;
  const forged = await sharedSecretRegister(s, secret, "sneaky", "sneaky-password", true, { nonce, mac: synapseMac(secret, nonce, "sneaky", "sneaky-password", false) });
  assertError(forged.res, 403, "M_FORBIDDEN", "admin claimed with a notadmin MAC");
  assert.equal(await userExists(s, "sneaky"), false);
  // An unknown nonce is refused.
  assertError((await sharedSecretRegister(s, secret, "x1", "x1-password", false, { nonce: "0".repeat(32) })).res, 400, "M_UNKNOWN", "unknown nonce");

  // An admin: its token can use the registration-tokens admin API.
  const boss = await sharedSecretRegister(s, secret, "boss", "boss-password-1", true);
  assert.equal(boss.res.status, 200, JSON.stringify(boss.res.body));
  const bossToken = boss.res.body.access_token as string;
  const tokenList = await call(s.url, "GET", TOKENS, { token: bossToken });
  assert.equal(tokenList.status, 200, JSON.stringify(tokenList.body));
  const made = await call(s.url, "POST", `${TOKENS}/new`, { token: bossToken, body: { uses_allowed: 1 } });
  assert.equal(made.status, 200);

  // A user_type is part of the MAC when given.
  const typed = await sharedSecretRegister(s, secret, "helper", "helper-password-1", false, { userType: "support" });
  assert.equal(typed.res.status, 200, JSON.stringify(typed.res.body));
  assert.equal((await s.app.accounts.getUser("@helper:rempart.test"))?.user_type, "support");

  // A taken name is M_USER_IN_USE (register_new_matrix_user --exists-ok relies on it).
  assertError((await sharedSecretRegister(s, secret, "boss", "boss-password-2", true)).res, 400, "M_USER_IN_USE", "existing user");
});

test("one nonce raced by concurrent shared-secret registrations is used once", async () => {
  const secret = "another-registration-shared-secret";
  const s = await server({ registration_shared_secret: secret });
  const nonce = (await call(s.url, "GET", ADMIN_REGISTER)).body.nonce as string;
  const results = await Promise.all(
    Array.from({ length: 6 }, (_, i) => sharedSecretRegister(s, secret, `twin${i}`, "twin-password-1", false, { nonce }).then((r) => r.res)),
  );
  assert.equal(results.filter((r) => r.status === 200).length, 1, JSON.stringify(results.map((r) => r.status)));
  for (const r of results.filter((x) => x.status !== 200)) assertError(r, 400, "M_UNKNOWN", "raced nonce");
});

test("shared-secret registration is off without a configured secret", async () => {
  const s = await server({});
  const got = await call(s.url, "GET", ADMIN_REGISTER);
  assert.equal(got.status, 400);
  assert.equal(typeof got.body.errcode, "string");
  const post = await call(s.url, "POST", ADMIN_REGISTER, { body: { nonce: "n", username: "u", password: "p", mac: "m", admin: true } });
  assert.equal(post.status, 400);
  assert.equal(await userExists(s, "u"), false);
});
