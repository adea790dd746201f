// The security console in real Chromium (docs/security-console.md): a scripted scraping session
// trips the read gate; the admin signs in through the web login (password + TOTP), lands on the
// console, sees the alert in the live feed, opens the reader's timeline (uPlot chart, containment
// steps), locks the account through the confirmation dialog; the reader's client (matrix-js-sdk)
// then gets M_USER_LOCKED. A non-admin gets 403; anonymous visitors go to the login and come back.
// Screenshots of each screen go to /tmp/console-*.png.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";
import { client } from "../helpers/sdk.js";
import { hasChromium, launchChromium } from "../helpers/browser.js";
import { join, login, messages, publicRoom, sendMany } from "../helpers/rooms.js";
import { TotpFactor } from "../../src/security/mfa/totp.js";

const skip = hasChromium() ? false : "chromium is not installed";
let s: TestServer;
let base: string;
let browser: Browser;
let offset = 0;
const now = () => Date.now() + offset;

before(async () => {
  if (skip) return;
  s = await startTestServer({ now, read_gate: { thresholds: { rooms_read: 3 } } });
  base = s.url.replace("127.0.0.1", "localhost");
  s.app.config.public_baseurl = `${base}/`;
  browser = await launchChromium();
});
after(async () => {
  if (skip) return;
  await browser.close();
  await s.close();
});

const shot = (page: Page, name: string) => page.screenshot({ path: `/tmp/console-${name}.png`, fullPage: true });

async function signIn(page: Page, u: TestUser, secret?: string) {
  await page.fill("#username", u.userId.slice(1).split(":")[0]!);
  await page.fill("#password", u.password);
  await Promise.all([page.waitForNavigation(), page.click("button[type=submit]")]);
  if (secret) {
    assert.match(page.url(), /\/_rempart\/login\/mfa/);
    offset += 30_000;
    await page.fill("#code", TotpFactor.codeFor(secret, now()));
    await Promise.all([page.waitForNavigation(), page.click("form button[type=submit]")]);
  }
}

test("admin: MFA login → alert feed → timeline → lock; the reader's client gets M_USER_LOCKED", { skip }, async () => {
  const admin = await s.user("root", { admin: true });
  const alice = await s.user("alice");
  const mallory = await s.user("mallory");
  // The admin has a second factor: the web login asks for it.
  const { secret } = s.app.mfa.totp.newSecret(admin.userId);
  assert.ok(await s.app.mfa.totp.enrol(admin.userId, secret, TotpFactor.codeFor(secret, now())));

  // The scraping session: mallory reads room after room until the gate steps the session up.
  const rooms: string[] = [];
  for (let i = 0; i < 8; i++) {
    const r = await publicRoom(s, alice, `forum ${i}`);
    await sendMany(s, alice, r, 2);
    await join(s, mallory, r);
    rooms.push(r);
  }
  let last = 200;
  for (let i = 0; i < 8 && last !== 401; i++) last = (await messages(s, mallory, rooms[i]!)).status;
  assert.equal(last, 401);
  // Mallory's client signs in again (soft logout) and keeps reading, slowly.
  const again = await login(s, "mallory", mallory.password, mallory.deviceId);
  assert.equal(again.status, 200);
  const sdk = client(s.url, { accessToken: again.token, userId: mallory.userId, deviceId: again.deviceId });
  assert.equal((await sdk.whoami()).user_id, mallory.userId);

  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await ctx.newPage();
  await page.goto(`${base}/_rempart/console`);
  assert.match(page.url(), /\/_rempart\/login\?then=%2F_rempart%2Fconsole/);
  await signIn(page, admin, secret);
  assert.match(page.url(), /\/_rempart\/console(\?lang=en)?$/);
  assert.equal(await page.getAttribute("html", "lang"), "en");

  // The live feed shows the alert; the audit chain is intact.
  await page.waitForSelector(`#alerts-list button[data-user="${mallory.userId}"]`);
  assert.match((await page.textContent("#alerts-list"))!, /read_gate\.step_up/);
  await page.waitForFunction(() => /intact/.test(document.getElementById("audit-status")?.textContent ?? ""));
  await page.waitForSelector(`#readers-list button[data-user="${mallory.userId}"]`);
  await shot(page, "1-alerts");

  // The reader's timeline: a uPlot chart, with the containment steps listed.
  await page.click(`#alerts-list button[data-user="${mallory.userId}"]`);
  await page.waitForSelector("#timeline canvas");
  assert.equal(await page.textContent("#user-title"), mallory.userId);
  assert.match((await page.textContent("#containment-list"))!, /step_up: rooms_read/);
  assert.ok(await page.getAttribute("#timeline", "aria-label"));
  await shot(page, "2-timeline");

  // A room's readers.
  await page.fill("#room-id", rooms[0]!);
  await page.click("#room-form button[type=submit]");
  await page.waitForSelector(`#room-list button[data-user="${mallory.userId}"]`);

  // Lock, with a reason, through the confirmation dialog (cancel first: nothing happens).
  await page.click("#lock");
  await page.waitForSelector("#confirm[open]");
  await page.click("#confirm-cancel");
  assert.equal((await s.app.locks.status(mallory.userId)).locked, false);
  await page.click("#lock");
  await page.waitForSelector("#confirm[open]");
  await page.fill("#reason", "bulk reading of forums");
  await shot(page, "3-confirm");
  await page.click("#confirm-ok");
  await page.waitForSelector("#unlock");
  assert.match((await page.textContent("#lock-status"))!, /bulk reading of forums/);
  await shot(page, "4-locked");
  const st = await s.app.locks.status(mallory.userId);
  assert.deepEqual([st.locked, st.locked_by], [true, admin.userId]);

  // Mallory's client is refused with M_USER_LOCKED.
  await assert.rejects(sdk.whoami(), (e: { errcode?: string; httpStatus?: number }) => e.errcode === "M_USER_LOCKED" && e.httpStatus === 401);

  // Forensic export: the button works or says the report is not available (another module).
  const download = page.waitForEvent("download", { timeout: 10_000 }).then((d) => `download:${d.suggestedFilename()}`, () => "none");
  await page.click("#forensics-json");
  const outcome = await Promise.race([download, page.waitForFunction(() => /unavailable/.test(document.getElementById("user-msg")?.textContent ?? "")).then(() => "unavailable")]);
  assert.ok(outcome === "unavailable" || outcome.startsWith("download:forensics-"), outcome);

  // French.
  await page.goto(`${base}/_rempart/console?lang=fr&user=${encodeURIComponent(mallory.userId)}`);
  assert.equal(await page.getAttribute("html", "lang"), "fr");
  await page.waitForSelector("#timeline canvas");
  assert.equal(await page.textContent("h1"), "Console de sécurité");
  await shot(page, "5-fr");
  await ctx.close();
});

test("a non-admin signed in on the web gets 403; the API refuses their cookie too", { skip }, async () => {
  const bob = await s.user("bob");
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(`${base}/_rempart/console`);
  await signIn(page, bob);
  const res = await page.goto(`${base}/_rempart/console`);
  assert.equal(res!.status(), 403);
  await shot(page, "6-forbidden");
  const api = await page.evaluate(async () => (await fetch("/_rempart/admin/v1/security/alerts")).status);
  assert.equal(api, 403);
  await ctx.close();
  const anon = await fetch(`${s.url}/_rempart/console`, { redirect: "manual" });
  assert.equal(anon.status, 303);
  assert.match(anon.headers.get("location")!, /^\/_rempart\/login\?then=%2F_rempart%2Fconsole/);
  assert.equal((await call(s.url, "GET", "/_rempart/console/nothing.js")).status, 404);
});
