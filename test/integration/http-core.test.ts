// The HTTP core, seen from a client: 404/405 as M_UNRECOGNIZED, 413 M_TOO_LARGE, CORS and OPTIONS
// (client-server API "Web Browser Clients"), the r0 aliases, ?access_token=, 429 with Retry-After,
// no 500 on hostile input, and no secret in the logs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { createHmac } from "node:crypto";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { assertError, call, type Res } from "../helpers/http.js";
import { createLogger } from "../../src/log.js";

const C = "/_matrix/client/v3";
const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, PUT, DELETE, OPTIONS",
  "access-control-allow-headers": "X-Requested-With, Content-Type, Authorization",
};
const LIMIT = 1024 * 1024;

let s: TestServer;
let u: TestUser;
before(async () => {
  s = await startTestServer({ max_request_body_bytes: LIMIT, registration_shared_secret: "http-core-shared-secret" });
  u = await s.user("core");
});
after(async () => {
  await s.close();
});

const me = () => encodeURIComponent(u.userId);

/** A Matrix error that also carries a human-readable message. */
function assertErrorWithMessage(res: Res, status: number, errcode: string, what = ""): void {
  assertError(res, status, errcode, what);
  assert.equal(typeof res.body.error, "string", `${what} has no error message`);
}

function assertCors(res: { headers: Headers }, what: string): void {
  for (const [name, value] of Object.entries(CORS)) assert.equal(res.headers.get(name), value, `${what}: ${name}`);
}

test("unknown endpoints answer 404 M_UNRECOGNIZED", async () => {
  for (const [method, path] of [
    ["GET", `${C}/no_such_endpoint`],
    ["POST", `${C}/no_such_endpoint`],
    ["GET", "/"],
    ["GET", "/_matrix/client/v4/account/whoami"],
    ["GET", `${C}/account/whoami/extra`],
    ["GET", "/_matrix/federation/v1/version"],
  ] as const) {
    const res = await call(s.url, method, path, { token: u.accessToken });
    assertErrorWithMessage(res, 404, "M_UNRECOGNIZED", `${method} ${path}`);
    assertCors(res, `${method} ${path}`);
  }
});

test("a known path with a method it does not serve answers 405 M_UNRECOGNIZED", async () => {
  for (const [method, path] of [
    ["DELETE", "/_matrix/client/versions"],
    ["PATCH", "/_matrix/client/versions"],
    ["POST", `${C}/account/whoami`],
    ["GET", `${C}/logout`],
    ["PUT", `${C}/login`],
    ["DELETE", `${C}/devices`],
    ["POST", `${C}/devices/ABCDEF`],
    ["POST", "/_matrix/client/r0/account/whoami"],
  ] as const) {
    const res = await call(s.url, method, path, { token: u.accessToken });
    assertErrorWithMessage(res, 405, "M_UNRECOGNIZED", `${method} ${path}`);
    assertCors(res, `${method} ${path}`);
  }
});

test("a body over max_request_body_bytes is refused with 413 M_TOO_LARGE and not stored", async () => {
  const path = `${C}/user/${me()}/account_data/org.example.big`;
  // Announced by Content-Length…
  const big = await call(s.url, "PUT", path, { token: u.accessToken, body: { pad: "x".repeat(LIMIT) } });
  assertErrorWithMessage(big, 413, "M_TOO_LARGE", "content-length body");
  assertCors(big, "413");
  // …or streamed in chunks without one.
  const chunks = [JSON.stringify({ pad: "y".repeat(LIMIT) })];
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(new TextEncoder().encode(next));
    },
  });
  const chunked = await fetch(s.url + path, {
    method: "PUT",
    body: stream,
    headers: { authorization: `Bearer ${u.accessToken}`, "content-type": "application/json" },
    duplex: "half",
  } as RequestInit);
  assert.equal(chunked.status, 413);
  assert.equal(((await chunked.json()) as { errcode: string }).errcode, "M_TOO_LARGE");
  assertErrorWithMessage(await call(s.url, "GET", path, { token: u.accessToken }), 404, "M_NOT_FOUND", "nothing was stored");
  // A body just under the limit goes through.
  const fits = await call(s.url, "PUT", path, { token: u.accessToken, body: { pad: "z".repeat(LIMIT - 100) } });
  assert.equal(fits.status, 200, JSON.stringify(fits.body));
});

test("OPTIONS preflight answers with the CORS headers, needs no token and runs no endpoint logic", async () => {
  for (const path of [`${C}/account/whoami`, `${C}/logout`, `${C}/logout/all`, `${C}/account/deactivate`, "/_matrix/client/versions", `${C}/no_such_endpoint`]) {
    const res = await fetch(s.url + path, {
      method: "OPTIONS",
      headers: { origin: "https://app.element.io", "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    assert.ok(res.status === 200 || res.status === 204, `OPTIONS ${path}: ${res.status}`);
    assertCors(res, `OPTIONS ${path}`);
    assert.equal(await res.text(), "", `OPTIONS ${path} has a body`);
  }
  // A preflight with credentials attached still performs nothing: the session is alive.
  await fetch(s.url + `${C}/logout/all`, { method: "OPTIONS", headers: { authorization: `Bearer ${u.accessToken}` } });
  const who = await call(s.url, "GET", `${C}/account/whoami`, { token: u.accessToken });
  assert.equal(who.status, 200);
});

test("CORS headers are on successful and error responses alike", async () => {
  const cases: [string, Res][] = [
    ["200 versions", await call(s.url, "GET", "/_matrix/client/versions")],
    ["200 whoami", await call(s.url, "GET", `${C}/account/whoami`, { token: u.accessToken })],
    ["401 missing token", await call(s.url, "GET", `${C}/account/whoami`)],
    ["401 unknown token", await call(s.url, "GET", `${C}/account/whoami`, { token: "nope" })],
    ["400 not json", await call(s.url, "PUT", `${C}/profile/${me()}/displayname`, { token: u.accessToken, raw: "{" })],
    ["400 bad json", await call(s.url, "PUT", `${C}/profile/${me()}/displayname`, { token: u.accessToken, body: { displayname: 1 } })],
    ["403 forbidden", await call(s.url, "GET", "/_synapse/admin/v1/registration_tokens", { token: u.accessToken })],
    ["404 not found", await call(s.url, "GET", `${C}/devices/NOPE`, { token: u.accessToken })],
    ["400 undecodable path", await call(s.url, "GET", `${C}/devices/%E0%A4%A`, { token: u.accessToken })],
    ["414 long parameter", await call(s.url, "GET", `${C}/devices/${"D".repeat(2000)}`, { token: u.accessToken })],
  ];
  for (const [what, res] of cases) {
    assertCors(res, what);
    if (res.status >= 400) assert.equal(typeof res.body.errcode, "string", `${what}: ${JSON.stringify(res.body)}`);
  }
});

test("/_matrix/client/r0/... serves the v3 endpoints that existed in r0", async () => {
  const who = await call(s.url, "GET", "/_matrix/client/r0/account/whoami", { token: u.accessToken });
  assert.equal(who.status, 200);
  assert.equal(who.body.user_id, u.userId);
  assert.equal(who.body.device_id, u.deviceId);
  const flows = await call(s.url, "GET", "/_matrix/client/r0/login");
  assert.deepEqual((flows.body.flows as { type: string }[]).map((f) => f.type), ["m.login.password", "m.login.sso", "m.login.token"]);
  const login = await call(s.url, "POST", "/_matrix/client/r0/login", { body: { type: "m.login.password", user: "core", password: u.password } });
  assert.equal(login.status, 200);
  assert.equal(login.body.user_id, u.userId);
});

test("/_matrix/client/r0/refresh does not exist (refresh is v3-only) and leaves the refresh token usable", async () => {
  const login = await call(s.url, "POST", `${C}/login`, { body: { type: "m.login.password", user: "core", password: u.password, refresh_token: true } });
  assert.equal(login.status, 200);
  const refreshToken = login.body.refresh_token as string;
  assert.ok(refreshToken);
  assertErrorWithMessage(await call(s.url, "POST", "/_matrix/client/r0/refresh", { body: { refresh_token: refreshToken } }), 404, "M_UNRECOGNIZED", "r0 refresh");
  const v3 = await call(s.url, "POST", `${C}/refresh`, { body: { refresh_token: refreshToken } });
  assert.equal(v3.status, 200, JSON.stringify(v3.body));
  assert.ok(typeof v3.body.access_token === "string");
});

test("?access_token= is accepted by default, under v3 and r0", async () => {
  for (const path of [`${C}/account/whoami`, "/_matrix/client/r0/account/whoami"]) {
    const res = await call(s.url, "GET", `${path}?access_token=${encodeURIComponent(u.accessToken)}`);
    assert.equal(res.status, 200, `${path}: ${JSON.stringify(res.body)}`);
    assert.equal(res.body.user_id, u.userId);
  }
  assertErrorWithMessage(await call(s.url, "GET", `${C}/account/whoami?access_token=rpt_unknown`), 401, "M_UNKNOWN_TOKEN");
});

test("?access_token= is refused with 401 M_MISSING_TOKEN when allow_access_token_in_query is false", async () => {
  const strict = await startTestServer({ allow_access_token_in_query: false });
  try {
    const v = await strict.user("strict");
    for (const name of ["access_token", "%61ccess_token"]) {
      assertErrorWithMessage(await call(strict.url, "GET", `${C}/account/whoami?${name}=${encodeURIComponent(v.accessToken)}`), 401, "M_MISSING_TOKEN", name);
    }
    const header = await call(strict.url, "GET", `${C}/account/whoami`, { token: v.accessToken });
    assert.equal(header.status, 200);
  } finally {
    await strict.close();
  }
});

test("login attempts beyond the burst get 429 M_LIMIT_EXCEEDED with retry_after_ms and Retry-After", async () => {
  const limited = await startTestServer({ rate_limiting: { enabled: true, login_burst: 3, login_per_second: 0.001 } });
  try {
    await limited.app.accounts.createUser("limited", "limited-password-1");
    const attempt = (password: string) => call(limited.url, "POST", `${C}/login`, { body: { type: "m.login.password", user: "limited", password } });
    for (let i = 0; i < 3; i++) assertErrorWithMessage(await attempt("wrong"), 403, "M_FORBIDDEN", `attempt ${i + 1}`);
    const res = await attempt("wrong");
    assertErrorWithMessage(res, 429, "M_LIMIT_EXCEEDED", "attempt 4");
    const ms = res.body.retry_after_ms;
    assert.ok(typeof ms === "number" && Number.isInteger(ms) && ms > 0, `retry_after_ms: ${ms}`);
    const header = res.headers.get("retry-after");
    assert.ok(header !== null && /^\d+$/.test(header), `Retry-After: ${header}`);
    assert.equal(Number(header), Math.ceil(ms / 1000));
    assertCors(res, "429");
    // While limited, even the right password is refused, and no session or device is created.
    assertErrorWithMessage(await attempt("limited-password-1"), 429, "M_LIMIT_EXCEEDED", "right password while limited");
    const devices = await limited.app.storage.db.selectFrom("devices").selectAll().where("user_id", "=", "@limited:rempart.test").execute();
    assert.deepEqual(devices, []);
  } finally {
    await limited.close();
  }
});

test("hostile input never gets a 500: deep nesting, huge strings, NUL bytes, unicode, numbers as strings", async () => {
  const admin = await s.user(undefined, { admin: true });
  // Deep enough to overflow the stack of recursive code (JSON.stringify), small enough to be under LIMIT.
  const deepObject = '{"a":'.repeat(150_000) + "1" + "}".repeat(150_000);
  const deepArray = "[".repeat(400_000) + "]".repeat(400_000);
  const huge = "h".repeat(LIMIT - 200);
  const pw = { type: "m.login.password", identifier: { type: "m.id.user", user: u.userId }, password: u.password };
  type Req = { method: string; path: string; body?: unknown; raw?: string; token?: string | null; headers?: Record<string, string> };
  const reqs: Req[] = [
    // Deep nesting, to every kind of body.
    { method: "PUT", path: `${C}/user/${me()}/account_data/org.example.deep`, raw: deepObject },
    { method: "PUT", path: `${C}/user/${me()}/account_data/org.example.deep`, raw: deepArray },
    { method: "POST", path: `${C}/user/${me()}/filter`, raw: `{"room":{"timeline":{"x":${deepObject}}}}` },
    { method: "POST", path: `${C}/register`, raw: `{"auth":${deepObject}}` },
    { method: "POST", path: `${C}/login`, raw: `{"type":"m.login.password","identifier":${deepObject}}` },
    { method: "POST", path: `${C}/delete_devices`, raw: `{"devices":[],"auth":${deepObject}}` },
    // Huge strings.
    { method: "PUT", path: `${C}/profile/${me()}/displayname`, body: { displayname: huge } },
    { method: "PUT", path: `${C}/profile/${me()}/avatar_url`, body: { avatar_url: `mxc://${huge}/x` } },
    { method: "POST", path: `${C}/login`, body: { type: "m.login.password", user: "core", password: huge }, token: null },
    { method: "POST", path: `${C}/login`, body: { type: "m.login.password", user: huge, password: "x" }, token: null },
    { method: "POST", path: `${C}/register`, body: { username: huge, password: "x", auth: { type: "m.login.dummy" } }, token: null },
    { method: "POST", path: `${C}/account/password`, body: { new_password: huge, auth: pw } },
    { method: "PUT", path: `${C}/devices/${u.deviceId}`, body: { display_name: huge } },
    { method: "PUT", path: `${C}/user/${me()}/account_data/${"t".repeat(900)}`, body: {} },
    { method: "GET", path: `${C}/devices/${"D".repeat(5000)}` },
    { method: "GET", path: `${C}/register/available?username=${"n".repeat(5000)}`, token: null },
    { method: "GET", path: `${C}/account/whoami`, token: "t".repeat(8000) },
    // NUL bytes in path parameters, the query and bodies.
    { method: "GET", path: `${C}/profile/%40a%00b%3Arempart.test` },
    { method: "PUT", path: `${C}/profile/${me()}%00/displayname`, body: { displayname: "x" } },
    { method: "GET", path: `${C}/devices/AB%00CD` },
    { method: "PUT", path: `${C}/devices/AB%00CD`, body: { display_name: "x" } },
    { method: "DELETE", path: `${C}/devices/AB%00CD`, body: { auth: pw } },
    { method: "GET", path: `${C}/user/${me()}/account_data/a%00b` },
    { method: "PUT", path: `${C}/user/${me()}/account_data/a%00b`, body: { k: 1 } },
    { method: "PUT", path: `${C}/user/${me()}/rooms/!a%00b:rempart.test/account_data/t`, body: { k: 1 } },
    { method: "GET", path: `${C}/user/${me()}/filter/1%00` },
    { method: "GET", path: `/_synapse/admin/v1/registration_tokens/a%00b`, token: admin.accessToken },
    { method: "PUT", path: `/_synapse/admin/v1/registration_tokens/a%00b`, body: { uses_allowed: 1 }, token: admin.accessToken },
    { method: "DELETE", path: `/_synapse/admin/v1/registration_tokens/a%00b`, token: admin.accessToken },
    { method: "GET", path: `${C}/register/available?username=a%00b`, token: null },
    { method: "GET", path: `/_matrix/client/v1/register/m.login.registration_token/validity?token=a%00b`, token: null },
    { method: "GET", path: `${C}/account/whoami?access_token=a%00b`, token: null },
    { method: "POST", path: `${C}/login`, body: { type: "m.login.password", user: "a\u0000b", password: "x" }, token: null },
    { method: "POST", path: `${C}/login`, body: { type: "m.login.password", identifier: { type: "m.id.user", user: "core\u0000" }, password: u.password }, token: null },
    { method: "POST", path: `${C}/login`, body: { type: "m.login.password", user: "core", password: u.password, device_id: "D\u0000" }, token: null },
    { method: "POST", path: `${C}/login`, body: { type: "m.login.password", user: "core", password: u.password, initial_device_display_name: "n\u0000" }, token: null },
    { method: "POST", path: `${C}/register`, body: { username: "a\u0000b", password: "x", auth: { type: "m.login.dummy" } }, token: null },
    { method: "POST", path: `${C}/register`, body: { username: "nulls", password: "x\u0000y", device_id: "D\u0000", auth: { type: "m.login.dummy" } }, token: null },
    { method: "POST", path: `${C}/register`, body: { username: "nulls2", password: "pw", initial_device_display_name: "n\u0000", auth: { type: "m.login.dummy" } }, token: null },
    { method: "PUT", path: `${C}/profile/${me()}/displayname`, body: { displayname: "a\u0000b" } },
    { method: "PUT", path: `${C}/profile/${me()}/avatar_url`, body: { avatar_url: "mxc://a\u0000b/c" } },
    { method: "PUT", path: `${C}/devices/${u.deviceId}`, body: { display_name: "x\u0000y" } },
    { method: "POST", path: `${C}/delete_devices`, body: { devices: ["a\u0000"], auth: pw } },
    { method: "PUT", path: `${C}/user/${me()}/account_data/org.example.nul`, body: { k: "\u0000" } },
    { method: "POST", path: `${C}/user/${me()}/filter`, body: { room: { rooms: ["!a\u0000:x"] } } },
    { method: "POST", path: `${C}/refresh`, body: { refresh_token: "rpr_\u0000" }, token: null },
    { method: "POST", path: "/_synapse/admin/v1/registration_tokens/new", body: { token: "a\u0000b" }, token: admin.accessToken },
    { method: "POST", path: "/_synapse/admin/v1/register", body: { nonce: "n\u0000", username: "a\u0000", password: "b", mac: "c\u0000" }, token: null },
    // Undecodable paths.
    { method: "GET", path: `${C}/devices/%E0%A4%A` },
    { method: "GET", path: `${C}/devices/%ZZ` },
    { method: "GET", path: `${C}/user/${me()}/account_data/%` },
    // Unicode in identifiers.
    { method: "GET", path: `${C}/profile/${encodeURIComponent("@üñï:rempart.test")}` },
    { method: "GET", path: `${C}/profile/${encodeURIComponent("@😀:rempart.test")}/displayname` },
    { method: "GET", path: `${C}/devices/${encodeURIComponent("日本語")}` },
    { method: "PUT", path: `${C}/user/${me()}/rooms/${encodeURIComponent("!é:rempart.test")}/account_data/x`, body: { k: 1 } },
    { method: "POST", path: `${C}/register`, body: { username: "ünïcödé", password: "x", auth: { type: "m.login.dummy" } }, token: null },
    { method: "POST", path: `${C}/login`, body: { type: "m.login.password", user: "@ü:rempart.test", password: "x" }, token: null },
    { method: "PUT", path: `${C}/profile/${me()}/displayname`, raw: '{"displayname":"\\ud800 lone surrogate"}' },
    { method: "GET", path: `${C}/register/available?username=${encodeURIComponent("日本")}`, token: null },
    // Numbers as strings (and the other way round).
    { method: "POST", path: `${C}/login`, body: { type: "m.login.password", user: "core", password: 12345678 }, token: null },
    { method: "POST", path: `${C}/login`, body: { type: "m.login.password", user: "core", password: u.password, refresh_token: "true" }, token: null },
    { method: "POST", path: `${C}/register`, body: { username: "numbers", password: "pw", inhibit_login: "true", auth: { type: "m.login.dummy" } }, token: null },
    { method: "POST", path: `${C}/user/${me()}/filter`, body: { room: { timeline: { limit: "10" } } } },
    { method: "GET", path: `${C}/user/${me()}/filter/99999999999999999999999` },
    { method: "GET", path: `${C}/user/${me()}/filter/-1` },
    { method: "GET", path: `${C}/user/${me()}/filter/1e3` },
    { method: "POST", path: "/_synapse/admin/v1/registration_tokens/new", body: { uses_allowed: "1", expiry_time: "1e99" }, token: admin.accessToken },
    { method: "POST", path: "/_synapse/admin/v1/registration_tokens/new", body: { uses_allowed: 1e300 }, token: admin.accessToken },
    { method: "POST", path: "/_synapse/admin/v1/registration_tokens/new", body: { length: 1e9 }, token: admin.accessToken },
    { method: "PUT", path: `${C}/devices/${u.deviceId}`, body: { display_name: 42 } },
    { method: "POST", path: `${C}/delete_devices`, body: { devices: [1, 2, 3] } },
    // Odd shapes.
    { method: "GET", path: `${C}/register/available?username=a&username=b`, token: null },
    { method: "POST", path: `${C}/register?kind=guest&kind=user`, body: {}, token: null },
    { method: "GET", path: `${C}/account/whoami`, token: null, headers: { authorization: "Bearer a b c" } },
    { method: "POST", path: `${C}/login`, raw: '{"__proto__":{"admin":true},"type":"m.login.password","user":"core","password":"x"}', token: null },
    { method: "PUT", path: `${C}/user/${me()}/account_data/org.example.proto`, raw: '{"__proto__":{"polluted":true},"constructor":{"prototype":{}}}' },
    { method: "POST", path: `${C}/login`, raw: '{"type":"m.login.password","user":"core","password":"x"}', headers: { "content-type": "application/x-www-form-urlencoded" }, token: null },
    { method: "POST", path: `${C}/login`, raw: "\u0000\u0001\u0002", token: null },
    { method: "POST", path: `${C}/login`, raw: '"just a string"', token: null },
    { method: "POST", path: `${C}/login`, raw: "1e999", token: null },
  ];
  for (const r of reqs) {
    const token = r.token === null ? undefined : (r.token ?? u.accessToken);
    const res = await call(s.url, r.method, r.path, { token, body: r.body, raw: r.raw, headers: { "content-type": "application/json", ...r.headers } });
    const what = `${r.method} ${r.path.slice(0, 100)} ${(r.raw ?? JSON.stringify(r.body) ?? "").slice(0, 80)}`;
    assert.ok(res.status < 500, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
    if (res.status >= 400 && res.body.flows === undefined) {
      assert.equal(typeof res.body.errcode, "string", `${what}: not a Matrix error: ${JSON.stringify(res.body).slice(0, 200)}`);
      assert.equal(typeof res.body.error, "string", `${what}: no error message`);
    }
  }
  // Nothing polluted, nothing broken: the server still answers, and the user's session still works.
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(({} as Record<string, unknown>).admin, undefined);
  assert.equal((await call(s.url, "GET", "/_matrix/client/versions")).status, 200);
  const who = await call(s.url, "GET", `${C}/account/whoami`, { token: u.accessToken });
  assert.equal(who.body.user_id, u.userId);
});

test("hostile input is refused with the right errcodes, and legitimate nesting and unicode are kept", async () => {
  const nested = (n: number): unknown => (n === 0 ? "leaf" : { n: nested(n - 1) });
  const path = `${C}/user/${me()}/account_data/org.example.nested`;
  assertErrorWithMessage(await call(s.url, "PUT", path, { token: u.accessToken, body: nested(1000) }), 400, "M_BAD_JSON", "1000 levels");
  assertErrorWithMessage(await call(s.url, "PUT", path, { token: u.accessToken, body: [nested(200)] }), 400, "M_BAD_JSON", "an array of 200 levels");
  assertErrorWithMessage(await call(s.url, "GET", path, { token: u.accessToken }), 404, "M_NOT_FOUND", "nothing stored");
  assert.equal((await call(s.url, "PUT", path, { token: u.accessToken, body: nested(64) })).status, 200);
  assert.deepEqual((await call(s.url, "GET", path, { token: u.accessToken })).body, nested(64));

  assertErrorWithMessage(await call(s.url, "GET", `${C}/devices/AB%00CD`, { token: u.accessToken }), 400, "M_INVALID_PARAM", "NUL in a path parameter");
  assertErrorWithMessage(await call(s.url, "GET", `${C}/devices/%E0%A4%A`, { token: u.accessToken }), 400, "M_INVALID_PARAM", "undecodable path");
  assertErrorWithMessage(
    await call(s.url, "PUT", `${C}/profile/${me()}/displayname`, { token: u.accessToken, body: { displayname: "a\u0000b" } }),
    400,
    "M_BAD_JSON",
    "NUL in a display name",
  );

  const type = "org.example.ünïcödé🙂";
  const put = await call(s.url, "PUT", `${C}/user/${me()}/account_data/${encodeURIComponent(type)}`, { token: u.accessToken, body: { "ключ": "值 🙂", nul: "a\u0000b" } });
  assert.equal(put.status, 200);
  const got = await call(s.url, "GET", `${C}/user/${me()}/account_data/${encodeURIComponent(type)}`, { token: u.accessToken });
  assert.deepEqual(got.body, { "ключ": "值 🙂", nul: "a\u0000b" });
  const name = await call(s.url, "PUT", `${C}/profile/${me()}/displayname`, { token: u.accessToken, body: { displayname: "Zoë 🙂 日本" } });
  assert.equal(name.status, 200);
  assert.equal((await call(s.url, "GET", `${C}/profile/${me()}/displayname`, { token: u.accessToken })).body.displayname, "Zoë 🙂 日本");
});

test("logs at debug level never contain passwords, tokens or shared secrets", async () => {
  let logText = "";
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      logText += chunk.toString("utf8");
      cb();
    },
  });
  const secret = "logs-shared-secret-value-0123";
  const ls = await startTestServer({ log_level: "debug", log: createLogger("debug", sink), registration_shared_secret: secret });
  const secrets: string[] = [secret];
  try {
    const password = "Correct-Horse-Battery-Staple-42";
    const newPassword = "Another-Secret-Passphrase-77";
    secrets.push(password, newPassword);
    const admin = await ls.user("logadmin", { admin: true, password: "Admin-Password-For-Logs-9" });
    secrets.push(admin.password, admin.accessToken);

    const reg = await call(ls.url, "POST", `${C}/register`, { body: { username: "logan", password, refresh_token: true, auth: { type: "m.login.dummy" } } });
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    secrets.push(reg.body.access_token as string, reg.body.refresh_token as string);

    const login = await call(ls.url, "POST", `${C}/login`, { body: { type: "m.login.password", identifier: { type: "m.id.user", user: "logan" }, password, refresh_token: true } });
    assert.equal(login.status, 200);
    secrets.push(login.body.access_token as string, login.body.refresh_token as string);

    const refreshed = await call(ls.url, "POST", `${C}/refresh`, { body: { refresh_token: login.body.refresh_token } });
    assert.equal(refreshed.status, 200);
    const token = refreshed.body.access_token as string;
    secrets.push(token, refreshed.body.refresh_token as string);

    // The token in the query string, in every spelling the query parser accepts.
    for (const q of [`access_token=${token}`, `%61ccess_token=${token}`, `access%5Ftoken=${token}`, `x=1&access_token=${token}`]) {
      assert.equal((await call(ls.url, "GET", `${C}/account/whoami?${q}`)).status, 200, q);
      assert.equal((await call(ls.url, "GET", `/_matrix/client/r0/account/whoami?${q}`)).status, 200, `r0 ${q}`);
    }
    await call(ls.url, "GET", `${C}/no_such_endpoint?access_token=${token}`);

    // Failures carrying secrets: wrong password, invalid JSON with a password, a 401 UIA with a password.
    await call(ls.url, "POST", `${C}/login`, { body: { type: "m.login.password", user: "logan", password: "Wrong-But-Secret-Password-5" } });
    secrets.push("Wrong-But-Secret-Password-5");
    await call(ls.url, "POST", `${C}/login`, { raw: `{"type":"m.login.password","user":"logan","password":"Broken-Json-Password-3"` });
    secrets.push("Broken-Json-Password-3");
    const change = await call(ls.url, "POST", `${C}/account/password`, {
      token,
      body: { new_password: newPassword, logout_devices: false, auth: { type: "m.login.password", identifier: { type: "m.id.user", user: "logan" }, password } },
    });
    assert.equal(change.status, 200, JSON.stringify(change.body));

    // Registration tokens are secrets too: in a query string and in admin paths.
    const created = await call(ls.url, "POST", "/_synapse/admin/v1/registration_tokens/new", { token: admin.accessToken, body: { token: "SecretRegToken123", uses_allowed: 5 } });
    assert.equal(created.status, 200);
    secrets.push("SecretRegToken123");
    await call(ls.url, "GET", "/_matrix/client/v1/register/m.login.registration_token/validity?token=SecretRegToken123");
    await call(ls.url, "GET", "/_synapse/admin/v1/registration_tokens/SecretRegToken123", { token: admin.accessToken });
    await call(ls.url, "PUT", "/_synapse/admin/v1/registration_tokens/SecretRegToken123", { token: admin.accessToken, body: { uses_allowed: 6 } });

    // Shared-secret registration: the MAC and the password.
    const nonce = (await call(ls.url, "GET", "/_synapse/admin/v1/register")).body.nonce as string;
    const ssPassword = "Shared-Secret-Registered-Password-8";
    const mac = createHmac("sha1", secret).update(`${nonce}\0sharon\0${ssPassword}\0notadmin`).digest("hex");
    secrets.push(ssPassword, mac);
    const ss = await call(ls.url, "POST", "/_synapse/admin/v1/register", { body: { nonce, username: "sharon", password: ssPassword, mac } });
    assert.equal(ss.status, 200, JSON.stringify(ss.body));
    secrets.push(ss.body.access_token as string);
    await call(ls.url, "GET", `${C}/account/whoami`, { token: "rpt_invalid-but-secret-looking-token" });
    secrets.push("rpt_invalid-but-secret-looking-token");
  } finally {
    // Closing waits for in-flight requests, so every log line has been written.
    await ls.close();
  }
  // The capture works: requests were logged, at debug level the logger is not silent.
  assert.match(logText, /"url":"\/_matrix\/client\/v3\/login"/);
  assert.match(logText, /"url":"\/_matrix\/client\/v3\/account\/whoami\?access_token=<redacted>"/);
  for (const secretValue of secrets) {
    assert.ok(secretValue.length >= 8);
    assert.ok(!logText.includes(secretValue), `a secret reached the log: ${secretValue.slice(0, 6)}…`);
  }
});
