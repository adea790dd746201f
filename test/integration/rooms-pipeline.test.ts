// Messages of one room queued behind each other for commit (src/rooms/writer.ts): when
// one of them cannot be stored, the room's history stays whole. Every stored event points at a
// stored event (no dangling prev_events), depths follow stream order, the failed request and any
// queued behind it get a Matrix error, and retrying them with the same txnIds stores each once.
// The failure is real: a persist hook of the real server refuses one event, as a hook whose write
// fails would (the hook is registered on the running app, nothing of the server is mocked).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer } from "../helpers/server.js";
import { call } from "../helpers/http.js";

let s: TestServer;
const V3 = "/_matrix/client/v3";

before(async () => {
  s = await startTestServer();
});
after(async () => {
  await s.close();
});

test("a failed message in a busy room: no dangling history, retries store each message once", async () => {
  const u = await s.user("pipeliner");
  const created = await call(s.url, "POST", `${V3}/createRoom`, { token: u.accessToken, body: { preset: "public_chat" } });
  const roomId = created.body.room_id as string;
  let refused = 0;
  s.app.roomWriter.addPersistHook(async (_tx, _room, pdu) => {
    if (pdu.content.body === "refuse me" && refused++ === 0) throw new Error("refused by the test hook");
  });

  const bodies = ["a1", "a2", "a3", "refuse me", "b1", "b2", "b3", "b4", "b5", "b6"];
  const send = (i: number) =>
    call(s.url, "PUT", `${V3}/rooms/${encodeURIComponent(roomId)}/send/m.room.message/p${i}`, { token: u.accessToken, body: { msgtype: "m.text", body: bodies[i] } });
  // All handed to the room's writer in the same turn of the event loop, as requests arriving
  // together are, so on SQLite they are queued behind each other before the first one commits.
  const first = await Promise.allSettled(
    bodies.map((body, i) =>
      s.app.roomWriter.send(roomId, { type: "m.room.message", sender: u.userId, content: { msgtype: "m.text", body } }, { txn: { deviceId: u.deviceId, txnId: `p${i}` } }),
    ),
  );
  for (const r of first) {
    if (r.status === "rejected") assert.equal((r.reason as { errcode?: string }).errcode ?? "M_UNKNOWN", "M_UNKNOWN");
  }
  assert.equal(first[3]!.status, "rejected", "the refused event is not stored");
  // The messages after it were either queued behind it (they pointed at it: refused too, never
  // stored dangling) or built after the failure on the room reloaded from the database (stored).
  // Which of the two depends on timing (the queue commits while later messages are built, and
  // their signing may wait for the signing thread), so the test does not fix it; the checks below
  // hold either way.

  // Retry what failed, with the same txnIds (the hook now lets everything through).
  const retried = await Promise.all(bodies.map((_, i) => send(i)));
  for (const r of retried) assert.equal(r.status, 200, JSON.stringify(r.body));
  first.forEach((r, i) => {
    if (r.status === "fulfilled") assert.equal(retried[i]!.body.event_id, r.value.eventId, "a stored txnId answers its first event");
  });
  const again = await Promise.all(bodies.map((_, i) => send(i)));
  again.forEach((r, i) => assert.equal(r.body.event_id, retried[i]!.body.event_id, "a txnId maps to one event"));

  const rows = await s.app.storage.db.selectFrom("events").select(["event_id", "stream_ordering", "json"]).where("room_id", "=", roomId).orderBy("stream_ordering").execute();
  const ids = new Set(rows.map((r) => r.event_id));
  let depth = 0;
  for (const r of rows) {
    const pdu = JSON.parse(r.json) as { prev_events: string[]; depth: number; content: { body?: string } };
    for (const p of pdu.prev_events) assert.ok(ids.has(p), `prev_event ${p} of ${r.event_id} is stored`);
    assert.ok(pdu.depth > depth, "depth grows with the stream");
    depth = pdu.depth;
  }
  const stored = rows.map((r) => (JSON.parse(r.json) as { content: { body?: string } }).content.body).filter((b) => b !== undefined);
  assert.deepEqual([...stored].sort(), [...bodies].sort(), "each message stored exactly once");
});
