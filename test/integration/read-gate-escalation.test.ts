// Escalation by persistence (issue 8): a reader who keeps getting throttled is stepped up even when
// it obeys Retry-After, any trip after a step-up locks, a second long window catches a reader who
// stays under the hourly thresholds, a step-up survives a restart, an IP alone never escalates, and
// re-authentication after a step-up needs the account's second factor. Real server, real HTTP,
// injected clock.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";
import { records } from "../helpers/audit.js";
import { join, login, messages, publicRoom, sendMany } from "../helpers/rooms.js";
import { MatrixError } from "../../src/http/errors.js";
import { TotpFactor } from "../../src/security/mfa/totp.js";
import { ssoLogin, StolenTotp } from "../../bench/breach/sso-login.js";

const C = "/_matrix/client/v3";
const HOUR = 3_600_000;
const steps = async (s: TestServer) => (await records(s)).filter((r) => r.kind === "containment").map((r) => r.data);

/** `n` public rooms of `owner`, all joined by `reader`. */
async function joinedRooms(s: TestServer, owner: TestUser, reader: TestUser, n: number): Promise<string[]> {
  const rooms: string[] = [];
  for (let i = 0; i < n; i++) {
    rooms.push(await publicRoom(s, owner, `r${i}`));
    await join(s, reader, rooms[i]!);
  }
  return rooms;
}

/** A room whose `n` messages all predate `reader`'s join: every event it pages back is history. */
async function oldRoom(s: TestServer, n: number, tick: () => void) {
  const alice = await s.user();
  const room = await publicRoom(s, alice, "archive");
  await sendMany(s, alice, room, n, tick);
  return room;
}

test("persistence: a reader who obeys Retry-After is stepped up after throttles_to_step_up throttles, then locked at the next trip", async () => {
  let t = Date.now();
  // step_up_factor so high that only persistence can escalate.
  const s = await startTestServer({ now: () => t, read_gate: { thresholds: { rooms_read: 2 }, step_up_factor: 100, lock_factor: 200, throttles_to_step_up: 2 } });
  try {
    const alice = await s.user("alice");
    const mallory = await s.user("mallory");
    const rooms = await joinedRooms(s, alice, mallory, 5);
    for (let i = 0; i < 2; i++) assert.equal((await messages(s, mallory, rooms[i]!)).status, 200);
    // Two throttles, each waited out as told: the meter stays over the hourly threshold.
    for (let k = 0; k < 2; k++) {
      const r = await messages(s, mallory, rooms[2]!);
      assert.equal(r.status, 429, JSON.stringify(r.body));
      t += r.body.retry_after_ms as number;
    }
    const up = await messages(s, mallory, rooms[2]!);
    assert.equal(up.status, 401, JSON.stringify(up.body));
    assert.equal(up.body.soft_logout, true);
    const again = await login(s, "mallory", mallory.password, mallory.deviceId);
    assert.equal(again.status, 200);
    // Fresh meters after re-authentication, but the first trip within the window locks.
    for (let i = 0; i < 2; i++) assert.equal((await messages(s, again.token, rooms[i]!)).status, 200);
    const lock = await messages(s, again.token, rooms[2]!);
    assert.equal(lock.body.errcode, "M_USER_LOCKED");
    assert.deepEqual(
      (await steps(s)).map((d) => [d.a, d.why]),
      [
        ["throttle", undefined],
        ["throttle", undefined],
        ["step_up", "persistence"],
        ["lock", "after_step_up"],
      ],
    );
  } finally {
    await s.close();
  }
});

test("throttles older than the window do not add up", async () => {
  let t = Date.now();
  const s = await startTestServer({ now: () => t, read_gate: { thresholds: { rooms_read: 1 }, step_up_factor: 100, lock_factor: 200, throttles_to_step_up: 2 } });
  try {
    const alice = await s.user("alice");
    const bob = await s.user("bob");
    const rooms = await joinedRooms(s, alice, bob, 2);
    // One throttle an hour, for five hours: never two within one window, never escalated.
    for (let h = 0; h < 5; h++) {
      assert.equal((await messages(s, bob, rooms[0]!)).status, 200);
      assert.equal((await messages(s, bob, rooms[1]!)).status, 429);
      t += HOUR + 60_000;
    }
    assert.ok((await steps(s)).every((d) => d.a === "throttle"));
  } finally {
    await s.close();
  }
});

test("long window: a reader under the hourly threshold is throttled, stepped up, then locked over the week", async () => {
  let t = Date.now() - 30 * 86_400_000;
  const s = await startTestServer({
    now: () => t,
    read_gate: { thresholds: { history_events: 1000 }, long_thresholds: { history_events: 60 }, throttles_to_step_up: 2 },
  });
  try {
    const room = await oldRoom(s, 80, () => (t += 1000));
    t += 86_400_000;
    const mallory = await s.user("mallory");
    await join(s, mallory, room);
    const page = (token: string | typeof mallory) => messages(s, token, room, "limit=30");
    // 30 history events every two hours: far under 1,000 an hour.
    assert.equal((await page(mallory)).status, 200);
    t += 2 * HOUR;
    assert.equal((await page(mallory)).status, 200);
    t += 2 * HOUR;
    const first = await page(mallory);
    assert.equal(first.status, 429, JSON.stringify(first.body));
    // Retry after one bucket of the long window (a week / 60), not a minute.
    assert.equal(first.body.retry_after_ms, Math.floor((7 * 24 * HOUR) / 60));
    t += first.body.retry_after_ms as number;
    assert.equal((await page(mallory)).status, 429);
    t += 3 * HOUR;
    const up = await page(mallory);
    assert.equal(up.status, 401);
    assert.equal(up.body.soft_logout, true);
    const again = await login(s, "mallory", mallory.password, mallory.deviceId);
    t += 2 * HOUR;
    assert.equal((await page(again.token)).status, 200);
    t += 2 * HOUR;
    assert.equal((await page(again.token)).status, 200);
    t += 2 * HOUR;
    assert.equal((await page(again.token)).body.errcode, "M_USER_LOCKED", "two days after the step-up, still within the long window");
    const d = await steps(s);
    assert.deepEqual(
      d.map((x) => [x.a, x.w, x.m]),
      [
        ["throttle", "long", "history_events"],
        ["throttle", "long", "history_events"],
        ["step_up", "long", "history_events"],
        ["lock", "long", "history_events"],
      ],
    );
  } finally {
    await s.close();
  }
});

test("a step-up is remembered across a restart: the next trip locks", async () => {
  const first = await startTestServer({ read_gate: { thresholds: { rooms_read: 1 }, throttles_to_step_up: 1 } });
  let s: TestServer = first;
  try {
    const alice = await s.user("alice");
    const mallory = await s.user("mallory");
    const rooms = await joinedRooms(s, alice, mallory, 3);
    assert.equal((await messages(s, mallory, rooms[0]!)).status, 200);
    assert.equal((await messages(s, mallory, rooms[1]!)).status, 429);
    assert.equal((await messages(s, mallory, rooms[1]!)).body.soft_logout, true);
    s = await s.restart();
    const again = await login(s, "mallory", mallory.password);
    assert.equal(again.status, 200);
    assert.equal((await messages(s, again.token, rooms[0]!)).status, 200, "meters start from zero after a restart");
    assert.equal((await messages(s, again.token, rooms[1]!)).body.errcode, "M_USER_LOCKED", "the step-up before the restart still counts");
  } finally {
    await s.close();
  }
});

test("after a step-up the account's other sessions still count: a second device that reads more locks it, one that only syncs does not", async () => {
  const s = await startTestServer({ read_gate: { thresholds: { rooms_read: 2 }, step_up_factor: 100, lock_factor: 200, throttles_to_step_up: 1 } });
  try {
    const alice = await s.user("alice");
    const mallory = await s.user("mallory");
    const rooms = await joinedRooms(s, alice, mallory, 4);
    const second = await login(s, "mallory", mallory.password, "SECOND");
    assert.equal(second.status, 200);
    for (let i = 0; i < 2; i++) assert.equal((await messages(s, mallory, rooms[i]!)).status, 200);
    assert.equal((await messages(s, mallory, rooms[2]!)).status, 429);
    const up = await messages(s, mallory, rooms[2]!);
    assert.equal(up.body.soft_logout, true, JSON.stringify(up.body));
    // The second device's sync brings nothing old: it adds to no meter and is not refused.
    const sync = await call(s.url, "GET", `${C}/sync?timeout=0`, { token: second.token });
    assert.equal(sync.status, 200, JSON.stringify(sync.body));
    // Reading more from it trips the account's meter, which the step-up did not clear: locked.
    const lock = await messages(s, second.token, rooms[3]!);
    assert.equal(lock.body.errcode, "M_USER_LOCKED", JSON.stringify(lock.body));
    assert.deepEqual(
      (await steps(s)).map((d) => [d.a, d.why]),
      [
        ["throttle", undefined],
        ["step_up", "persistence"],
        ["lock", "after_step_up"],
      ],
    );
  } finally {
    await s.close();
  }
});

test("an IP alone is throttled for ever but never escalates (many people share an office address)", async () => {
  const s = await startTestServer({ read_gate: { thresholds: { media_files: 3 }, ip_threshold_factor: 1, throttles_to_step_up: 1 } });
  try {
    const whos = [];
    for (let i = 0; i < 8; i++) whos.push(await s.app.sessions.authenticate((await s.user()).accessToken));
    let refused = 0;
    for (const [i, who] of whos.entries()) {
      try {
        await s.app.readGate.release({ who, ip: "192.0.2.7", endpoint: "download" }, { media: { mediaId: `m${i}`, bytes: 10 } });
      } catch (e) {
        assert.ok(e instanceof MatrixError && e.errcode === "M_LIMIT_EXCEEDED", String(e));
        refused++;
      }
    }
    assert.equal(refused, 5);
    assert.deepEqual(
      (await steps(s)).map((d) => [d.a, d.k]),
      Array.from({ length: 5 }, () => ["throttle", "ip"]),
    );
  } finally {
    await s.close();
  }
});

test("step-up with a second factor: signing in again needs the TOTP code, not only the password", async () => {
  const s = await startTestServer({ read_gate: { thresholds: { rooms_read: 1 }, throttles_to_step_up: 1 } });
  try {
    const alice = await s.user("alice");
    const mallory = await s.user("mallory");
    const { secret } = s.app.mfa.totp.newSecret(mallory.userId);
    const enrolledAt = Date.now();
    assert.ok(await s.app.mfa.totp.enrol(mallory.userId, secret, TotpFactor.codeFor(secret, enrolledAt)));
    const rooms = await joinedRooms(s, alice, mallory, 3);
    assert.equal((await messages(s, mallory, rooms[0]!)).status, 200);
    assert.equal((await messages(s, mallory, rooms[1]!)).status, 429);
    assert.equal((await messages(s, mallory, rooms[1]!)).body.soft_logout, true);
    // The password alone: refused by /login, and the web login stops at the second factor.
    const pw = await login(s, "mallory", mallory.password, mallory.deviceId);
    assert.equal(pw.status, 403);
    const noCode = await ssoLogin(s.url, "mallory", mallory.password, undefined, mallory.deviceId);
    assert.equal(noCode.stage, "mfa");
    const wrong = await ssoLogin(s.url, "mallory", mallory.password, { code: async () => "000000" } as unknown as StolenTotp, mallory.deviceId);
    assert.equal(wrong.stage, "mfa");
    // Password and code: signed in again on the same device; the next trip locks.
    const totp = new StolenTotp(secret, Date.now, async (ms) => new Promise((r) => setTimeout(r, ms)));
    totp.markUsed(enrolledAt);
    const ok = await ssoLogin(s.url, "mallory", mallory.password, totp, mallory.deviceId);
    assert.equal(ok.stage, "signed_in", JSON.stringify(ok));
    assert.equal(ok.deviceId, mallory.deviceId);
    assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: ok.accessToken })).status, 200);
    assert.equal((await messages(s, ok.accessToken!, rooms[0]!)).status, 200);
    assert.equal((await messages(s, ok.accessToken!, rooms[1]!)).body.errcode, "M_USER_LOCKED");
  } finally {
    await s.close();
  }
});
