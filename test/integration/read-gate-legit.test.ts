// What must not look like an attack: a new device's initial sync across many rooms, a user catching
// up after weeks away (injected clock), and an allowlisted bot. All are recorded; none is contained.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startTestServer } from "../helpers/server.js";
import { call } from "../helpers/http.js";
import { records, reads } from "../helpers/audit.js";
import { join, login, messages, publicRoom, sendMany } from "../helpers/rooms.js";

const C = "/_matrix/client/v3";
const strict = { thresholds: { rooms_read: 3, history_events: 10 } };
const containment = async (s: Awaited<ReturnType<typeof startTestServer>>) => (await records(s)).filter((r) => r.kind === "containment");

test("a new device's initial sync of many rooms, with a 50-event timeline, is not history reading", async () => {
  const s = await startTestServer({ read_gate: strict });
  try {
    const alice = await s.user("alice");
    const bob = await s.user("bob");
    const rooms: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await publicRoom(s, alice, `team ${i}`);
      await sendMany(s, alice, r, 55);
      await join(s, bob, r); // every message predates Bob's join
      rooms.push(r);
    }
    const device = await login(s, "bob", bob.password);
    const filter = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 50 } } }));
    const sync = await call(s.url, "GET", `${C}/sync?timeout=0&filter=${filter}`, { token: device.token });
    assert.equal(sync.status, 200, JSON.stringify(sync.body).slice(0, 300));
    const joined = (sync.body.rooms as { join: Record<string, { timeline: { events: unknown[] } }> }).join;
    assert.equal(Object.keys(joined).length, 8);
    for (const r of rooms) assert.equal(joined[r]!.timeline.events.length, 50);
    // The next incremental sync and whoami still work: no containment.
    const next = await call(s.url, "GET", `${C}/sync?timeout=0&since=${sync.body.next_batch as string}`, { token: device.token });
    assert.equal(next.status, 200);
    assert.deepEqual(await containment(s), []);
    const rec = (await reads(s, "sync"))[0]!;
    assert.equal(rec.data.n, 400);
    assert.equal(rec.data.h, undefined, "no history counted");
    // A client asking for far more than the free timeline is reading history, and is metered.
    const greedy = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 200 } } }));
    const other = await login(s, "bob", bob.password);
    const big = await call(s.url, "GET", `${C}/sync?timeout=0&filter=${greedy}`, { token: other.token });
    assert.ok(big.status === 429 || (big.status === 401 && big.body.soft_logout === true), `${big.status} ${JSON.stringify(big.body).slice(0, 200)}`);
    assert.ok((await containment(s)).length > 0);
  } finally {
    await s.close();
  }
});

test("catching up after three weeks away: limited sync, then paging back through everything missed", async () => {
  let t = Date.now() - 60 * 86_400_000;
  const s = await startTestServer({ now: () => t, read_gate: strict });
  try {
    const alice = await s.user("alice");
    const bob = await s.user("bob");
    const room = await publicRoom(s, alice, "service");
    await join(s, bob, room);
    const first = await call(s.url, "GET", `${C}/sync?timeout=0`, { token: bob.accessToken });
    assert.equal(first.status, 200);
    // Three weeks of messages while Bob is on holiday.
    await sendMany(s, alice, room, 150, () => (t += 3 * 3_600_000));
    const back = await call(s.url, "GET", `${C}/sync?timeout=0&since=${first.body.next_batch as string}`, { token: bob.accessToken });
    assert.equal(back.status, 200);
    const tl = (back.body.rooms as { join: Record<string, { timeline: { limited: boolean; prev_batch: string } }> }).join[room]!.timeline;
    assert.equal(tl.limited, true);
    let from = tl.prev_batch;
    let seen = 0;
    for (let page = 0; page < 4; page++) {
      const m = await messages(s, bob, room, `limit=50&from=${from}`);
      assert.equal(m.status, 200, JSON.stringify(m.body));
      seen += (m.body.chunk as unknown[]).length;
      if (!m.body.end) break;
      from = m.body.end as string;
    }
    assert.ok(seen >= 140, `paged back through what was missed (${seen})`);
    assert.deepEqual(await containment(s), []);
  } finally {
    await s.close();
  }
});

test("an allowlisted bot reads everything, recorded but never contained", async () => {
  const s = await startTestServer({ read_gate: { ...strict, allowlist: ["@archiver:rempart.test"] } });
  try {
    const alice = await s.user("alice");
    const bot = await s.user("archiver");
    const mallory = await s.user("mallory");
    const rooms: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await publicRoom(s, alice, `forum ${i}`);
      await sendMany(s, alice, r, 30);
      await join(s, bot, r);
      await join(s, mallory, r);
      rooms.push(r);
    }
    for (const r of rooms) assert.equal((await messages(s, bot, r)).status, 200);
    assert.equal((await reads(s, "messages")).length, 6, "every read of the bot is recorded");
    assert.deepEqual(await containment(s), []);
    // The same reads by someone not on the allowlist are contained.
    const m = await messages(s, mallory, rooms[0]!);
    assert.ok(m.status === 429 || (m.status === 401 && m.body.soft_logout === true), `${m.status}`);
    assert.equal((await containment(s)).length, 1);
  } finally {
    await s.close();
  }
});
