// History visibility (client-server API "Room History Visibility") applied identically on every
// read path: /messages, /context, /event, /relations, /threads, /search, /state, /members. For each
// setting, Bob is invited after m0, joins after m1, leaves after m2; m3 comes after his leave. What
// each path shows him must agree, while he is joined and after he left (up to his leave).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";

let s: TestServer;
let alice: TestUser, bob: TestUser, dave: TestUser;
const V3 = "/_matrix/client/v3";
const V1 = "/_matrix/client/v1";
const enc = encodeURIComponent;

before(async () => {
  s = await startTestServer();
  [alice, bob, dave] = [await s.user("alice"), await s.user("bob"), await s.user("dave")];
});
after(async () => {
  await s.close();
});

type Ev = { event_id: string; type: string; content: Record<string, unknown> };
const ok = async (p: Promise<{ status: number; body: Record<string, unknown> }>) => {
  const r = await p;
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body;
};
const sendMsg = async (roomId: string, body: string, extra: Record<string, unknown> = {}) =>
  (await ok(call(s.url, "PUT", `${V3}/rooms/${enc(roomId)}/send/m.room.message/${Math.random()}`, { token: alice.accessToken, body: { msgtype: "m.text", body, ...extra } }))).event_id as string;

/** Which of the labelled messages each read path shows `who`. */
async function whatEachPathShows(who: TestUser, roomId: string, msgs: Record<string, string>, root: string, prefix: string) {
  const labels = Object.keys(msgs);
  const out: Record<string, string[]> = {};
  const messages = await call(s.url, "GET", `${V3}/rooms/${enc(roomId)}/messages?dir=b&limit=100`, { token: who.accessToken });
  const bodies = messages.status === 200 ? (messages.body.chunk as Ev[]).map((e) => e.content.body) : [];
  out.messages = labels.filter((l) => bodies.includes(`${prefix}-${l}`));
  out.event = [];
  out.context = [];
  for (const l of labels) {
    if ((await call(s.url, "GET", `${V3}/rooms/${enc(roomId)}/event/${enc(msgs[l]!)}`, { token: who.accessToken })).status === 200) out.event.push(l);
    if ((await call(s.url, "GET", `${V3}/rooms/${enc(roomId)}/context/${enc(msgs[l]!)}?limit=0`, { token: who.accessToken })).status === 200) out.context.push(l);
  }
  const search = await ok(call(s.url, "POST", `${V3}/search`, { token: who.accessToken, body: { search_categories: { room_events: { search_term: prefix } } } }));
  const hits = ((search.search_categories as { room_events: { results: Array<{ result: Ev }> } }).room_events.results ?? []).map((r) => r.result.content.body);
  out.search = labels.filter((l) => hits.includes(`${prefix}-${l}`));
  // m0 is a thread root with a reply sent just after it: /relations and /threads follow m0.
  const rel = await call(s.url, "GET", `${V1}/rooms/${enc(roomId)}/relations/${enc(root)}/m.thread`, { token: who.accessToken });
  const threads = await call(s.url, "GET", `${V1}/rooms/${enc(roomId)}/threads`, { token: who.accessToken });
  out.threadRoot = [rel.status === 200 && (rel.body.chunk as Ev[]).length === 1 ? "m0" : "", threads.status === 200 && (threads.body.chunk as Ev[]).some((e) => e.event_id === root) ? "m0" : ""];
  return out;
}

for (const visibility of ["world_readable", "shared", "invited", "joined"] as const) {
  test(`history_visibility ${visibility}: every read path agrees, joined and after leaving`, async () => {
    const prefix = `vis${visibility.replace("_", "")}`;
    const created = await ok(call(s.url, "POST", `${V3}/createRoom`, {
      token: alice.accessToken,
      body: { preset: "private_chat", topic: "before", initial_state: [{ type: "m.room.history_visibility", content: { history_visibility: visibility } }] },
    }));
    const roomId = created.room_id as string;
    const msgs: Record<string, string> = {};
    msgs.m0 = await sendMsg(roomId, `${prefix}-m0`);
    await sendMsg(roomId, `${prefix}-reply`, { "m.relates_to": { rel_type: "m.thread", event_id: msgs.m0 } });
    await ok(call(s.url, "POST", `${V3}/rooms/${enc(roomId)}/invite`, { token: alice.accessToken, body: { user_id: bob.userId } }));
    msgs.m1 = await sendMsg(roomId, `${prefix}-m1`);
    await ok(call(s.url, "POST", `${V3}/join/${enc(roomId)}`, { token: bob.accessToken, body: {} }));
    msgs.m2 = await sendMsg(roomId, `${prefix}-m2`);

    // While joined. (Expected per the spec's rules; the point is that all paths say the same.)
    const joinedExpect = { world_readable: ["m0", "m1", "m2"], shared: ["m0", "m1", "m2"], invited: ["m1", "m2"], joined: ["m2"] }[visibility];
    const rootSeen = joinedExpect.includes("m0") ? ["m0", "m0"] : ["", ""];
    const whileJoined = await whatEachPathShows(bob, roomId, msgs, msgs.m0, prefix);
    assert.deepEqual(whileJoined, { messages: joinedExpect, event: joinedExpect, context: joinedExpect, search: joinedExpect, threadRoot: rootSeen }, "while joined");

    await ok(call(s.url, "POST", `${V3}/rooms/${enc(roomId)}/leave`, { token: bob.accessToken, body: {} }));
    msgs.m3 = await sendMsg(roomId, `${prefix}-m3`);
    await ok(call(s.url, "PUT", `${V3}/rooms/${enc(roomId)}/state/m.room.topic`, { token: alice.accessToken, body: { topic: "after" } }));
    await ok(call(s.url, "POST", `${V3}/rooms/${enc(roomId)}/invite`, { token: alice.accessToken, body: { user_id: dave.userId } }));

    // After leaving: up to the leave (shared no longer applies to a former member), except world_readable.
    const leftExpect = { world_readable: ["m0", "m1", "m2", "m3"], shared: ["m2"], invited: ["m1", "m2"], joined: ["m2"] }[visibility];
    const afterLeave = await whatEachPathShows(bob, roomId, msgs, msgs.m0, prefix);
    const leftRoot = leftExpect.includes("m0") ? ["m0", "m0"] : ["", ""];
    // /search has a narrower scope than visibility: the user's own rooms, and in rooms they left
    // "it won't include events ... that happened after you left" (spec "Server Side Search").
    const searchable = leftExpect.filter((l) => l !== "m3");
    assert.deepEqual(afterLeave, { messages: leftExpect, event: leftExpect, context: leftExpect, search: searchable, threadRoot: leftRoot }, "after leaving");
    // /state and /members: as at his leave (topic "before", no Dave), unless the room is world-readable.
    const state = await ok(call(s.url, "GET", `${V3}/rooms/${enc(roomId)}/state`, { token: bob.accessToken }));
    const topic = (state as unknown as Ev[]).find((e) => e.type === "m.room.topic")?.content.topic;
    const members = (await ok(call(s.url, "GET", `${V3}/rooms/${enc(roomId)}/members`, { token: bob.accessToken }))).chunk as Array<{ state_key: string }>;
    const daveListed = members.some((m) => m.state_key === dave.userId);
    const topicEvent = await call(s.url, "GET", `${V3}/rooms/${enc(roomId)}/state/m.room.topic`, { token: bob.accessToken });
    if (visibility === "world_readable") {
      assert.deepEqual([topic, daveListed, topicEvent.body.topic], ["after", true, "after"]);
    } else {
      assert.deepEqual([topic, daveListed, topicEvent.body.topic], ["before", false, "before"]);
    }

    // A stranger reads nothing unless world_readable (and never searches a room they were never in).
    const carolish = await s.user();
    const stranger = await whatEachPathShows(carolish, roomId, msgs, msgs.m0, prefix);
    const all = ["m0", "m1", "m2", "m3"];
    if (visibility === "world_readable") assert.deepEqual(stranger, { messages: all, event: all, context: all, search: [], threadRoot: ["m0", "m0"] });
    else {
      assert.deepEqual(stranger, { messages: [], event: [], context: [], search: [], threadRoot: ["", ""] });
      for (const path of ["messages", "state", "members"]) {
        const r = await call(s.url, "GET", `${V3}/rooms/${enc(roomId)}/${path}`, { token: carolish.accessToken });
        assert.deepEqual([r.status, r.body.errcode], [403, "M_FORBIDDEN"], path);
      }
    }
  });
}
