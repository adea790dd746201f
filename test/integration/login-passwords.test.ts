// The password policy at registration and password change: M_WEAK_PASSWORD with a helpful message,
// and through matrix-js-sdk as a real client sees it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { call } from "../helpers/http.js";

const C = "/_matrix/client/v3";
let s: TestServer;
before(async () => {
  s = await startTestServer();
});
after(async () => {
  await s.close();
});

test("registration refuses short, breached and context-built passwords with 400 M_WEAK_PASSWORD", async () => {
  for (const [password, hint] of [
    ["tooshort12", "at least 15"],
    ["123456789012345", "breached"],
    ["carolcarolcarol1", "user name"],
  ] as const) {
    const r = await call(s.url, "POST", `${C}/register`, { body: { username: "carol", password, auth: { type: "m.login.dummy" } } });
    assert.equal(r.status, 400, password);
    assert.equal(r.body.errcode, "M_WEAK_PASSWORD", password);
    assert.match(r.body.error as string, new RegExp(hint), password);
  }
  assert.equal(await s.app.accounts.isAvailable("carol"), true);
  const good = await call(s.url, "POST", `${C}/register`, { body: { username: "carol", password: "violet harbour quantum teapot", auth: { type: "m.login.dummy" } } });
  assert.equal(good.status, 200);
});

test("password change applies the policy, with the lower floor for an account that must use a second factor", async () => {
  const u = await s.user();
  const auth = { type: "m.login.password", identifier: { type: "m.id.user", user: u.userId }, password: u.password };
  const weak = await call(s.url, "POST", `${C}/account/password`, { token: u.accessToken, body: { new_password: "letmein", auth } });
  assert.equal(weak.body.errcode, "M_WEAK_PASSWORD");
  const short = await call(s.url, "POST", `${C}/account/password`, { token: u.accessToken, body: { new_password: "nine-char", auth } });
  assert.equal(short.body.errcode, "M_WEAK_PASSWORD");
  // With a second factor enrolled the floor is 8 (that user then needs the TOTP stage too; see login-mfa tests).
  const { secret } = s.app.mfa.totp.newSecret(u.userId);
  assert.ok(await s.app.mfa.totp.enrol(u.userId, secret, (await import("../../src/security/mfa/totp.js")).TotpFactor.codeFor(secret, Date.now())));
  assert.equal(await s.app.mfa.requiredFor(u.userId), true);
  const eight = await call(s.url, "POST", `${C}/account/password`, { token: u.accessToken, body: { new_password: "nine-char" } });
  assert.equal(eight.status, 401, "passes the policy, then asks for auth");
});

test("second-factor codes: after 10 wrong codes in 15 minutes even the right one is refused for a while", async () => {
  const u = await s.user();
  const { TotpFactor } = await import("../../src/security/mfa/totp.js");
  const { secret } = s.app.mfa.totp.newSecret(u.userId);
  assert.ok(await s.app.mfa.totp.enrol(u.userId, secret, TotpFactor.codeFor(secret, Date.now() - 30_000)));
  for (let i = 0; i < 10; i++) assert.equal(await s.app.mfa.verifyCode(u.userId, "000000"), null);
  assert.equal(await s.app.mfa.verifyCode(u.userId, TotpFactor.codeFor(secret, Date.now())), null);
  // Recovery codes are throttled the same way, and codes stored only as hashes.
  const codes = await s.app.mfa.recovery.generate(u.userId);
  const rows = await s.app.storage.db.selectFrom("mfa_recovery_codes").selectAll().where("user_id", "=", u.userId).execute();
  assert.equal(rows.length, 10);
  assert.ok(rows.every((r) => !codes.some((c) => r.code_hash.includes(c))));
  const sealed = await s.app.storage.db.selectFrom("mfa_totp").select("secret_sealed").where("user_id", "=", u.userId).executeTakeFirstOrThrow();
  assert.ok(!sealed.secret_sealed.includes(secret), "the TOTP seed is sealed at rest");
});
