// The forensic report (docs/read-gate.md "Forensic report"): a scripted session (joins, /messages
// pages both ways, /context, media downloads, user directory searches) is reconstructed from the
// audit trail, and the report's totals equal exactly what the session's client received; the
// admin API in JSON, Markdown and CSV; who read a room or an event; refusals; a tampered trail is
// reported as such; `rempart forensics` on the same database.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join as pathJoin } from "node:path";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";
import { join, publicRoom, sendMany } from "../helpers/rooms.js";
import type { UserReport, ReverseReport } from "../../src/security/forensics/model.js";

const C = "/_matrix/client/v3";
const F = "/_rempart/admin/v1/forensics";
const enc = encodeURIComponent;

let s: TestServer;
let alice: TestUser;
let carol: TestUser;
let mallory: TestUser;
let admin: TestUser;
let rooms: string[];
let unreadRoom: string;
let since: number;
const room2: string[] = [];
/** What mallory's client received. */
const got = { messageIds: new Set<string>(), senders: new Set<string>(), rooms: new Set<string>(), media: 0, mediaBytes: 0, lastEvent: "" };

async function send(u: TestUser, room: string, content: Record<string, unknown>): Promise<string> {
  const r = await call(s.url, "PUT", `${C}/rooms/${enc(room)}/send/m.room.message/t${Math.random()}`, { token: u.accessToken, body: content });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.event_id as string;
}

async function uploadFile(u: TestUser, size: number): Promise<string> {
  const res = await fetch(`${s.url}/_matrix/media/v3/upload?filename=f.bin`, {
    method: "POST",
    headers: { authorization: `Bearer ${u.accessToken}`, "content-type": "application/octet-stream" },
    body: Buffer.alloc(size, 7) as unknown as BodyInit,
  });
  const body = (await res.json()) as { content_uri: string };
  assert.equal(res.status, 200, JSON.stringify(body));
  return body.content_uri;
}

/** Receives a /messages chunk the way the breach intruder counts it. */
async function take(chunk: Record<string, unknown>[], room: string): Promise<void> {
  got.rooms.add(room);
  for (const ev of chunk) {
    if (ev.type !== "m.room.message") continue;
    if (room === rooms[2]) room2.push(ev.event_id as string);
    got.messageIds.add(ev.event_id as string);
    got.senders.add(ev.sender as string);
    const url = (ev.content as { url?: string }).url;
    if (typeof url === "string" && url.startsWith("mxc://")) {
      const [server, id] = url.slice(6).split("/");
      const d = await fetch(`${s.url}/_matrix/client/v1/media/download/${enc(server!)}/${enc(id!)}`, { headers: { authorization: `Bearer ${mallory.accessToken}` } });
      const bytes = (await d.arrayBuffer()).byteLength;
      if (d.status === 200) {
        got.media++;
        got.mediaBytes += bytes;
      }
    }
  }
}

before(async () => {
  s = await startTestServer({ antivirus: { enabled: false } as never });
  alice = await s.user("alice");
  carol = await s.user("carol");
  mallory = await s.user("mallory");
  admin = await s.user("root", { admin: true });
  rooms = [];
  for (let i = 0; i < 3; i++) {
    const r = await publicRoom(s, alice, `forum ${i}`);
    await sendMany(s, alice, r, 9 + i);
    rooms.push(r);
  }
  await join(s, carol, rooms[1]!);
  await sendMany(s, carol, rooms[1]!, 4);
  await send(alice, rooms[0]!, { msgtype: "m.file", body: "a.bin", url: await uploadFile(alice, 1000) });
  await send(alice, rooms[0]!, { msgtype: "m.file", body: "b.bin", url: await uploadFile(alice, 2345) });
  unreadRoom = await publicRoom(s, alice, "never read");
  await sendMany(s, alice, unreadRoom, 3);
  await s.app.audit.flush();
  since = s.app.now();

  // The scripted session: mallory joins and pages every room backwards, 5 events a page.
  for (const room of rooms) {
    await join(s, mallory, room);
    let from: string | undefined;
    for (;;) {
      const r = await call(s.url, "GET", `${C}/rooms/${enc(room)}/messages?dir=b&limit=5${from ? `&from=${enc(from)}` : ""}`, { token: mallory.accessToken });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const chunk = r.body.chunk as Record<string, unknown>[];
      await take(chunk, room);
      if (!r.body.end || chunk.length === 0) break;
      from = r.body.end as string;
    }
  }
  // A forward page over the start of room 1 (read again: distinct ids count once) and a /context.
  const fwd = await call(s.url, "GET", `${C}/rooms/${enc(rooms[1]!)}/messages?dir=f&limit=8`, { token: mallory.accessToken });
  assert.equal(fwd.status, 200);
  await take(fwd.body.chunk as Record<string, unknown>[], rooms[1]!);
  const target = room2[3]!;
  const ctx = await call(s.url, "GET", `${C}/rooms/${enc(rooms[2]!)}/context/${enc(target)}?limit=4`, { token: mallory.accessToken });
  assert.equal(ctx.status, 200, JSON.stringify(ctx.body));
  await take([...(ctx.body.events_before as []), ctx.body.event as Record<string, unknown>, ...(ctx.body.events_after as [])], rooms[2]!);
  got.lastEvent = target;
  // Enumerating people.
  for (const term of ["a", "c", "zz"]) {
    const r = await call(s.url, "POST", `${C}/user_directory/search`, { token: mallory.accessToken, body: { search_term: term, limit: 50 } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
});

after(() => s.close());

test("totals equal exactly what the client received", async () => {
  assert.ok(got.messageIds.size > 30 && got.media === 2 && got.mediaBytes === 3345, JSON.stringify({ m: got.messageIds.size, media: got.media }));
  const t = await s.app.forensics.totals(mallory.userId, since);
  assert.deepEqual(t, { messages: got.messageIds.size, rooms: got.rooms.size, media: got.media, mediaBytes: got.mediaBytes, people: got.senders.size });
  // Nothing of mallory's reading is attributed to anyone else.
  assert.deepEqual(await s.app.forensics.totals(carol.userId, since), { messages: 0, rooms: 0, media: 0, mediaBytes: 0, people: 0 });
});

test("admin API: the JSON report lists rooms, people, media, directory queries and sessions, from a verified trail", async () => {
  const r = await call(s.url, "GET", `${F}/users/${enc(mallory.userId)}?since=${since}`, { token: admin.accessToken });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const rep = r.body as unknown as UserReport;
  assert.equal(rep.trail.verified, true);
  assert.equal(rep.inexact_ranges, 0);
  assert.equal(rep.totals.messages, got.messageIds.size);
  assert.deepEqual(rep.rooms.map((l) => l.room_id).sort(), [...rooms].sort());
  assert.ok(!rep.rooms.some((l) => l.room_id === unreadRoom));
  for (const l of rep.rooms) assert.ok(l.first_ts >= since && l.last_ts >= l.first_ts && l.messages > 0);
  assert.deepEqual(rep.people.map((p) => p.user_id).sort(), [...got.senders].sort());
  assert.equal(rep.people.find((p) => p.user_id === carol.userId)?.messages, 4);
  assert.deepEqual(rep.media.map((m) => m.bytes).sort((a, b) => a - b), [1000, 2345]);
  assert.deepEqual(rep.directory.filter((d) => d.endpoint === "user_directory").map((d) => d.query), ["a", "c", "zz"]);
  assert.equal(rep.sessions.length, 1);
  assert.equal(rep.sessions[0]!.device_id, mallory.deviceId);
  assert.equal(rep.ips[0]!.ip, "127.0.0.1");
  assert.deepEqual(rep.containment, []);
  assert.equal(rep.refused_reads.throttled, 0);
  // A period before the session: nothing.
  const empty = await call(s.url, "GET", `${F}/users/${enc(mallory.userId)}?until=${since}`, { token: admin.accessToken });
  assert.equal((empty.body as unknown as UserReport).totals.messages, 0);
});

test("admin API: Markdown and CSV", async () => {
  const md = await fetch(`${s.url}${F}/users/${enc(mallory.userId)}?format=md&since=${new Date(since).toISOString()}`, { headers: { authorization: `Bearer ${admin.accessToken}` } });
  assert.equal(md.status, 200);
  assert.match(md.headers.get("content-type") ?? "", /^text\/markdown/);
  const text = await md.text();
  assert.match(text, /^# Forensic report: @mallory:/);
  assert.match(text, /Audit trail verified/);
  assert.ok(text.includes(`| ${got.messageIds.size} | ${got.rooms.size} | ${got.senders.size} | 2 | 3345 |`), text);
  assert.ok(text.includes(rooms[0]!.replace(/[_*[\]]/g, (c) => `\\${c}`)));
  const csv = await fetch(`${s.url}${F}/users/${enc(mallory.userId)}?format=csv&since=${since}`, { headers: { authorization: `Bearer ${admin.accessToken}` } });
  assert.equal(csv.status, 200);
  assert.match(csv.headers.get("content-type") ?? "", /^text\/csv/);
  const lines = (await csv.text()).trim().split("\r\n");
  assert.equal(lines[0], "section,key,a,b,c,d,e");
  assert.ok(lines.includes(`totals,messages,${got.messageIds.size},,,,`));
  assert.ok(lines.includes("totals,media_bytes,3345,,,,"));
  assert.equal(lines.filter((l) => l.startsWith("room,")).length, 3);
  assert.equal(lines.filter((l) => l.startsWith("person,")).length, got.senders.size);
});

test("reverse lookup: who read a room, who read an event", async () => {
  const r = await call(s.url, "GET", `${F}/rooms/${enc(rooms[1]!)}`, { token: admin.accessToken });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const rep = r.body as unknown as ReverseReport;
  assert.equal(rep.trail.verified, true);
  assert.deepEqual(rep.readers.map((l) => l.user_id), [mallory.userId]);
  assert.deepEqual(rep.readers[0]!.ips, ["127.0.0.1"]);
  assert.equal((await call(s.url, "GET", `${F}/rooms/${enc(unreadRoom)}`, { token: admin.accessToken })).body.readers instanceof Array, true);
  assert.deepEqual((await call(s.url, "GET", `${F}/rooms/${enc(unreadRoom)}`, { token: admin.accessToken })).body.readers, []);
  // An event mallory received, and one sent after her reading.
  const ev = await call(s.url, "GET", `${F}/rooms/${enc(rooms[2]!)}?event_id=${enc(got.lastEvent)}`, { token: admin.accessToken });
  assert.deepEqual((ev.body as unknown as ReverseReport).readers.map((l) => l.user_id), [mallory.userId]);
  const fresh = await send(alice, rooms[2]!, { msgtype: "m.text", body: "after" });
  const none = await call(s.url, "GET", `${F}/rooms/${enc(rooms[2]!)}?event_id=${enc(fresh)}`, { token: admin.accessToken });
  assert.deepEqual((none.body as unknown as ReverseReport).readers, []);
});

test("refusals: anonymous 401, non-admin 403, bad parameters 400", async () => {
  const path = `${F}/users/${enc(mallory.userId)}`;
  const anon = await call(s.url, "GET", path);
  assert.equal(anon.status, 401);
  assert.equal(anon.body.errcode, "M_MISSING_TOKEN");
  const bad = await call(s.url, "GET", path, { token: "nonsense" });
  assert.equal(bad.status, 401);
  const user = await call(s.url, "GET", path, { token: mallory.accessToken });
  assert.equal(user.status, 403);
  assert.equal(user.body.errcode, "M_FORBIDDEN");
  assert.equal((await call(s.url, "GET", `${F}/rooms/${enc(rooms[0]!)}`, { token: carol.accessToken })).status, 403);
  for (const q of ["format=pdf", "since=yesterday", "until=2026-13-45"]) {
    const r = await call(s.url, "GET", `${path}?${q}`, { token: admin.accessToken });
    assert.equal(r.status, 400, q);
    assert.equal(r.body.errcode, "M_INVALID_PARAM");
  }
  assert.equal((await call(s.url, "GET", `${F}/users/nobody`, { token: admin.accessToken })).status, 400);
  assert.equal((await call(s.url, "GET", `${F}/rooms/not-a-room`, { token: admin.accessToken })).status, 400);
});

test("rempart forensics on the same database, then a tampered trail is reported", async () => {
  await s.app.audit.flush();
  const file = pathJoin(s.config.data_dir, "rempart-forensics.yaml");
  writeFileSync(file, `server_name: ${s.config.server_name}\ndata_dir: ${JSON.stringify(s.config.data_dir)}\ndatabase: ${JSON.stringify(s.config.database)}\nlog_level: silent\n`);
  const cli = (...args: string[]) => spawnSync(process.execPath, ["bin/rempart.js", "forensics", ...args, "--config", file], { encoding: "utf8", env: { ...process.env, DATABASE_URL: "" } });
  const j = cli("--user", mallory.userId, "--since", String(since), "--format", "json");
  assert.equal(j.status, 0, j.stderr);
  const rep = JSON.parse(j.stdout) as UserReport;
  assert.deepEqual(rep.totals, { messages: got.messageIds.size, rooms: got.rooms.size, media: got.media, mediaBytes: got.mediaBytes, people: got.senders.size });
  const md = cli("--room", rooms[0]!);
  assert.equal(md.status, 0, md.stderr);
  assert.match(md.stdout, /Audit trail verified/);
  assert.ok(md.stdout.includes(mallory.userId));
  const byEvent = cli("--event", got.lastEvent, "--format", "csv");
  assert.equal(byEvent.status, 0, byEvent.stderr);
  assert.ok(byEvent.stdout.split("\r\n")[1]!.startsWith(`${mallory.userId},`));
  assert.equal(cli("--format", "md").status, 2);

  // Someone rewrites a read record: the report still comes, flagged as not verified.
  const row = await s.app.storage.db.selectFrom("audit_log").select(["seq", "data"]).where("kind", "=", "read").orderBy("seq").limit(1).executeTakeFirstOrThrow();
  await s.app.storage.db.updateTable("audit_log").set({ data: row.data.replace("{", '{"n":0,') }).where("seq", "=", row.seq).execute();
  const t = await call(s.url, "GET", `${F}/users/${enc(mallory.userId)}?format=md`, { token: admin.accessToken });
  assert.equal(t.status, 200);
  assert.match(t.body._text as string, /Audit trail did NOT verify/);
  const c = cli("--user", mallory.userId);
  assert.equal(c.status, 1);
  assert.match(c.stdout, /did NOT verify/);
});

test("a filtered read (contains_url) is resolved to exactly the events returned, not its whole range", async () => {
  const eve = await s.user("eve-filtered");
  await join(s, eve, rooms[0]!);
  const t0 = s.app.now();
  const filter = enc(JSON.stringify({ contains_url: true }));
  const r = await call(s.url, "GET", `${C}/rooms/${enc(rooms[0]!)}/messages?dir=b&limit=50&filter=${filter}`, { token: eve.accessToken });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const chunk = r.body.chunk as { event_id: string; sender: string }[];
  assert.equal(chunk.length, 2, "the two files only");
  const t = await s.app.forensics.totals(eve.userId, t0);
  assert.deepEqual(t, { messages: 2, rooms: 1, media: 0, mediaBytes: 0, people: 1 });
  const rep = (await call(s.url, "GET", `${F}/users/${enc(eve.userId)}?since=${t0}`, { token: admin.accessToken })).body as unknown as UserReport;
  assert.equal(rep.inexact_ranges, 0);
});
