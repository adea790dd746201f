// Metering and graduated containment over real HTTP: each meter trips, and the responses escalate
// throttle (429 + Retry-After) → step-up (401 soft_logout) → lock (401 M_USER_LOCKED, sessions
// ended, admins alerted by webhook), each step audited.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { call } from "../helpers/http.js";
import { records } from "../helpers/audit.js";
import { join, login, messages, publicRoom, sendMany } from "../helpers/rooms.js";
import { MatrixError } from "../../src/http/errors.js";

const C = "/_matrix/client/v3";
const enc = encodeURIComponent;

async function webhook(): Promise<{ url: string; got: Record<string, unknown>[]; close: () => Promise<void> }> {
  const got: Record<string, unknown>[] = [];
  const server: Server = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      got.push(JSON.parse(body) as Record<string, unknown>);
      res.writeHead(200).end("{}");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}/alerts`, got, close: () => new Promise((r) => server.close(() => r())) };
}

const containment = async (s: TestServer) => (await records(s)).filter((r) => r.kind === "containment").map((r) => r.data.a);

test("rooms read: throttle, then step-up (soft logout), then lock with an alert to admins", async () => {
  const hook = await webhook();
  const s = await startTestServer({ read_gate: { thresholds: { rooms_read: 3 }, throttles_to_step_up: 3, alert_webhook: hook.url } });
  try {
    const alice = await s.user("alice");
    const mallory = await s.user("mallory");
    const other = await login(s, "mallory", mallory.password);
    const rooms: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await publicRoom(s, alice, `forum ${i}`);
      await sendMany(s, alice, r, 2);
      await join(s, mallory, r);
      rooms.push(r);
    }
    for (let i = 0; i < 3; i++) assert.equal((await messages(s, mallory, rooms[i]!)).status, 200);
    const t = await messages(s, mallory, rooms[3]!);
    assert.equal(t.status, 429, JSON.stringify(t.body));
    assert.equal(t.body.errcode, "M_LIMIT_EXCEEDED");
    assert.ok((t.body.retry_after_ms as number) > 0);
    assert.ok(Number(t.headers.get("retry-after")) > 0);
    assert.ok(!("chunk" in t.body));
    // Ignoring the 429 escalates: past step_up_factor × threshold the session is soft-logged-out.
    assert.equal((await messages(s, mallory, rooms[4]!)).status, 429);
    assert.equal((await messages(s, mallory, rooms[5]!)).status, 429);
    const stepUp = await messages(s, mallory, rooms[6]!);
    assert.equal(stepUp.status, 401, JSON.stringify(stepUp.body));
    assert.equal(stepUp.body.errcode, "M_UNKNOWN_TOKEN");
    assert.equal(stepUp.body.soft_logout, true);
    const after = await call(s.url, "GET", `${C}/account/whoami`, { token: mallory.accessToken });
    assert.equal(after.status, 401);
    assert.equal(after.body.soft_logout, true, "the stepped-up session stays soft-logged-out everywhere");
    // Signing in again (same device) works and starts from zero…
    const again = await login(s, "mallory", mallory.password, mallory.deviceId);
    assert.equal(again.status, 200);
    assert.equal(again.deviceId, mallory.deviceId);
    for (let i = 0; i < 3; i++) assert.equal((await messages(s, again.token, rooms[i]!)).status, 200);
    // …but any trip within the window after a step-up locks the account (no second round of throttles).
    const lock = await messages(s, again.token, rooms[3]!);
    assert.equal(lock.status, 401, JSON.stringify(lock.body));
    assert.equal(lock.body.errcode, "M_USER_LOCKED");
    // The account lock (src/accounts/locks.ts): every session of the account answers M_USER_LOCKED…
    for (const token of [other.token, again.token]) {
      const w = await call(s.url, "GET", `${C}/account/whoami`, { token });
      assert.equal(w.status, 401);
      assert.equal(w.body.errcode, "M_USER_LOCKED");
    }
    // …and signing in again does not open it until an admin unlocks it.
    const relog = await login(s, "mallory", mallory.password);
    assert.notEqual(relog.status, 200);
    assert.equal((await s.app.locks.status(mallory.userId)).locked, true);
    // Each step audited; alerts stored and delivered.
    const steps = await containment(s);
    assert.deepEqual(steps.slice(0, 5), ["throttle", "throttle", "throttle", "step_up", "lock"]);
    await s.app.alerts.settle();
    const alerts = await s.app.alerts.list();
    assert.deepEqual(alerts.map((a) => a.kind).sort(), ["read_gate.lock", "read_gate.step_up"]);
    assert.ok(alerts.every((a) => a.delivered === 1 && a.user_id === mallory.userId));
    assert.deepEqual(hook.got.map((a) => a.kind).sort(), ["read_gate.lock", "read_gate.step_up"]);
    assert.equal((hook.got[0]!.detail as { metric: string }).metric, "rooms_read");
    // Throttled reads are recorded as such, with what was asked for.
    const throttled = (await records(s)).filter((r) => r.kind === "read" && r.data.x === "throttled");
    assert.equal(throttled.length, 3);
  } finally {
    await s.close();
    await hook.close();
  }
});

test("history read: events older than the reader's join, or older than history_days", async () => {
  let t = Date.now() - 200 * 86_400_000;
  const s = await startTestServer({ now: () => t, read_gate: { thresholds: { history_events: 40 }, history_days: 90 } });
  try {
    const alice = await s.user("alice");
    const bob = await s.user("bob");
    const mallory = await s.user("mallory");
    const room = await publicRoom(s, alice, "archive");
    await join(s, bob, room);
    await sendMany(s, alice, room, 60, () => (t += 1000));
    t += 86_400_000;
    await join(s, mallory, room);
    // Bob was there: the same 50 events are not history for him.
    assert.equal((await messages(s, bob, room)).status, 200);
    // Mallory joined after them: 49 history events (all but her own join) > 40.
    const r = await messages(s, mallory, room);
    assert.equal(r.status, 429, JSON.stringify(r.body));
    const rec = (await records(s)).filter((x) => x.kind === "read" && x.data.e === "messages");
    assert.equal(rec[0]!.data.h, undefined);
    assert.equal(rec[1]!.data.h, 49, "the 50 newest events but her own join");
    assert.equal(rec[1]!.data.x, "throttled");
    // 100 days later the same events are history for Bob too (older than history_days).
    t += 100 * 86_400_000;
    assert.equal((await messages(s, bob, room)).status, 429);
    assert.deepEqual(await containment(s), ["throttle", "throttle"]);
  } finally {
    await s.close();
  }
});

test("member lists, directory queries and joins are metered", async () => {
  const s = await startTestServer({ read_gate: { thresholds: { member_lists: 2, directory_queries: 2, rooms_joined: 2 } } });
  try {
    const alice = await s.user("alice");
    const eve = await s.user("eve");
    const rooms: string[] = [];
    for (let i = 0; i < 3; i++) rooms.push(await publicRoom(s, alice, `r${i}`));
    await join(s, eve, rooms[0]!);
    await join(s, eve, rooms[1]!);
    const third = await call(s.url, "POST", `${C}/join/${enc(rooms[2]!)}`, { token: eve.accessToken });
    assert.equal(third.status, 429, "a third join in the window is throttled");
    const joined = await call(s.url, "GET", `${C}/joined_rooms`, { token: eve.accessToken });
    assert.equal((joined.body.joined_rooms as string[]).includes(rooms[2]!), false, "and does not happen");

    const mallory = await s.user("mallory");
    await join(s, mallory, rooms[0]!);
    for (let i = 0; i < 2; i++) assert.equal((await call(s.url, "GET", `${C}/rooms/${enc(rooms[0]!)}/members`, { token: mallory.accessToken })).status, 200);
    assert.equal((await call(s.url, "GET", `${C}/rooms/${enc(rooms[0]!)}/joined_members`, { token: mallory.accessToken })).status, 429);

    const dora = await s.user("dora");
    const alias = await call(s.url, "PUT", `${C}/directory/room/${enc("#r0:rempart.test")}`, { token: alice.accessToken, body: { room_id: rooms[0] } });
    assert.equal(alias.status, 200);
    assert.equal((await call(s.url, "GET", `${C}/directory/room/${enc("#r0:rempart.test")}`, { token: dora.accessToken })).status, 200);
    assert.equal((await call(s.url, "GET", `${C}/profile/${enc(alice.userId)}`, { token: dora.accessToken })).status, 200);
    // Her own profile is not a directory query.
    assert.equal((await call(s.url, "GET", `${C}/profile/${enc(dora.userId)}`, { token: dora.accessToken })).status, 200);
    assert.equal((await call(s.url, "GET", `${C}/profile/${enc(eve.userId)}/displayname`, { token: dora.accessToken })).status, 429);
  } finally {
    await s.close();
  }
});

test("media downloads are metered in files and bytes (the API the media routes call)", async () => {
  const s = await startTestServer({ read_gate: { thresholds: { media_files: 3, media_bytes: 1000 } } });
  try {
    const u = await s.user("reader");
    const v = await s.user("viewer");
    const who = await s.app.sessions.authenticate(u.accessToken);
    const who2 = await s.app.sessions.authenticate(v.accessToken);
    const dl = (w: typeof who, id: string, bytes: number) => s.app.readGate.release({ who: w, ip: "192.0.2.1", endpoint: "download" }, { media: { mediaId: id, bytes } });
    for (let i = 0; i < 3; i++) await dl(who, `m${i}`, 10);
    await assert.rejects(dl(who, "m3", 10), (e: unknown) => e instanceof MatrixError && e.errcode === "M_LIMIT_EXCEEDED");
    await dl(who2, "big", 900);
    await assert.rejects(dl(who2, "big2", 200), (e: unknown) => e instanceof MatrixError && e.status === 429);
    const media = (await records(s)).filter((r) => r.kind === "read" && r.data.e === "download");
    assert.deepEqual(
      media.map((r) => [r.data.mx, r.data.b, r.data.x]),
      [
        ["m0", 10, undefined],
        ["m1", 10, undefined],
        ["m2", 10, undefined],
        ["m3", 10, "throttled"],
        ["big", 900, undefined],
        ["big2", 200, "throttled"],
      ],
    );
  } finally {
    await s.close();
  }
});
