// Account validity on an injected clock: the renewal mail goes out ahead of expiry, an expired
// account gets 403 ORG_MATRIX_EXPIRED_ACCOUNT everywhere but renewal and logout, the mailed link
// renews it, long-expired accounts are deactivated, admins extend accounts (Synapse's API).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startPolicyServer, registerByEmail, local, type PolicyServer } from "../helpers/policy.js";
import type { TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";

const DAY = 24 * 3600 * 1000;
let clock = Date.UTC(2026, 0, 1);
let s: PolicyServer;
let admin: TestUser;

before(async () => {
  s = await startPolicyServer(
    { account_validity: { enabled: true, period_ms: 30 * DAY, renew_before_ms: 7 * DAY, deactivate_after_ms: 10 * DAY, sweep_interval_ms: 0 } },
    { now: () => clock },
  );
  admin = await s.user("root", { admin: true });
});
after(async () => {
  await s.close();
});

const whoami = (token: string) => call(s.url, "GET", "/_matrix/client/v3/account/whoami", { token });
/** Keeps the admin valid whatever the clock says (admins expire too). */
const keepAdmin = () => s.app.accountValidity.set(admin.userId, clock + 365 * DAY);

test("renewal mail ahead of expiry, 403 when expired, renewal by the mailed link", async () => {
  const u = await registerByEmail(s, "agent.valid@interieur.gouv.fr");
  assert.equal((await whoami(u.accessToken)).status, 200);
  // This server keeps emails private (policy.localpart "opaque"): the id does not reveal it.
  assert.doesNotMatch(u.userId, /agent|interieur/);
  assert.equal((await u.client.getProfileInfo(u.userId)).displayname, "Agent Valid [Interieur]");
  // 22 days later: not yet within 7 days of expiry, no mail.
  clock += 22 * DAY;
  assert.deepEqual(await s.app.accountValidity.sweep(), { mailed: 0, deactivated: 0 });
  // 24 days: the renewal mail goes out, once.
  clock += 2 * DAY;
  assert.deepEqual(await s.app.accountValidity.sweep(), { mailed: 1, deactivated: 0 });
  assert.deepEqual(await s.app.accountValidity.sweep(), { mailed: 0, deactivated: 0 });
  const mail = await s.smtp.take("agent.valid@interieur.gouv.fr", /renew/i);
  const link = /(http\S+account_validity\/renew\S+)/.exec(mail.text)![1]!;
  // 31 days: expired.
  clock += 7 * DAY;
  const expired = await whoami(u.accessToken);
  assert.equal(expired.status, 403);
  assert.equal(expired.body.errcode, "ORG_MATRIX_EXPIRED_ACCOUNT");
  const sync = await call(s.url, "GET", "/_matrix/client/v3/sync?timeout=0", { token: u.accessToken });
  assert.equal(sync.body.errcode, "ORG_MATRIX_EXPIRED_ACCOUNT");
  // A wrong token renews nothing; the mailed link does, for a new period from now.
  assert.equal((await call(s.url, "GET", "/_matrix/client/unstable/account_validity/renew?token=wrong")).status, 404);
  const renewed = await fetch(local(s, link));
  assert.equal(renewed.status, 200);
  assert.equal(((await renewed.json()) as { expiration_ts: number }).expiration_ts, clock + 30 * DAY);
  assert.equal((await whoami(u.accessToken)).status, 200);
  // The link is single-use.
  assert.equal((await fetch(local(s, link))).status, 404);
});

test("an expired account may ask for a new mail and log out, nothing else", async () => {
  const u = await registerByEmail(s, "agent.late@interieur.gouv.fr");
  clock += 31 * DAY;
  assert.equal((await whoami(u.accessToken)).body.errcode, "ORG_MATRIX_EXPIRED_ACCOUNT");
  const create = await call(s.url, "POST", "/_matrix/client/v3/createRoom", { token: u.accessToken, body: {} });
  assert.equal(create.body.errcode, "ORG_MATRIX_EXPIRED_ACCOUNT");
  const send = await call(s.url, "POST", "/_matrix/client/unstable/account_validity/send_mail", { token: u.accessToken });
  assert.equal(send.status, 200, JSON.stringify(send.body));
  const mail = await s.smtp.take("agent.late@interieur.gouv.fr", /renew/i);
  assert.match(mail.text, /account_validity\/renew\?token=/);
  assert.equal((await call(s.url, "POST", "/_matrix/client/v3/logout", { token: u.accessToken })).status, 200);
});

test("accounts expired for longer than deactivate_after are deactivated", async () => {
  const u = await registerByEmail(s, "agent.gone@interieur.gouv.fr");
  clock += 35 * DAY;
  await keepAdmin();
  await s.app.accountValidity.sweep();
  assert.equal((await s.app.accounts.getUser(u.userId))?.deactivated, 0, "expired 5 days: not yet");
  clock += 6 * DAY;
  await keepAdmin();
  const r = await s.app.accountValidity.sweep();
  assert.ok(r.deactivated >= 1);
  assert.equal((await s.app.accounts.getUser(u.userId))?.deactivated, 1);
  const login = await call(s.url, "POST", "/_matrix/client/v3/login", { body: { type: "m.login.password", identifier: { type: "m.id.user", user: u.userId }, password: u.password } });
  assert.equal(login.status, 403, "deactivation removed the password");
  assert.equal((await whoami(u.accessToken)).status, 401, "and the sessions");
});

test("admins extend or end an account's validity (POST /_synapse/admin/v1/account_validity/validity)", async () => {
  await keepAdmin();
  const u = await s.user();
  const path = "/_synapse/admin/v1/account_validity/validity";
  const past = await call(s.url, "POST", path, { token: admin.accessToken, body: { user_id: u.userId, expiration_ts: clock - 1 } });
  assert.deepEqual(past.body, { expiration_ts: clock - 1 });
  assert.equal((await whoami(u.accessToken)).body.errcode, "ORG_MATRIX_EXPIRED_ACCOUNT");
  const ext = await call(s.url, "POST", path, { token: admin.accessToken, body: { user_id: u.userId } });
  assert.deepEqual(ext.body, { expiration_ts: clock + 30 * DAY });
  assert.equal((await whoami(u.accessToken)).status, 200);
  // Refusals: not an admin, unknown user, bad body.
  const other = await s.user();
  assert.equal((await call(s.url, "POST", path, { token: other.accessToken, body: { user_id: other.userId, expiration_ts: clock + 999 * DAY } })).status, 403);
  assert.equal((await call(s.url, "POST", path, { token: admin.accessToken, body: { user_id: "@nobody:rempart.test" } })).status, 404);
  assert.equal((await call(s.url, "POST", path, { token: admin.accessToken, body: { user_id: u.userId, expiration_ts: "soon" } })).body.errcode, "M_BAD_JSON");
});
