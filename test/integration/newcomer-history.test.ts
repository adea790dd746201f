// Newcomer history in public rooms (docs/rooms.md "Newcomer history in public rooms"): with each
// policy (server default `public_rooms.newcomer_history`, or the room's fr.rempart.newcomer_history
// override), Bob joins a public room after m0..m3 were sent (m0 is a thread root with a reply), then
// m4 is sent. Every read path must show him exactly what the policy allows, and all must agree.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";

const V3 = "/_matrix/client/v3";
const V1 = "/_matrix/client/v1";
const enc = encodeURIComponent;
const DAY = 86_400_000;

type Ev = { event_id: string; type: string; content: Record<string, unknown>; state_key?: string };
type Res = { status: number; body: Record<string, unknown> };
const ok = async (p: Promise<Res>) => {
  const r = await p;
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
};

const servers: TestServer[] = [];
after(async () => {
  for (const s of servers) await s.close();
});
async function server(overrides: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const s = await startTestServer(overrides);
  servers.push(s);
  return s;
}

const LABELS = ["m0", "m1", "m2", "m3", "m4"];

interface Room {
  roomId: string;
  msgs: Record<string, string>;
  prefix: string;
  /** Bob's sync token from before his join (for the incremental sync). */
  bobSince: string;
}

const send = async (s: TestServer, who: TestUser, roomId: string, body: string, extra: Record<string, unknown> = {}) =>
  (await ok(call(s.url, "PUT", `${V3}/rooms/${enc(roomId)}/send/m.room.message/${Math.random()}`, { token: who.accessToken, body: { msgtype: "m.text", body, ...extra } }))).event_id as string;

/**
 * Alice's room (public unless `preset` says otherwise): optional `early` member joined at once,
 * optional `override` state before the messages, m0 (+ thread reply) .. m3, Bob joins, m4.
 * `tick(label)` runs before each message (the days test moves the clock there).
 */
async function scenario(
  s: TestServer,
  alice: TestUser,
  bob: TestUser,
  prefix: string,
  opts: { preset?: "public_chat" | "private_chat"; override?: Record<string, unknown>; early?: TestUser; tick?: (label: string) => void } = {},
): Promise<Room> {
  const preset = opts.preset ?? "public_chat";
  const roomId = (await ok(call(s.url, "POST", `${V3}/createRoom`, { token: alice.accessToken, body: { preset } }))).room_id as string;
  if (opts.early) {
    if (preset === "private_chat") await ok(call(s.url, "POST", `${V3}/rooms/${enc(roomId)}/invite`, { token: alice.accessToken, body: { user_id: opts.early.userId } }));
    await ok(call(s.url, "POST", `${V3}/join/${enc(roomId)}`, { token: opts.early.accessToken, body: {} }));
  }
  if (opts.override) await ok(call(s.url, "PUT", `${V3}/rooms/${enc(roomId)}/state/fr.rempart.newcomer_history`, { token: alice.accessToken, body: opts.override }));
  const msgs: Record<string, string> = {};
  for (const l of ["m0", "m1", "m2", "m3"]) {
    opts.tick?.(l);
    msgs[l] = await send(s, alice, roomId, `${prefix}-${l}`);
    if (l === "m0") await send(s, alice, roomId, `${prefix}-reply`, { "m.relates_to": { rel_type: "m.thread", event_id: msgs.m0 } });
  }
  opts.tick?.("join");
  const bobSince = (await ok(call(s.url, "GET", `${V3}/sync?timeout=0`, { token: bob.accessToken }))).next_batch as string;
  if (preset === "private_chat") await ok(call(s.url, "POST", `${V3}/rooms/${enc(roomId)}/invite`, { token: alice.accessToken, body: { user_id: bob.userId } }));
  await ok(call(s.url, "POST", `${V3}/join/${enc(roomId)}`, { token: bob.accessToken, body: {} }));
  opts.tick?.("m4");
  msgs.m4 = await send(s, alice, roomId, `${prefix}-m4`);
  return { roomId, msgs, prefix, bobSince };
}

const labelsOf = (room: Room, events: Ev[]) => LABELS.filter((l) => events.some((e) => e.content?.body === `${room.prefix}-${l}`));

/** Which labelled messages each read path shows `who`. */
async function whatEachPathShows(s: TestServer, who: TestUser, room: Room, since?: string) {
  const { roomId, msgs } = room;
  const r = `${V3}/rooms/${enc(roomId)}`;
  const get = (path: string) => call(s.url, "GET", path, { token: who.accessToken });
  const out: Record<string, unknown> = {};
  out.messagesBack = labelsOf(room, (await ok(get(`${r}/messages?dir=b&limit=100`))).chunk as Ev[]);
  out.messagesForward = labelsOf(room, (await ok(get(`${r}/messages?dir=f&limit=100`))).chunk as Ev[]);
  const event: string[] = [];
  const context: string[] = [];
  const contextLeaks: string[] = [];
  for (const l of LABELS) {
    if ((await get(`${r}/event/${enc(msgs[l]!)}`)).status === 200) event.push(l);
    const c = await get(`${r}/context/${enc(msgs[l]!)}?limit=20`);
    if (c.status === 200) {
      context.push(l);
      // The events around a visible one never include hidden ones.
      contextLeaks.push(...labelsOf(room, [...(c.body.events_before as Ev[]), ...(c.body.events_after as Ev[])]));
    } else assert.deepEqual([c.status, c.body.errcode], [404, "M_NOT_FOUND"], `context ${l}`);
  }
  out.event = event;
  out.context = context;
  out.contextNeighbours = LABELS.filter((l) => contextLeaks.includes(l));
  const search = await ok(call(s.url, "POST", `${V3}/search`, { token: who.accessToken, body: { search_categories: { room_events: { search_term: room.prefix } } } }));
  const results = ((search.search_categories as { room_events: { results?: Array<{ result: Ev }> } }).room_events.results ?? []).map((x) => x.result);
  out.search = labelsOf(room, results);
  // m0 is a thread root whose reply was sent just after it: /relations and /threads follow m0.
  const rel = await get(`${V1}/rooms/${enc(roomId)}/relations/${enc(msgs.m0!)}/m.thread`);
  const threads = await ok(get(`${V1}/rooms/${enc(roomId)}/threads`));
  out.relations = rel.status === 200 ? (rel.body.chunk as Ev[]).length : rel.status;
  out.threads = (threads.chunk as Ev[]).some((e) => e.event_id === msgs.m0);
  // /timestamp_to_event from the beginning of time: the first event the user may see.
  const ts = await get(`${V1}/rooms/${enc(roomId)}/timestamp_to_event?ts=0&dir=f`);
  const first = ts.status === 200 ? (ts.body.event_id as string) : "";
  out.timestampFirst = LABELS.find((l) => msgs[l] === first) ?? "other";
  // Sync: initial (large timeline), and incremental from before the join (the room arrives joined).
  const filter = enc(JSON.stringify({ room: { timeline: { limit: 100 } } }));
  const syncRoom = async (q: string) => {
    const body = await ok(get(`${V3}/sync?timeout=0&filter=${filter}${q}`));
    const joinedRoom = ((body.rooms as { join?: Record<string, { timeline: { events: Ev[] }; state: { events: Ev[] } }> })?.join ?? {})[roomId];
    assert.ok(joinedRoom, "room in sync");
    // The state block carries state only: never a message of the hidden history.
    assert.deepEqual(labelsOf(room, joinedRoom.state.events), [], "sync state");
    return labelsOf(room, joinedRoom.timeline.events);
  };
  // Notifications (push actions exist only for members when the event was sent): never a hidden one.
  const notifs = await ok(get(`${V3}/notifications?limit=100`));
  out.notificationsHidden = labelsOf(room, (notifs.notifications as Array<{ room_id: string; event: Ev }>).filter((n) => n.room_id === roomId).map((n) => n.event)).filter((l) => !event.includes(l));
  out.syncInitial = await syncRoom("");
  out.syncIncremental = await syncRoom(`&since=${enc(since ?? room.bobSince)}`);
  return out;
}

/** What every path shows when `visible` are the visible labels. */
function expectAll(visible: string[]) {
  return {
    messagesBack: visible,
    messagesForward: visible,
    event: visible,
    context: visible,
    contextNeighbours: visible.length > 1 ? visible : [],
    search: visible,
    relations: visible.includes("m0") ? 1 : 404,
    threads: visible.includes("m0"),
    // The room's first event (its creation) while nothing is hidden; else the first visible
    // message, or for since_join the newcomer's own join (neither case a hidden message).
    timestampFirst: visible.includes("m0") || visible.length === 1 ? "other" : visible[0],
    notificationsHidden: [],
    syncInitial: visible,
    syncIncremental: visible,
  };
}

test("since_join (server default): a newcomer sees nothing before their join on any path; early members and private rooms are unaffected", async () => {
  const s = await server({ public_rooms: { newcomer_history: "since_join" } });
  const [alice, bob, dave] = [await s.user("alice"), await s.user("bob"), await s.user("dave")];
  const room = await scenario(s, alice, bob, "sj", { early: dave });
  assert.deepEqual(await whatEachPathShows(s, bob, room), expectAll(["m4"]));
  // Dave joined before the messages: he keeps everything.
  const daveMsgs = await ok(call(s.url, "GET", `${V3}/rooms/${enc(room.roomId)}/messages?dir=b&limit=100`, { token: dave.accessToken }));
  assert.deepEqual(labelsOf(room, daveMsgs.chunk as Ev[]), LABELS);

  // A private (invite) room on the same server: the bound does not apply (shared visibility rules).
  const carol = await s.user("carol");
  const priv = await scenario(s, alice, carol, "sjpriv", { preset: "private_chat" });
  assert.deepEqual(await whatEachPathShows(s, carol, priv), expectAll(LABELS));
});

test("{ events: 3 } (server default): the 3 events before the join stay visible, older ones are hidden everywhere", async () => {
  const s = await server({ public_rooms: { newcomer_history: { events: 3 } } });
  const [alice, bob] = [await s.user("alice"), await s.user("bob")];
  const room = await scenario(s, alice, bob, "ev");
  // Before Bob's join: m0, reply, m1, m2, m3; the 3 before the join are m1, m2, m3.
  assert.deepEqual(await whatEachPathShows(s, bob, room), expectAll(["m1", "m2", "m3", "m4"]));
});

test("{ days: 1 } (server default): events of the day before the join stay visible, older ones are hidden everywhere", async () => {
  let clock = Date.now();
  const s = await server({ public_rooms: { newcomer_history: { days: 1 } }, now: () => clock });
  const [alice, bob] = [await s.user("alice"), await s.user("bob")];
  const start = clock;
  // m0 (and its reply) and m1 ten days before the join, m2 and m3 an hour before it.
  const when: Record<string, number> = { m0: start, m1: start + 60_000, m2: start + 10 * DAY - 3_600_000, m3: start + 10 * DAY - 3_500_000, join: start + 10 * DAY, m4: start + 10 * DAY + 60_000 };
  const room = await scenario(s, alice, bob, "days", { tick: (l) => (clock = when[l]!) });
  assert.deepEqual(await whatEachPathShows(s, bob, room), expectAll(["m2", "m3", "m4"]));
  // Time passing does not shrink what Bob saw: the window is anchored at his join.
  clock += 30 * DAY;
  const later = await ok(call(s.url, "GET", `${V3}/rooms/${enc(room.roomId)}/messages?dir=b&limit=100`, { token: bob.accessToken }));
  assert.deepEqual(labelsOf(room, later.chunk as Ev[]), ["m2", "m3", "m4"]);
});

test("all (the default): today's behaviour, a newcomer sees the whole shared history", async () => {
  const s = await server({});
  const [alice, bob] = [await s.user("alice"), await s.user("bob")];
  const room = await scenario(s, alice, bob, "all");
  assert.deepEqual(await whatEachPathShows(s, bob, room), expectAll(LABELS));
});

test("per-room override: set by a room admin, refused for a non-admin, early members keep their history", async () => {
  const s = await server({});
  const [alice, bob, carol, dave] = [await s.user("alice"), await s.user("bob"), await s.user("carol"), await s.user("dave")];
  const room = await scenario(s, alice, bob, "ovr", { override: { history: "since_join" }, early: dave });
  assert.deepEqual(await whatEachPathShows(s, bob, room), expectAll(["m4"]));
  const daveMsgs = await ok(call(s.url, "GET", `${V3}/rooms/${enc(room.roomId)}/messages?dir=b&limit=100`, { token: dave.accessToken }));
  assert.deepEqual(labelsOf(room, daveMsgs.chunk as Ev[]), LABELS);

  // A plain member (power 0 < state_default 50) may not change it (spec "m.room.power_levels").
  await ok(call(s.url, "POST", `${V3}/join/${enc(room.roomId)}`, { token: carol.accessToken, body: {} }));
  const refused = await call(s.url, "PUT", `${V3}/rooms/${enc(room.roomId)}/state/fr.rempart.newcomer_history`, { token: carol.accessToken, body: { history: "all" } });
  assert.deepEqual([refused.status, refused.body.errcode], [403, "M_FORBIDDEN"]);
  const unauth = await call(s.url, "PUT", `${V3}/rooms/${enc(room.roomId)}/state/fr.rempart.newcomer_history`, { body: { history: "all" } });
  assert.equal(unauth.status, 401);
  // Carol joined under since_join: she sees from her join on (m4 was before it).
  const carolMsgs = await ok(call(s.url, "GET", `${V3}/rooms/${enc(room.roomId)}/messages?dir=b&limit=100`, { token: carol.accessToken }));
  assert.deepEqual(labelsOf(room, carolMsgs.chunk as Ev[]), []);

  // An unknown room: 404 whatever the content.
  const unknown = await call(s.url, "PUT", `${V3}/rooms/${enc("!nope:rempart.test")}/state/fr.rempart.newcomer_history`, { token: alice.accessToken, body: { history: "all" } });
  assert.deepEqual([unknown.status, unknown.body.errcode], [404, "M_NOT_FOUND"]);

  // An { events: 2 } override: the two events before the join (m2, m3).
  const erin = await s.user("erin");
  const room2 = await scenario(s, alice, erin, "ovr2", { override: { events: 2 } });
  assert.deepEqual(await whatEachPathShows(s, erin, room2), expectAll(["m2", "m3", "m4"]));

  // Malformed overrides are refused (400 M_BAD_JSON), even from an admin; `{}` resets to the default.
  const put = (key: string, body: unknown) => call(s.url, "PUT", `${V3}/rooms/${enc(room.roomId)}/state/fr.rempart.newcomer_history/${enc(key)}`, { token: alice.accessToken, body });
  for (const [key, body] of [["", { history: "sometimes" }], ["", { days: 0 }], ["", { events: -3 }], ["", { days: "7" }], ["x", { history: "all" }]] as const) {
    const r = await put(key, body);
    assert.deepEqual([r.status, r.body.errcode], [400, "M_BAD_JSON"], JSON.stringify([key, body]));
  }
  const frank = await s.user("frank");
  const room3 = await scenario(s, alice, frank, "ovr3", { override: {} });
  assert.deepEqual(await whatEachPathShows(s, frank, room3), expectAll(LABELS));
});
