// The tamper-evident audit trail: `rempart audit verify` (the real CLI, on the configured database,
// SQLite or PostgreSQL) passes on an untouched trail and names the first bad record after an edit,
// a deletion, an insertion, a reordering, or a rewrite that recomputes every hash. And the trail
// records exactly what a scripted client session received.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { sql } from "kysely";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";
import { records, reads, verifyCli } from "../helpers/audit.js";
import { recordHash } from "../../src/security/audit/chain.js";

const C = "/_matrix/client/v3";
let s: TestServer;
let alice: TestUser;
let bob: TestUser;
const rooms: string[] = [];

async function send(u: TestUser, room: string, n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) {
    const r = await call(s.url, "PUT", `${C}/rooms/${encodeURIComponent(room)}/send/m.room.message/${tag}-${i}`, { token: u.accessToken, body: { msgtype: "m.text", body: `${tag} ${i}` } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
}

before(async () => {
  s = await startTestServer();
  alice = await s.user("alice");
  bob = await s.user("bob");
  for (const name of ["one", "two"]) {
    const r = await call(s.url, "POST", `${C}/createRoom`, { token: alice.accessToken, body: { name, preset: "public_chat" } });
    assert.equal(r.status, 200);
    rooms.push(r.body.room_id as string);
    assert.equal((await call(s.url, "POST", `${C}/join/${encodeURIComponent(r.body.room_id as string)}`, { token: bob.accessToken })).status, 200);
  }
  await send(alice, rooms[0]!, 25, "a");
  await send(alice, rooms[1]!, 7, "b");
});

after(async () => {
  await s.close();
});

test("the audit records of a scripted session match what the client received, room by room", async () => {
  const got = new Map<string, number>();
  const add = (room: string, n: number) => got.set(room, (got.get(room) ?? 0) + n);
  const before = (await records(s)).length;
  // Initial sync, two pages of /messages, a /context, an /event, the state, the members.
  const sync = await call(s.url, "GET", `${C}/sync?timeout=0`, { token: bob.accessToken });
  assert.equal(sync.status, 200);
  for (const [room, sec] of Object.entries((sync.body.rooms as { join: Record<string, { timeline: { events: unknown[] } }> }).join)) add(room, sec.timeline.events.length);
  let from: string | undefined;
  for (let page = 0; page < 2; page++) {
    const m = await call(s.url, "GET", `${C}/rooms/${encodeURIComponent(rooms[0]!)}/messages?dir=b&limit=10${from ? `&from=${from}` : ""}`, { token: bob.accessToken });
    assert.equal(m.status, 200);
    add(rooms[0]!, (m.body.chunk as unknown[]).length);
    from = m.body.end as string;
  }
  const m2 = await call(s.url, "GET", `${C}/rooms/${encodeURIComponent(rooms[1]!)}/messages?dir=b&limit=50`, { token: bob.accessToken });
  add(rooms[1]!, (m2.body.chunk as unknown[]).length);
  const last = (m2.body.chunk as { event_id: string }[])[0]!.event_id;
  const ctx = await call(s.url, "GET", `${C}/rooms/${encodeURIComponent(rooms[1]!)}/context/${encodeURIComponent(last)}?limit=4`, { token: bob.accessToken });
  assert.equal(ctx.status, 200);
  add(rooms[1]!, (ctx.body.events_before as unknown[]).length + (ctx.body.events_after as unknown[]).length + 1);
  const ev = await call(s.url, "GET", `${C}/rooms/${encodeURIComponent(rooms[1]!)}/event/${encodeURIComponent(last)}`, { token: bob.accessToken });
  assert.equal(ev.status, 200);
  add(rooms[1]!, 1);
  const members = await call(s.url, "GET", `${C}/rooms/${encodeURIComponent(rooms[0]!)}/members`, { token: bob.accessToken });
  assert.equal(members.status, 200);

  const recs = (await records(s)).slice(before).filter((r) => r.kind === "read");
  const recorded = new Map<string, number>();
  for (const r of recs) {
    if (r.data.rs) for (const [room, v] of Object.entries(r.data.rs as Record<string, number[]>)) recorded.set(room, (recorded.get(room) ?? 0) + v[0]!);
    else if (typeof r.data.r === "string") recorded.set(r.data.r, (recorded.get(r.data.r) ?? 0) + ((r.data.n as number | undefined) ?? 0));
  }
  assert.deepEqual(Object.fromEntries(recorded), Object.fromEntries(got));
  assert.deepEqual(recs.map((r) => r.data.e), ["sync", "messages", "messages", "messages", "context", "event", "members"]);
  const mb = recs.find((r) => r.data.e === "members")!;
  assert.equal(mb.data.mb, (members.body.chunk as unknown[]).length);
  // Who: the session record names user, device, session id, IP and user agent; never the token.
  const session = (await records(s)).find((r) => r.seq === recs[0]!.data.s)!;
  assert.equal(session.kind, "session");
  assert.equal(session.data.u, bob.userId);
  assert.equal(session.data.d, bob.deviceId);
  assert.equal(session.data.ip, "127.0.0.1");
  assert.equal(typeof session.data.sid, "number");
  const all = JSON.stringify(await records(s));
  assert.ok(!all.includes(bob.accessToken) && !all.includes(bob.password) && !all.includes("a 3"), "no token, password or message body in the trail");
});

test("security decisions are recorded: login success and failure, logout", async () => {
  const before = (await records(s)).length;
  const bad = await call(s.url, "POST", `${C}/login`, { body: { type: "m.login.password", identifier: { type: "m.id.user", user: "bob" }, password: "wrong" } });
  assert.equal(bad.status, 403);
  const good = await call(s.url, "POST", `${C}/login`, { body: { type: "m.login.password", identifier: { type: "m.id.user", user: "bob" }, password: bob.password } });
  assert.equal(good.status, 200);
  assert.equal((await call(s.url, "POST", `${C}/logout`, { token: good.body.access_token as string })).status, 200);
  const all = (await records(s)).slice(before).filter((r) => r.kind === "auth");
  // The login-security decisions (dotted names, from app.securityEvents) are in the trail too.
  assert.ok(all.some((r) => r.data.e === "login.failed" && r.data.x === "deny"), JSON.stringify(all.map((r) => r.data.e)));
  const recs = all.filter((r) => !String(r.data.e).includes("."));
  assert.deepEqual(
    recs.map((r) => [r.data.e, r.data.x, r.data.u]),
    [
      ["login", "deny", "bob"],
      ["login", "allow", bob.userId],
      ["logout", "allow", bob.userId],
    ],
  );
  assert.equal(recs[2]!.data.d, good.body.device_id);
  assert.ok(!JSON.stringify(recs).includes("wrong"), "no password in the trail");
});

test("security decisions are recorded: refresh, password change, device deletion, admin actions", async () => {
  const before = (await records(s)).length;
  const carol = await s.user("carol", { password: "carol-old-password-1" });
  const withRefresh = await call(s.url, "POST", `${C}/login`, { body: { type: "m.login.password", identifier: { type: "m.id.user", user: "carol" }, password: "carol-old-password-1", refresh_token: true } });
  const refreshed = await call(s.url, "POST", `${C}/refresh`, { body: { refresh_token: withRefresh.body.refresh_token } });
  assert.equal(refreshed.status, 200);
  const auth = { type: "m.login.password", identifier: { type: "m.id.user", user: "carol" }, password: "carol-old-password-1" };
  const del = await call(s.url, "DELETE", `${C}/devices/${withRefresh.body.device_id as string}`, { token: carol.accessToken, body: { auth } });
  assert.equal(del.status, 200, JSON.stringify(del.body));
  const pw = await call(s.url, "POST", `${C}/account/password`, { token: carol.accessToken, body: { new_password: "carol-new-password-2", logout_devices: false, auth } });
  assert.equal(pw.status, 200, JSON.stringify(pw.body));
  const root = await s.user("root", { admin: true });
  const tok = await call(s.url, "POST", "/_synapse/admin/v1/registration_tokens/new", { token: root.accessToken, body: { token: "audit-tok" } });
  assert.equal(tok.status, 200);
  const denied = await call(s.url, "GET", "/_synapse/admin/v1/registration_tokens", { token: carol.accessToken });
  assert.equal(denied.status, 403);
  const recs = (await records(s)).slice(before).filter((r) => r.kind !== "session" && r.kind !== "read");
  const view = recs.map((r) => [r.kind, r.data.e, r.data.x, r.data.u]);
  assert.deepEqual(view.filter((v) => v[1] === "refresh"), [["auth", "refresh", "allow", carol.userId]]);
  assert.deepEqual(view.filter((v) => v[1] === "delete_device"), [["account", "delete_device", "allow", carol.userId]]);
  assert.deepEqual(view.filter((v) => v[1] === "password"), [["account", "password", "allow", carol.userId]]);
  const admin = recs.filter((r) => r.kind === "admin");
  assert.deepEqual(
    admin.map((r) => [r.data.m, r.data.e, r.data.x, r.data.u]),
    [
      ["POST", "/_synapse/admin/v1/registration_tokens/new", "allow", root.userId],
      ["GET", "/_synapse/admin/v1/registration_tokens", "deny", carol.userId],
    ],
  );
  assert.ok(!JSON.stringify(recs).includes("carol-new-password-2") && !JSON.stringify(recs).includes(withRefresh.body.refresh_token as string));
});

test("an untouched trail verifies (exit 0); checkpoints are signed", async () => {
  await s.app.audit.flush();
  await s.app.audit.maybeCheckpoint(true);
  const r = verifyCli(s);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /audit trail OK: \d+ records/);
  const cps = await s.app.storage.db.selectFrom("audit_checkpoints").selectAll().execute();
  assert.ok(cps.length >= 1);
  assert.equal(cps[0]!.key_id, s.app.signingKey.keyId);
});

type Row = { seq: number; ts: number; kind: string; data: string; hash: string };
const db = () => s.app.storage.db;
const row = async (seq: number): Promise<Row> => {
  const r = await db().selectFrom("audit_log").selectAll().where("seq", "=", seq).executeTakeFirstOrThrow();
  return { ...r, seq: Number(r.seq), ts: Number(r.ts) };
};

function assertNames(seq: number, what: string): void {
  const r = verifyCli(s);
  assert.equal(r.code, 1, `${what}: ${r.out}`);
  assert.match(r.out, new RegExp(`first bad record seq ${seq}\\b`), `${what}: ${r.out}`);
}

function assertIntact(what: string): void {
  const r = verifyCli(s);
  assert.equal(r.code, 0, `${what} restored: ${r.out}`);
}

test("an edited record is named", async () => {
  const target = await row(10);
  const forged = target.data.replace(/"n":\d+/, '"n":0').replace(/"u":"[^"]+"/, '"u":"@nobody:rempart.test"');
  await db().updateTable("audit_log").set({ data: forged === target.data ? target.data + " " : forged }).where("seq", "=", 10).execute();
  assertNames(10, "edited data");
  await db().updateTable("audit_log").set({ data: target.data, ts: target.ts + 1 }).where("seq", "=", 10).execute();
  assertNames(10, "edited timestamp");
  await db().updateTable("audit_log").set({ ts: target.ts }).where("seq", "=", 10).execute();
  assertIntact("edit");
});

test("a deleted record is named", async () => {
  const target = await row(7);
  await db().deleteFrom("audit_log").where("seq", "=", 7).execute();
  assertNames(7, "deleted");
  await db().insertInto("audit_log").values(target).execute();
  assertIntact("deletion");
});

test("an inserted record is named", async () => {
  // Make room at seq 5 by shifting everything after it, then insert a plausible record there.
  const shift = 1_000_000;
  await db().updateTable("audit_log").set({ seq: sql`seq + ${shift}` }).where("seq", ">=", 5).execute();
  await db().updateTable("audit_log").set({ seq: sql`seq - ${shift - 1}` }).where("seq", ">=", shift).execute();
  const prev = await row(4);
  const data = JSON.stringify({ e: "login", u: "@alice:rempart.test", x: "allow" });
  await db().insertInto("audit_log").values({ seq: 5, ts: prev.ts, kind: "auth", data, hash: recordHash(prev.hash, 5, prev.ts, "auth", data) }).execute();
  assertNames(6, "inserted (its own hash forged: the next record no longer chains)");
  await db().deleteFrom("audit_log").where("seq", "=", 5).execute();
  await db().updateTable("audit_log").set({ seq: sql`seq + ${shift}` }).where("seq", ">=", 6).execute();
  await db().updateTable("audit_log").set({ seq: sql`seq - ${shift + 1}` }).where("seq", ">=", shift).execute();
  assertIntact("insertion");
});

test("reordered records are named", async () => {
  const a = await row(12);
  const b = await row(13);
  await db().updateTable("audit_log").set({ ts: b.ts, kind: b.kind, data: b.data, hash: b.hash }).where("seq", "=", 12).execute();
  await db().updateTable("audit_log").set({ ts: a.ts, kind: a.kind, data: a.data, hash: a.hash }).where("seq", "=", 13).execute();
  assertNames(12, "reordered");
  await db().updateTable("audit_log").set({ ts: a.ts, kind: a.kind, data: a.data, hash: a.hash }).where("seq", "=", 12).execute();
  await db().updateTable("audit_log").set({ ts: b.ts, kind: b.kind, data: b.data, hash: b.hash }).where("seq", "=", 13).execute();
  assertIntact("reordering");
});

test("a rewrite that recomputes every following hash is caught by the signed checkpoint", async () => {
  const cp = await db().selectFrom("audit_checkpoints").select("seq").orderBy("seq", "desc").limit(1).executeTakeFirstOrThrow();
  const last = Number(cp.seq);
  const originals: Row[] = [];
  for (let seq = 3; seq <= last; seq++) originals.push(await row(seq));
  let prev = (await row(2)).hash;
  for (const r of originals) {
    const data = r.seq === 3 ? r.data.replace(/"e":"[a-z_.]+"/, '"e":"whoami"') + (r.data.includes('"e":') ? "" : " ") : r.data;
    const hash = recordHash(prev, r.seq, r.ts, r.kind, data);
    await db().updateTable("audit_log").set({ data, hash }).where("seq", "=", r.seq).execute();
    prev = hash;
  }
  const out = verifyCli(s);
  assert.equal(out.code, 1, out.out);
  assert.match(out.out, /were rewritten/);
  for (const r of originals) await db().updateTable("audit_log").set({ data: r.data, hash: r.hash }).where("seq", "=", r.seq).execute();
  assertIntact("rewrite");
});

test("reads keep being recorded after verification, and the trail still verifies", async () => {
  const n = (await reads(s)).length;
  // The CLI runs above leave the client's keep-alive connection idle past the server's keep-alive
  // timeout: a reset of that stale connection is retried once (it is not a server failure).
  const get = () => call(s.url, "GET", `${C}/rooms/${encodeURIComponent(rooms[0]!)}/messages?limit=5`, { token: alice.accessToken });
  const res = await get().catch(() => get());
  assert.equal(res.status, 200);
  assert.equal((await reads(s)).length, n + 1);
  await s.app.audit.maybeCheckpoint(true);
  assertIntact("after more reads");
});
