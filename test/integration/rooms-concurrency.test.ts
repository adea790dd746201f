// Concurrency: 20 clients sending into one room at once (each also retrying its requests with the
// same txnId at the same time). Every event is stored exactly once, pagination has no gaps or
// duplicates, and every reader sees the same order, backwards and forwards.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";

let s: TestServer;
const CLIENTS = 20;
const PER_CLIENT = 10;
const V3 = "/_matrix/client/v3";

before(async () => {
  s = await startTestServer();
});
after(async () => {
  await s.close();
});

type Ev = { event_id: string; type: string; sender: string; content: Record<string, unknown> };

async function paginate(user: TestUser, roomId: string, dir: "b" | "f", pageSize: number): Promise<Ev[]> {
  const out: Ev[] = [];
  let from: string | undefined;
  for (let i = 0; i < 1000; i++) {
    const q = new URLSearchParams({ dir, limit: String(pageSize) });
    if (from) q.set("from", from);
    const res = await call(s.url, "GET", `${V3}/rooms/${encodeURIComponent(roomId)}/messages?${q}`, { token: user.accessToken });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const chunk = res.body.chunk as Ev[];
    out.push(...chunk);
    if (!res.body.end || chunk.length === 0) return out;
    from = res.body.end as string;
  }
  throw new Error("pagination did not end");
}

test("20 clients at once: each event once, no gaps, one order for everyone", async () => {
  const users: TestUser[] = [];
  for (let i = 0; i < CLIENTS; i++) users.push(await s.user(`sender${i}`));
  const owner = users[0]!;
  const created = await call(s.url, "POST", `${V3}/createRoom`, { token: owner.accessToken, body: { preset: "public_chat" } });
  const roomId = created.body.room_id as string;
  await Promise.all(users.slice(1).map((u) => call(s.url, "POST", `${V3}/join/${encodeURIComponent(roomId)}`, { token: u.accessToken, body: {} })));

  // Each client sends its messages one after the other, all clients at the same time; every
  // request is sent twice at once with the same txnId, as a client retrying on a timeout would.
  const ids = new Map<string, string>();
  await Promise.all(
    users.map(async (u, ui) => {
      for (let j = 0; j < PER_CLIENT; j++) {
        const path = `${V3}/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t${j}`;
        const body = { msgtype: "m.text", body: `c${ui} m${j}` };
        const [a, b] = await Promise.all([call(s.url, "PUT", path, { token: u.accessToken, body }), call(s.url, "PUT", path, { token: u.accessToken, body })]);
        assert.equal(a.status, 200, JSON.stringify(a.body));
        assert.equal(b.status, 200, JSON.stringify(b.body));
        assert.equal(a.body.event_id, b.body.event_id, "a retried txnId returns the first event id");
        ids.set(`c${ui} m${j}`, a.body.event_id as string);
      }
    }),
  );
  assert.equal(new Set(ids.values()).size, CLIENTS * PER_CLIENT);

  // Stored exactly once, in the database itself.
  const rows = await s.app.storage.db.selectFrom("events").select(["event_id", "stream_ordering"]).where("room_id", "=", roomId).where("type", "=", "m.room.message").execute();
  assert.equal(rows.length, CLIENTS * PER_CLIENT);
  assert.equal(new Set(rows.map((r) => Number(r.stream_ordering))).size, rows.length, "distinct stream positions");

  // Three readers paginate backwards with different page sizes, one forwards: the same sequence.
  const messagesOnly = (evs: Ev[]) => evs.filter((e) => e.type === "m.room.message").map((e) => e.event_id);
  const back1 = await paginate(users[3]!, roomId, "b", 50);
  const back2 = await paginate(users[11]!, roomId, "b", 37);
  const back3 = await paginate(users[19]!, roomId, "b", 7);
  const fwd = await paginate(users[5]!, roomId, "f", 41);
  assert.equal(new Set(back1.map((e) => e.event_id)).size, back1.length, "no duplicates");
  assert.equal(back1[back1.length - 1]!.type, "m.room.create", "down to the creation event");
  assert.deepEqual(back2.map((e) => e.event_id), back1.map((e) => e.event_id));
  assert.deepEqual(back3.map((e) => e.event_id), back1.map((e) => e.event_id));
  assert.deepEqual(fwd.map((e) => e.event_id), back1.map((e) => e.event_id).reverse());
  const seen = messagesOnly(back1);
  assert.equal(seen.length, CLIENTS * PER_CLIENT, "no gaps");
  assert.deepEqual(new Set(seen), new Set(ids.values()));
  // Each client's own messages appear in the order it sent them.
  const order = new Map(messagesOnly(fwd).map((id, i) => [id, i]));
  for (let ui = 0; ui < CLIENTS; ui++) {
    const positions = Array.from({ length: PER_CLIENT }, (_, j) => order.get(ids.get(`c${ui} m${j}`)!)!);
    assert.deepEqual(positions, [...positions].sort((x, y) => x - y), `client ${ui}'s order`);
  }
  // The DAG is a single line here: each event's prev_event is the one before it.
  const full = await s.app.storage.db.selectFrom("events").select(["event_id", "json"]).where("room_id", "=", roomId).orderBy("stream_ordering").execute();
  for (let i = 1; i < full.length; i++) {
    assert.deepEqual((JSON.parse(full[i]!.json) as { prev_events: string[] }).prev_events, [full[i - 1]!.event_id]);
  }
});
