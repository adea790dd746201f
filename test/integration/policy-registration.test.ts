// Registration by email under the government model, through matrix-js-sdk and a test SMTP
// receiver: the code is read from the mail; refusals for other servers, externals without an
// invitation, reused addresses, wrong codes, unvalidated sessions; /info answers; locked names.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startPolicyServer, registerByEmail, validationCode, local, expectError, type PolicyServer } from "../helpers/policy.js";
import { client } from "../helpers/sdk.js";
import { call } from "../helpers/http.js";

let s: PolicyServer;

before(async () => {
  // French mails here (the other files use English): accents travel quoted-printable.
  s = await startPolicyServer({ localpart: "derived", lock_displayname: true, smtp: { language: "fr" } });
});
after(async () => {
  await s.close();
});

test("an agent registers with an email of this server: code by mail, derived id and display name", async () => {
  const u = await registerByEmail(s, "Jean.Dupont@Interieur.gouv.fr");
  assert.equal(u.userId, "@jean.dupont-interieur.gouv.fr:rempart.test");
  const profile = await u.client.getProfileInfo(u.userId);
  assert.equal(profile.displayname, "Jean Dupont [Interieur]");
  const threepids = await u.client.getThreePids();
  assert.deepEqual(threepids.threepids.map((t) => t.address), ["jean.dupont@interieur.gouv.fr"]);
  // The name is locked (policy.lock_displayname).
  await expectError(u.client.setDisplayName("Someone Else"), "M_FORBIDDEN", 403);
  // And the same address cannot register twice.
  await expectError(client(s.url).requestRegisterEmailToken("jean.dupont@interieur.gouv.fr", "another-secret", 1), "M_THREEPID_IN_USE", 400);
});

test("the mailed link validates the address too", async () => {
  const anon = client(s.url);
  const { sid } = await anon.requestRegisterEmailToken("link.user@interieur.gouv.fr", "link-secret", 1);
  const mail = s.smtp.messages.find((m) => m.to.includes("link.user@interieur.gouv.fr"))!;
  assert.match(mail.subject, /^Votre code de validation : \d{6}$/);
  assert.match(mail.text, /Si vous n'êtes pas à l'origine/);
  assert.equal(mail.from, "noreply@rempart.test");
  const { link } = await validationCode(s, "link.user@interieur.gouv.fr");
  const res = await fetch(local(s, link));
  assert.equal(res.status, 200);
  assert.match(await res.text(), /validated/i);
  const r = await call(s.url, "POST", "/_matrix/client/v3/register", {
    body: { password: "correct-horse-pw-link-user-1", auth: { type: "m.login.email.identity", threepid_creds: { sid, client_secret: "link-secret" } } },
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.user_id, "@link.user-interieur.gouv.fr:rempart.test");
});

test("addresses of another server, and externals without an invitation, are refused", async () => {
  const anon = client(s.url);
  await expectError(anon.requestRegisterEmailToken("prof@education.gouv.fr", "s1", 1), "M_THREEPID_DENIED", 403);
  await expectError(anon.requestRegisterEmailToken("old@ancien.gouv.fr", "s2", 1), "M_THREEPID_DENIED", 403);
  await expectError(anon.requestRegisterEmailToken("someone@partner.example", "s3", 1), "M_THREEPID_DENIED", 403);
  await expectError(anon.requestRegisterEmailToken("not-an-address", "s4", 1), "M_INVALID_PARAM", 400);
  await expectError(anon.requestRegisterEmailToken("x@interieur.gouv.fr", "bad secret!", 1), "M_INVALID_PARAM", 400);
  assert.equal(s.smtp.messages.filter((m) => m.to.some((t) => /education|ancien|partner/.test(t))).length, 0, "no mail sent to refused addresses");
});

test("a wrong code fails, five wrong codes burn the session, an unvalidated session cannot register", async () => {
  const anon = client(s.url);
  const email = "guess@interieur.gouv.fr";
  const { sid, submit_url } = await anon.requestRegisterEmailToken(email, "guess-secret", 1);
  const { code } = await validationCode(s, email);
  const wrong = code === "000000" ? "111111" : "000000";
  // Registering before validation: the stage is not complete.
  const early = await call(s.url, "POST", "/_matrix/client/v3/register", {
    body: { password: "correct-horse-pw-guess-user-1", auth: { type: "m.login.email.identity", threepid_creds: { sid, client_secret: "guess-secret" } } },
  });
  assert.equal(early.status, 401);
  assert.equal(early.body.errcode, "M_UNAUTHORIZED");
  assert.equal(early.body.completed, undefined);
  for (let i = 0; i < 5; i++) assert.deepEqual(await anon.submitMsisdnTokenOtherUrl(local(s, submit_url!), sid, "guess-secret", wrong), { success: false });
  await expectError(anon.submitMsisdnTokenOtherUrl(local(s, submit_url!), sid, "guess-secret", code), "M_SESSION_EXPIRED", 400);
  // Another secret cannot use the session.
  await expectError(anon.submitMsisdnTokenOtherUrl(local(s, submit_url!), sid, "other-secret", code), "M_NO_VALID_SESSION", 400);
  // A new send_attempt mails a new code and reopens the session.
  await anon.requestRegisterEmailToken(email, "guess-secret", 2);
  const again = await validationCode(s, email);
  assert.deepEqual(await anon.submitMsisdnTokenOtherUrl(local(s, submit_url!), sid, "guess-secret", again.code), { success: true });
});

test("the same send_attempt does not mail again", async () => {
  const anon = client(s.url);
  const email = "once@interieur.gouv.fr";
  const a = await anon.requestRegisterEmailToken(email, "once-secret", 1);
  const b = await anon.requestRegisterEmailToken(email, "once-secret", 1);
  assert.equal(a.sid, b.sid);
  await validationCode(s, email);
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(s.smtp.messages.filter((m) => m.to.includes(email)).length, 1);
});

test("registration without a proven email is not offered", async () => {
  const r = await call(s.url, "POST", "/_matrix/client/v3/register", { body: { username: "nomail", password: "correct-horse-pw-nomail-12", auth: { type: "m.login.dummy" } } });
  assert.equal(r.status, 401);
  assert.equal(r.body.errcode, "M_UNRECOGNIZED");
  assert.deepEqual(r.body.flows, [{ stages: ["m.login.email.identity"] }]);
});

test("/info answers for this server's, another server's, a moved, an external and an invited address", async () => {
  const info = async (address: string) => (await call(s.url, "GET", `/_matrix/identity/api/v1/info?medium=email&address=${encodeURIComponent(address)}`)).body;
  assert.deepEqual(await info("agent@interieur.gouv.fr"), { hs: "rempart.test", invited: false });
  assert.deepEqual(await info("agent@police.interieur.gouv.fr"), { hs: "rempart.test", invited: false });
  assert.deepEqual(await info("prof@education.gouv.fr"), { hs: "agent.education.tchap.test", invited: false });
  assert.deepEqual(await info("old@ancien.gouv.fr"), { hs: "agent.ancien.tchap.test", new_hs: "rempart.test", invited: false });
  assert.deepEqual(await info("partner@company.example"), { hs: "rempart.test", invited: false });
  // An invitation by email makes the address "invited".
  const inviter = await registerByEmail(s, "inviter@interieur.gouv.fr");
  const { room_id } = await inviter.client.createRoom({ initial_state: [{ type: "im.vector.room.access_rules", state_key: "", content: { rule: "unrestricted" } }] });
  inviter.client.setIdentityServerUrl(s.url);
  await inviter.client.inviteByEmail(room_id, "Partner@Company.example");
  assert.deepEqual(await info("partner@company.example"), { hs: "rempart.test", invited: true });
  // Refusals: missing or malformed parameters.
  assert.equal((await call(s.url, "GET", "/_matrix/identity/api/v1/info?medium=email")).status, 400);
  assert.equal((await call(s.url, "GET", "/_matrix/identity/api/v1/info?medium=email&address=nope")).body.errcode, "M_INVALID_PARAM");
});

test("guests are refused, presence is off, URL previews are off by default", async () => {
  const g = await call(s.url, "POST", "/_matrix/client/v3/register?kind=guest", { body: {} });
  assert.equal(g.status, 403);
  assert.equal(g.body.errcode, "M_GUEST_ACCESS_FORBIDDEN");
  const u = await registerByEmail(s, "presence@interieur.gouv.fr");
  const p = await call(s.url, "GET", `/_matrix/client/v3/presence/${encodeURIComponent(u.userId)}/status`, { token: u.accessToken });
  assert.equal(p.body.presence, "offline");
  assert.equal(s.config.media.url_previews, false);
});

test("an existing account binds an email: requestToken, code, /account/3pid/add behind its password", async () => {
  const u = await s.user("binder");
  const c = client(s.url, { accessToken: u.accessToken, userId: u.userId, deviceId: u.deviceId });
  // Addresses of other servers are refused here too.
  await expectError(c.requestAdd3pidEmailToken("binder@education.gouv.fr", "bind-secret", 1), "M_THREEPID_DENIED", 403);
  const { sid, submit_url } = await c.requestAdd3pidEmailToken("binder@interieur.gouv.fr", "bind-secret", 1);
  const { code } = await validationCode(s, "binder@interieur.gouv.fr");
  const path = "/_matrix/client/v3/account/3pid/add";
  // Before validation: refused after the password stage.
  const auth = { type: "m.login.password", identifier: { type: "m.id.user", user: u.userId }, password: u.password };
  const early = await call(s.url, "POST", path, { token: u.accessToken, body: { sid, client_secret: "bind-secret", auth } });
  assert.equal(early.body.errcode, "M_THREEPID_AUTH_FAILED");
  await c.submitMsisdnTokenOtherUrl(local(s, submit_url!), sid, "bind-secret", code);
  // Without auth: the UIA challenge; with a wrong password: refused.
  assert.equal((await call(s.url, "POST", path, { token: u.accessToken, body: { sid, client_secret: "bind-secret" } })).status, 401);
  const wrong = await call(s.url, "POST", path, { token: u.accessToken, body: { sid, client_secret: "bind-secret", auth: { ...auth, password: "nope" } } });
  assert.equal(wrong.status, 401);
  const ok = await call(s.url, "POST", path, { token: u.accessToken, body: { sid, client_secret: "bind-secret", auth } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.deepEqual((await c.getThreePids()).threepids.map((t) => t.address), ["binder@interieur.gouv.fr"]);
  // A registration session cannot be used to bind, and the bound address cannot register.
  await expectError(client(s.url).requestRegisterEmailToken("binder@interieur.gouv.fr", "reg-secret", 1), "M_THREEPID_IN_USE", 400);
});
