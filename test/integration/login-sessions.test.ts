// Session limits (issue 9, step 8) with the injected clock, and the account page's session list
// and web-session rules (cookie flags, CSRF, language) over plain HTTP.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { call } from "../helpers/http.js";

const C = "/_matrix/client/v3";
const MIN = 60_000;
let s: TestServer;
let offset = 0;
before(async () => {
  s = await startTestServer({ now: () => Date.now() + offset, login_security: { session_idle_timeout_ms: 60 * MIN, session_max_lifetime_ms: 24 * 60 * MIN } });
});
after(async () => {
  await s.close();
});

const login = async (user: string, password: string, refresh = false) =>
  (await call(s.url, "POST", `${C}/login`, { body: { type: "m.login.password", identifier: { type: "m.id.user", user }, password, refresh_token: refresh } })).body as {
    access_token: string;
    refresh_token?: string;
    device_id: string;
  };

test("hardened profile: a session idle for 1 h ends (soft logout), an active one lives on", async () => {
  const u = await s.user();
  const l = await login(u.userId, u.password);
  for (let i = 0; i < 4; i++) {
    offset += 50 * MIN;
    assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: l.access_token })).status, 200, `after ${(i + 1) * 50} min`);
  }
  offset += 61 * MIN;
  const r = await call(s.url, "GET", `${C}/account/whoami`, { token: l.access_token });
  assert.equal(r.status, 401);
  assert.equal(r.body.errcode, "M_UNKNOWN_TOKEN");
  assert.equal(r.body.soft_logout, true);
  // Gone for good, even if used again at once.
  assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: l.access_token })).status, 401);
});

test("hardened profile: a session ends 24 h after its login, refreshes included", async () => {
  const u = await s.user();
  let l = await login(u.userId, u.password, true);
  for (let h = 0; h < 23; h++) {
    offset += 60 * MIN - 1000;
    const refreshed = await call(s.url, "POST", `${C}/refresh`, { body: { refresh_token: l.refresh_token } });
    assert.equal(refreshed.status, 200, `refresh at hour ${h}`);
    l = refreshed.body as typeof l;
  }
  offset += 61 * MIN;
  const refreshed = await call(s.url, "POST", `${C}/refresh`, { body: { refresh_token: l.refresh_token } });
  assert.equal(refreshed.status, 401);
  assert.equal(refreshed.body.soft_logout, true);
});

/** A browser-less web client: keeps the cookie, reads the CSRF token from each page. */
async function webLogin(user: string, password: string) {
  const first = await fetch(`${s.url}/_rempart/login?then=%2F_rempart%2Faccount`, { redirect: "manual", headers: { "accept-language": "fr-FR,fr;q=0.8" } });
  const setCookie = first.headers.get("set-cookie")!;
  const cookie = setCookie.split(";")[0]!;
  const html = await first.text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
  const post = (path: string, body: Record<string, string>) =>
    fetch(`${s.url}${path}`, { method: "POST", redirect: "manual", headers: { cookie, "content-type": "application/x-www-form-urlencoded" }, body: form(body) });
  const page = (path: string) => fetch(`${s.url}${path}`, { redirect: "manual", headers: { cookie } });
  return { setCookie, html, csrf, cookie, post, page };
}

test("web session: HttpOnly SameSite=Strict cookie, CSRF required, French by Accept-Language", async () => {
  const u = await s.user();
  const w = await webLogin(u.userId, u.password);
  assert.match(w.setCookie, /HttpOnly/);
  assert.match(w.setCookie, /SameSite=Strict/);
  assert.doesNotMatch(w.setCookie, /Secure/, "plain http in tests");
  assert.match(w.html, /<html lang="fr">/);
  assert.match(w.html, /<label for="password">Mot de passe<\/label>/);
  // No CSRF token, a wrong one: refused, nothing happens.
  assert.equal((await w.post("/_rempart/login", { username: u.userId, password: u.password })).status, 403);
  assert.equal((await w.post("/_rempart/login", { username: u.userId, password: u.password, csrf: "forged" })).status, 403);
  // No cookie at all: the account page sends to the login.
  const anon = await fetch(`${s.url}/_rempart/account`, { redirect: "manual" });
  assert.equal(anon.status, 303);
  assert.match(anon.headers.get("location")!, /^\/_rempart\/login\?then=/);
  // ?lang=en wins over Accept-Language.
  const en = await fetch(`${s.url}/_rempart/login?lang=en`, { headers: { "accept-language": "fr" } });
  assert.match(await en.text(), /<html lang="en">/);
});

test("account page: lists sessions with IP and last seen; ending one ends that device's tokens", async () => {
  const u = await s.user();
  const phone = await login(u.userId, u.password);
  const w = await webLogin(u.userId, u.password);
  const r = await w.post("/_rempart/login", { username: u.userId.slice(1).split(":")[0]!, password: u.password, csrf: w.csrf });
  assert.equal(r.status, 303);
  const acc = await w.page(r.headers.get("location")!);
  const html = await acc.text();
  assert.equal(acc.status, 200);
  assert.ok(html.includes(phone.device_id));
  assert.ok(html.includes("127.0.0.1"));
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  assert.notEqual(csrf, w.csrf, "a new CSRF token once signed in");
  const end = await w.post("/_rempart/account/sessions/delete", { device_id: phone.device_id, csrf });
  assert.equal(end.status, 303);
  assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: phone.access_token })).status, 401);
  assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: u.accessToken })).status, 200, "other sessions live on");
  // Another user's device id does nothing to that user.
  const other = await s.user();
  await w.post("/_rempart/account/sessions/delete", { device_id: other.deviceId, csrf });
  assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: other.accessToken })).status, 200);
  // Signing out ends the web session.
  await w.post("/_rempart/logout", { csrf });
  assert.equal((await w.page("/_rempart/account")).status, 303);
});

test("m.login.sso redirect validates redirectUrl; m.login.token refuses unknown tokens", async () => {
  assert.equal((await call(s.url, "GET", `${C}/login/sso/redirect`)).body.errcode, "M_MISSING_PARAM");
  assert.equal((await call(s.url, "GET", `${C}/login/sso/redirect?redirectUrl=not-a-url`)).body.errcode, "M_INVALID_PARAM");
  const ok = await fetch(`${s.url}${C}/login/sso/redirect?redirectUrl=${encodeURIComponent("https://app.example/cb")}`, { redirect: "manual" });
  assert.equal(ok.status, 302);
  assert.match(ok.headers.get("location")!, /^\/_rempart\/login\?redirect_url=https%3A%2F%2Fapp\.example%2Fcb$/);
  const bad = await call(s.url, "POST", `${C}/login`, { body: { type: "m.login.token", token: "rpl_nope" } });
  assert.equal(bad.status, 403);
  assert.equal((await call(s.url, "POST", `${C}/login`, { body: { type: "m.login.token" } })).body.errcode, "M_BAD_JSON");
});

test("mfa: required — m.login.password is neither offered nor accepted", async () => {
  const s2 = await startTestServer({ login_security: { mfa: "required" } });
  try {
    await s2.app.accounts.createUser("zoe", "zoe has a long password");
    const flows = ((await call(s2.url, "GET", `${C}/login`)).body.flows as { type: string }[]).map((f) => f.type);
    assert.deepEqual(flows, ["m.login.sso", "m.login.token"]);
    const r = await call(s2.url, "POST", `${C}/login`, { body: { type: "m.login.password", identifier: { type: "m.id.user", user: "zoe" }, password: "zoe has a long password" } });
    assert.equal(r.status, 400);
    // Registration then needs only the lower floor (8), since a second factor will be required.
    const reg = await call(s2.url, "POST", `${C}/register`, { body: { username: "yann", password: "8chars-ok", auth: { type: "m.login.dummy" }, inhibit_login: true } });
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
  } finally {
    await s2.close();
  }
});
