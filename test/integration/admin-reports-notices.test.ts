// Event reports (/_synapse/admin/v1/event_reports) and server notices
// (/_synapse/admin/v1/send_server_notice) over HTTP. Reports are inserted through the reports
// store, as /rooms/{roomId}/report does (that route belongs to the rooms work).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { assertError, call } from "../helpers/http.js";
import { reportsRepo } from "../../src/storage/reports.js";

const C = "/_matrix/client/v3";
const V1 = "/_synapse/admin/v1";

let s: TestServer;
let admin: TestUser;

before(async () => {
  s = await startTestServer();
  admin = await s.user("moderator", { admin: true });
});
after(async () => {
  await s.close();
});

const as = (method: string, path: string, body?: unknown, token = admin.accessToken) => call(s.url, method, path, { token, body });
const enc = encodeURIComponent;

async function sync(u: TestUser): Promise<Record<string, unknown>> {
  const r = await call(s.url, "GET", `${C}/sync?timeout=0`, { token: u.accessToken });
  assert.equal(r.status, 200);
  return r.body;
}

test("event reports: list (newest first, dir, pagination, filters), get with the event, delete", async () => {
  const [a, b, c] = [await s.user(), await s.user(), await s.user()];
  const r = await call(s.url, "POST", `${C}/createRoom`, { token: a.accessToken, body: { preset: "public_chat", name: "Signalements", room_alias_name: "signalements" } });
  const roomId = r.body.room_id as string;
  const other = (await call(s.url, "POST", `${C}/createRoom`, { token: c.accessToken, body: {} })).body.room_id as string;
  const sent = await call(s.url, "PUT", `${C}/rooms/${enc(roomId)}/send/m.room.message/t1`, { token: a.accessToken, body: { msgtype: "m.text", body: "propos injurieux" } });
  const eventId = sent.body.event_id as string;
  const reports = reportsRepo(s.app.storage.db);
  await reports.insert({ room_id: roomId, event_id: eventId, user_id: b.userId, reason: "injure", score: -100, received_ts: 1000 });
  await reports.insert({ room_id: roomId, event_id: null, user_id: c.userId, reason: "salon douteux", score: null, received_ts: 2000 });
  await reports.insert({ room_id: other, event_id: null, user_id: c.userId, reason: null, score: null, received_ts: 3000 });

  const list = await as("GET", `${V1}/event_reports`);
  assert.equal(list.status, 200);
  assert.equal(list.body.total, 3);
  const items = list.body.event_reports as Record<string, unknown>[];
  assert.deepEqual(items.map((i) => i.received_ts), [3000, 2000, 1000], "newest first");
  const first = items[2]!;
  assert.equal(first.room_id, roomId);
  assert.equal(first.event_id, eventId);
  assert.equal(first.user_id, b.userId);
  assert.equal(first.sender, a.userId);
  assert.equal(first.reason, "injure");
  assert.equal(first.score, -100);
  assert.equal(first.name, "Signalements");
  assert.equal(first.canonical_alias, "#signalements:rempart.test");

  const fwd = await as("GET", `${V1}/event_reports?dir=f&limit=2`);
  assert.deepEqual((fwd.body.event_reports as { received_ts: number }[]).map((i) => i.received_ts), [1000, 2000]);
  assert.equal(fwd.body.next_token, 2);
  const rest = await as("GET", `${V1}/event_reports?dir=f&limit=2&from=2`);
  assert.deepEqual((rest.body.event_reports as { received_ts: number }[]).map((i) => i.received_ts), [3000]);
  assert.equal(rest.body.next_token, undefined);
  assert.equal((await as("GET", `${V1}/event_reports?room_id=${enc(roomId)}`)).body.total, 2);
  assert.equal((await as("GET", `${V1}/event_reports?user_id=${enc(c.userId)}`)).body.total, 2);
  assert.equal((await as("GET", `${V1}/event_reports?event_sender_user_id=${enc(a.userId)}`)).body.total, 1);
  assertError(await as("GET", `${V1}/event_reports?dir=up`), 400, "M_INVALID_PARAM");

  const id = first.id as number;
  const one = await as("GET", `${V1}/event_reports/${id}`);
  assert.equal(one.status, 200);
  assert.equal((one.body.event_json as { event_id: string; content: { body: string } }).event_id, eventId);
  assert.equal((one.body.event_json as { content: { body: string } }).content.body, "propos injurieux");
  assertError(await as("GET", `${V1}/event_reports/abc`), 400, "M_INVALID_PARAM");
  assertError(await as("GET", `${V1}/event_reports/999999`), 404, "M_NOT_FOUND");

  assert.equal((await as("DELETE", `${V1}/event_reports/${id}`)).status, 200);
  assertError(await as("GET", `${V1}/event_reports/${id}`), 404, "M_NOT_FOUND");
  assertError(await as("DELETE", `${V1}/event_reports/${id}`), 404, "M_NOT_FOUND");
  assert.equal((await as("GET", `${V1}/event_reports`)).body.total, 2);
});

test("server notices: a room per user from the notices user, invited, m.notice, tagged, reused", async () => {
  const u = await s.user();
  const first = await as("POST", `${V1}/send_server_notice`, { user_id: u.userId, content: { msgtype: "m.text", body: "Maintenance à 20 h" } });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(typeof first.body.event_id, "string");

  const invites = (await sync(u)).rooms as { invite?: Record<string, { invite_state: { events: { type: string; sender: string; content: Record<string, unknown> }[] } }> };
  const roomIds = Object.keys(invites.invite ?? {});
  assert.equal(roomIds.length, 1);
  const roomId = roomIds[0]!;
  const inviteState = invites.invite![roomId]!.invite_state.events;
  assert.ok(inviteState.some((e) => e.type === "m.room.member" && e.sender === "@server:rempart.test"));
  assert.ok(inviteState.some((e) => e.type === "m.room.name" && e.content.name === "Server Notices"));

  assert.equal((await call(s.url, "POST", `${C}/join/${enc(roomId)}`, { token: u.accessToken })).status, 200);
  const second = await as("POST", `${V1}/send_server_notice`, { user_id: u.userId, content: { body: "Deuxième avis" } });
  assert.equal(second.status, 200);
  const msgs = await call(s.url, "GET", `${C}/rooms/${enc(roomId)}/messages?dir=b&limit=50`, { token: u.accessToken });
  const notices = (msgs.body.chunk as { type: string; sender: string; content: { msgtype: string; body: string } }[]).filter((e) => e.type === "m.room.message");
  assert.deepEqual(notices.map((e) => [e.sender, e.content.msgtype, e.content.body]), [
    ["@server:rempart.test", "m.notice", "Deuxième avis"],
    ["@server:rempart.test", "m.notice", "Maintenance à 20 h"],
  ]);
  const tag = await call(s.url, "GET", `${C}/user/${enc(u.userId)}/rooms/${enc(roomId)}/account_data/m.tag`, { token: u.accessToken });
  assert.ok((tag.body.tags as Record<string, unknown>)["m.server_notice"]);
  // The user cannot answer in the notices room.
  assertError(
    await call(s.url, "PUT", `${C}/rooms/${enc(roomId)}/send/m.room.message/r1`, { token: u.accessToken, body: { msgtype: "m.text", body: "ok" } }),
    403,
    "M_FORBIDDEN",
  );

  // After leaving, the next notice invites the user back into the same room.
  assert.equal((await call(s.url, "POST", `${C}/rooms/${enc(roomId)}/leave`, { token: u.accessToken, body: {} })).status, 200);
  assert.equal((await as("POST", `${V1}/send_server_notice`, { user_id: u.userId, content: { body: "Troisième avis" } })).status, 200);
  const again = (await sync(u)).rooms as { invite?: Record<string, unknown> };
  assert.deepEqual(Object.keys(again.invite ?? {}), [roomId]);
  assert.ok(s.app.adminActions !== undefined);
});

test("server notices: refusals (unknown, remote, deactivated, the notices user, bad bodies)", async () => {
  assertError(await as("POST", `${V1}/send_server_notice`, { user_id: "@ghost:rempart.test", content: { body: "x" } }), 404, "M_NOT_FOUND");
  assertError(await as("POST", `${V1}/send_server_notice`, { user_id: "@x:elsewhere.example", content: { body: "x" } }), 400, "M_INVALID_PARAM");
  assertError(await as("POST", `${V1}/send_server_notice`, { user_id: "@server:rempart.test", content: { body: "x" } }), 400, "M_INVALID_PARAM");
  const gone = await s.user();
  await as("POST", `${V1}/deactivate/${gone.userId}`, {});
  assertError(await as("POST", `${V1}/send_server_notice`, { user_id: gone.userId, content: { body: "x" } }), 400, "M_UNKNOWN");
  assertError(await as("POST", `${V1}/send_server_notice`, { user_id: gone.userId }), 400, "M_BAD_JSON");
});

test("server notices with auto_join: the user is joined and sees the notice in their timeline", async () => {
  const s2 = await startTestServer({ server_notices: { localpart: "avis", display_name: "Avis", room_name: "Avis du service", auto_join: true } });
  try {
    const op = await s2.user("op", { admin: true });
    const u = await s2.user();
    const res = await call(s2.url, "POST", `${V1}/send_server_notice`, { token: op.accessToken, body: { user_id: u.userId, content: { msgtype: "m.text", body: "Bienvenue" } } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const body = (await call(s2.url, "GET", `${C}/sync?timeout=0`, { token: u.accessToken })).body;
    const join = (body.rooms as { join?: Record<string, { timeline: { events: { type: string; sender: string; content: { body?: string } }[] } }> }).join ?? {};
    const rooms = Object.values(join);
    assert.equal(rooms.length, 1);
    const notice = rooms[0]!.timeline.events.find((e) => e.type === "m.room.message")!;
    assert.equal(notice.sender, "@avis:rempart.test");
    assert.equal(notice.content.body, "Bienvenue");
  } finally {
    await s2.close();
  }
});
