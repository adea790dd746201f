// Rempart's web login in real Chromium (issue 9, steps 4-6): enrolment on the account page, then
// m.login.sso → password → TOTP / recovery code / WebAuthn (CDP virtual authenticator) → the
// client's redirectUrl with a loginToken, which matrix-js-sdk exchanges through m.login.token before
// syncing. Screenshots of every page go to /tmp/rempart-login-*.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Browser, Page } from "playwright-core";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";
import { client } from "../helpers/sdk.js";
import { hasChromium, launchChromium } from "../helpers/browser.js";
import { TotpFactor } from "../../src/security/mfa/totp.js";

const skip = hasChromium() ? false : "chromium is not installed";
let s: TestServer;
let base: string;
let browser: Browser;
let callback: Server;
let cbUrl: string;
let offset = 0;
const now = () => Date.now() + offset;
/** Moves the server's clock to the next TOTP step, so that each code in a test is a fresh one. */
const nextStep = () => (offset += 30_000);

before(async () => {
  if (skip) return;
  s = await startTestServer({ now });
  // WebAuthn needs a secure context with a domain name: http://localhost:PORT is one.
  base = s.url.replace("127.0.0.1", "localhost");
  s.app.config.public_baseurl = `${base}/`;
  callback = createServer((_req, res) => res.end("<!doctype html><title>client</title><p>client callback</p>"));
  await new Promise<void>((r) => callback.listen(0, "127.0.0.1", r));
  cbUrl = `http://127.0.0.1:${(callback.address() as AddressInfo).port}/callback`;
  browser = await launchChromium();
});
after(async () => {
  if (skip) return;
  await browser.close();
  callback.close();
  await s.close();
});

const shot = (page: Page, name: string) => page.screenshot({ path: `/tmp/rempart-login-${name}.png`, fullPage: true });

async function signIn(page: Page, u: TestUser) {
  await page.fill("#username", u.userId.slice(1).split(":")[0]!);
  await page.fill("#password", u.password);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
}

/** From the continue page: confirm, land on the client's callback, log in there with the token. */
async function finishSso(page: Page, u: TestUser, shotName?: string): Promise<void> {
  assert.match(page.url(), /\/_rempart\/login\/continue/);
  if (shotName) await shot(page, shotName);
  await Promise.all([page.waitForURL(/\/callback\?/), page.click("#continue")]);
  const token = new URL(page.url()).searchParams.get("loginToken");
  assert.ok(token, page.url());
  const c = client(s.url);
  const login = await c.loginRequest({ type: "m.login.token", token });
  assert.equal(login.user_id, u.userId);
  // Single use.
  const again = await call(s.url, "POST", "/_matrix/client/v3/login", { body: { type: "m.login.token", token } });
  assert.equal(again.status, 403);
  // The new session syncs.
  const synced = client(s.url, { accessToken: login.access_token, userId: login.user_id, deviceId: login.device_id });
  const sync = (await synced.http.authedRequest("GET" as never, "/sync", { timeout: "0" })) as { next_batch?: string };
  assert.ok(sync.next_batch);
}

test("TOTP: enrol on the account page, then m.login.sso with password + code, recovery code path, and UIA with the second factor", { skip }, async () => {
  const u = await s.user("alice");
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  // Account page → login first.
  await page.goto(`${base}/_rempart/account`);
  assert.match(page.url(), /\/_rempart\/login\?then=/);
  assert.equal(await page.getAttribute("html", "lang"), "en");
  await shot(page, "01-login");
  await signIn(page, u);
  assert.match(page.url(), /\/_rempart\/account/);
  await shot(page, "02-account");
  await Promise.all([page.waitForNavigation(), page.click("#totp-setup")]);
  await shot(page, "03-totp-setup");
  const secret = (await page.textContent("#totp-secret"))!.replace(/\s+/g, "");
  await page.fill("#code", TotpFactor.codeFor(secret, now()));
  await Promise.all([page.waitForNavigation(), page.click("form button[type=submit]")]);
  const codes = await page.$$eval("#recovery-codes li", (lis) => lis.map((l) => l.textContent!.trim()));
  assert.equal(codes.length, 10);
  assert.ok(codes.every((c) => /^[a-z0-9]{5}-[a-z0-9]{5}$/.test(c)));
  await shot(page, "04-recovery-codes");
  assert.equal(await s.app.mfa.requiredFor(u.userId), true);
  // The password alone no longer logs in through the API.
  const pw = await call(s.url, "POST", "/_matrix/client/v3/login", { body: { type: "m.login.password", identifier: { type: "m.id.user", user: "alice" }, password: u.password } });
  assert.equal(pw.status, 403);
  assert.match(pw.body.error as string, /m\.login\.sso/);
  await ctx.close();

  // m.login.sso from a client: password, then the TOTP code.
  const ctx2 = await browser.newContext({ locale: "fr-FR", extraHTTPHeaders: { "accept-language": "fr-FR,fr;q=0.9" } });
  const p2 = await ctx2.newPage();
  await p2.goto(`${s.url}/_matrix/client/v3/login/sso/redirect?redirectUrl=${encodeURIComponent(cbUrl)}`.replace("127.0.0.1", "localhost"));
  assert.match(p2.url(), /\/_rempart\/login\?redirect_url=/);
  assert.equal(await p2.getAttribute("html", "lang"), "fr");
  await shot(p2, "05-login-fr");
  await signIn(p2, u);
  assert.match(p2.url(), /\/_rempart\/login\/mfa/);
  await shot(p2, "06-mfa-fr");
  // A wrong code first: refused, focus on the error.
  await p2.fill("#code", "000000");
  await Promise.all([p2.waitForNavigation(), p2.click("form button[type=submit]")]);
  assert.ok(await p2.isVisible("#error"));
  await shot(p2, "07-mfa-error-fr");
  nextStep();
  await p2.fill("#code", TotpFactor.codeFor(secret, now()));
  await Promise.all([p2.waitForNavigation(), p2.click("form button[type=submit]")]);
  await finishSso(p2, u, "08-continue-fr");
  await ctx2.close();

  // The recovery code path.
  const ctx3 = await browser.newContext();
  const p3 = await ctx3.newPage();
  await p3.goto(`${base}/_matrix/client/v3/login/sso/redirect?redirectUrl=${encodeURIComponent(cbUrl)}`);
  await signIn(p3, u);
  await p3.fill("#code", codes[0]!);
  await Promise.all([p3.waitForNavigation(), p3.click("form button[type=submit]")]);
  await finishSso(p3, u);
  assert.equal(await s.app.mfa.recovery.remaining(u.userId), 9);
  assert.equal(await s.app.mfa.verifyCode(u.userId, codes[0]!), null, "a recovery code works once");
  await ctx3.close();

  // Sensitive operation: deleting a device asks for the password and the second factor.
  const del = await call(s.url, "DELETE", `/_matrix/client/v3/devices/${u.deviceId}`, { token: u.accessToken, body: {} });
  assert.equal(del.status, 401);
  assert.deepEqual((del.body.flows as { stages: string[] }[]).map((f) => f.stages), [["m.login.password", "org.rempart.login.totp"], ["m.login.sso"]]);
  const session = del.body.session as string;
  const afterPw = await call(s.url, "DELETE", `/_matrix/client/v3/devices/${u.deviceId}`, {
    token: u.accessToken,
    body: { auth: { type: "m.login.password", session, identifier: { type: "m.id.user", user: u.userId }, password: u.password } },
  });
  assert.equal(afterPw.status, 401);
  assert.deepEqual(afterPw.body.completed, ["m.login.password"]);
  nextStep();
  const done = await call(s.url, "DELETE", `/_matrix/client/v3/devices/${u.deviceId}`, {
    token: u.accessToken,
    body: { auth: { type: "org.rempart.login.totp", session, code: TotpFactor.codeFor(secret, now()) } },
  });
  assert.equal(done.status, 200, JSON.stringify(done.body));
});

test("UIA m.login.sso stage through the fallback web page", { skip }, async () => {
  const u = await s.user("carol");
  const { secret } = s.app.mfa.totp.newSecret(u.userId);
  nextStep();
  assert.ok(await s.app.mfa.totp.enrol(u.userId, secret, TotpFactor.codeFor(secret, now())));
  const c = await s.user("carol2");
  void c;
  const del = await call(s.url, "POST", "/_matrix/client/v3/delete_devices", { token: u.accessToken, body: { devices: ["NOSUCHDEVICE"] } });
  const session = del.body.session as string;
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${base}/_matrix/client/v3/auth/m.login.sso/fallback/web?session=${session}`);
  assert.match(page.url(), /\/_rempart\/login\?then=/);
  await signIn(page, u);
  nextStep();
  await page.fill("#code", TotpFactor.codeFor(secret, now()));
  await Promise.all([page.waitForNavigation(), page.click("form button[type=submit]")]);
  assert.match(page.url(), /fallback\/web\?session=/);
  await shot(page, "09-fallback");
  await Promise.all([page.waitForNavigation(), page.click("#confirm")]);
  await shot(page, "10-fallback-done");
  // Before the confirmation the session was not complete; now the client retries with the session.
  const r = await call(s.url, "POST", "/_matrix/client/v3/delete_devices", { token: u.accessToken, body: { devices: ["NOSUCHDEVICE"], auth: { session } } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  await ctx.close();
});

test("WebAuthn: register a passkey on the account page, then log in with password + passkey", { skip }, async () => {
  const u = await s.user("bob");
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const cdp = await ctx.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });
  await page.goto(`${base}/_rempart/account`);
  await signIn(page, u);
  await page.fill("#webauthn-name", "Virtual key");
  await Promise.all([page.waitForURL(/done=1/), page.click("#webauthn-register button")]);
  assert.equal((await s.app.mfa.webauthn.list(u.userId)).length, 1);
  assert.ok((await page.textContent("main"))!.includes("Virtual key"));
  await shot(page, "11-account-with-key");
  // Sign out, then m.login.sso with the passkey (same page: the virtual authenticator holds it).
  await Promise.all([page.waitForNavigation(), page.click("form[action^='/_rempart/logout'] button")]);
  await page.goto(`${base}/_matrix/client/v3/login/sso/redirect?redirectUrl=${encodeURIComponent(cbUrl)}`);
  await signIn(page, u);
  assert.match(page.url(), /\/_rempart\/login\/mfa/);
  await shot(page, "12-mfa-with-key");
  await Promise.all([page.waitForURL(/\/login\/continue/), page.click("#webauthn-login")]);
  await finishSso(page, u, "13-continue");
  await ctx.close();
});

test("required MFA for an admin without a factor: the web login makes them enrol first", { skip }, async () => {
  const s2 = await startTestServer({ login_security: { mfa_required_for_admins: true } });
  try {
    const admin = await s2.app.accounts.createUser("boss", "boss long password 2026", { admin: true });
    const r = await call(s2.url, "POST", "/_matrix/client/v3/login", { body: { type: "m.login.password", identifier: { type: "m.id.user", user: "boss" }, password: "boss long password 2026" } });
    assert.equal(r.status, 403);
    const b2 = s2.url.replace("127.0.0.1", "localhost");
    s2.app.config.public_baseurl = `${b2}/`;
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${b2}/_matrix/client/v3/login/sso/redirect?redirectUrl=${encodeURIComponent(cbUrl)}`);
    await signIn(page, { userId: admin, password: "boss long password 2026", accessToken: "", deviceId: "" });
    assert.match(page.url(), /\/_rempart\/account/);
    assert.ok(await page.isVisible("#error"));
    await shot(page, "14-enrol-required");
    await Promise.all([page.waitForNavigation(), page.click("#totp-setup")]);
    const secret = (await page.textContent("#totp-secret"))!.replace(/\s+/g, "");
    await page.fill("#code", TotpFactor.codeFor(secret, Date.now()));
    await Promise.all([page.waitForNavigation(), page.click("form button[type=submit]")]);
    await Promise.all([page.waitForNavigation(), page.click("#recovery-continue")]);
    assert.match(page.url(), /\/_rempart\/login\/continue/);
    await ctx.close();
  } finally {
    await s2.close();
  }
});
