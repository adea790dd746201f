// The bulk history importer (src/rooms/importer.ts, docs/rooms.md "Importing history"): imported
// events are real room events, read back over the client API by matrix-js-sdk in order; the room
// version's authorization rules apply (a sender who is not joined is refused and nothing of that
// import is stored); joins imported in bulk make members (state, /members, device lists); search
// finds imported text; nothing imported produces a notification.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { client, expectError, sdk } from "../helpers/sdk.js";
import { call } from "../helpers/http.js";
import type { ImportDraft } from "../../src/rooms/importer.js";
import { MatrixError } from "../../src/http/errors.js";

const V3 = "/_matrix/client/v3";
const enc = encodeURIComponent;
const DAY = 86_400_000;

let s: TestServer;
let alice: TestUser;
let bob: TestUser;
let A: sdk.MatrixClient;
let B: sdk.MatrixClient;
let roomId: string;
const crowd: string[] = [];

before(async () => {
  s = await startTestServer();
  alice = await s.user("alice");
  bob = await s.user("bob");
  A = client(s.url, { accessToken: alice.accessToken, userId: alice.userId, deviceId: alice.deviceId });
  B = client(s.url, { accessToken: bob.accessToken, userId: bob.userId, deviceId: bob.deviceId });
  roomId = (await A.createRoom({ preset: sdk.Preset.PublicChat, name: "Forum" })).room_id;
  await s.app.accounts.createUsers(Array.from({ length: 300 }, (_, i) => ({ localpart: `m${i}`, password: null })));
  for (let i = 0; i < 300; i++) crowd.push(`@m${i}:${s.config.server_name}`);
});
after(async () => {
  A?.stopClient();
  B?.stopClient();
  await s?.close();
});

const joinDraft = (userId: string, ts: number): ImportDraft => ({ type: "m.room.member", state_key: userId, sender: userId, content: { membership: "join" }, ts });

test("bulk joins: members, state and device lists, in batches", async () => {
  const since = (await call(s.url, "GET", `${V3}/sync?timeout=0`, { token: alice.accessToken })).body.next_batch as string;
  const ts = Date.now() - 30 * DAY;
  const res = await s.app.roomImporter.importEvents(roomId, [bob.userId, ...crowd].map((u) => joinDraft(u, ts)), { batchSize: 100 });
  assert.equal(res.eventIds.length, 301);
  assert.equal(res.lastPosition - res.firstPosition, 300);
  const members = await A.getJoinedRoomMembers(roomId);
  assert.equal(Object.keys(members.joined).length, 302);
  const state = await B.roomState(roomId);
  assert.equal(state.filter((e) => e.type === "m.room.member" && e.content.membership === "join").length, 302);
  await s.app.e2ee.deviceLists.settled();
  // Alice sees the newcomers as changed; Bob (a newcomer) sees Alice, whatever the room's size.
  const a = await call(s.url, "GET", `${V3}/keys/changes?from=${enc(since)}&to=${enc(since)}`, { token: alice.accessToken });
  assert.equal(a.status, 200);
  const sync = await call(s.url, "GET", `${V3}/sync?timeout=0&since=${enc(since)}`, { token: alice.accessToken });
  const changed = ((sync.body.device_lists as { changed?: string[] } | undefined)?.changed ?? []) as string[];
  assert.ok(changed.includes(bob.userId) && changed.includes(crowd[299]!), "alice sees the joiners");
  const bobSync = await call(s.url, "GET", `${V3}/sync?timeout=0&since=${enc(since)}`, { token: bob.accessToken });
  const bobChanged = ((bobSync.body.device_lists as { changed?: string[] } | undefined)?.changed ?? []) as string[];
  assert.ok(bobChanged.includes(alice.userId) && bobChanged.includes(crowd[0]!), "bob sees the room's members");
  assert.ok(!bobChanged.includes(bob.userId), "a join is no change of the joiner for the joiner");
});

test("imported history reads back in order through /messages, with its own timestamps and relations", async () => {
  const t0 = Date.now() - 20 * DAY;
  const ids: string[] = [];
  function* drafts(): Generator<ImportDraft> {
    for (let i = 0; i < 1200; i++) {
      const sender = i % 2 ? bob.userId : crowd[i % 300]!;
      // Every tenth event replies in a thread to the one before (built in the same import).
      const content: Record<string, unknown> =
        i % 10 === 9 ? { msgtype: "m.text", body: `reply ${i}`, "m.relates_to": { rel_type: "m.thread", event_id: ids[i - 1] } } : { msgtype: "m.text", body: `history ${i} ${i === 600 ? "zygomorphe" : ""}` };
      yield { type: "m.room.message", sender, content, ts: t0 + i * 1000 };
    }
  }
  const res = await s.app.roomImporter.importEvents(roomId, drafts(), { onBuilt: (id) => ids.push(id) });
  assert.deepEqual(res.eventIds, ids);

  const seen: sdk.IRoomEvent[] = [];
  let from: string | null = null;
  for (;;) {
    const page: Awaited<ReturnType<sdk.MatrixClient["createMessagesRequest"]>> = await B.createMessagesRequest(roomId, from, 500, sdk.Direction.Backward);
    seen.push(...page.chunk);
    if (!page.end || page.chunk.length === 0) break;
    from = page.end;
  }
  const msgs = seen.filter((e) => e.type === "m.room.message").reverse();
  assert.equal(msgs.length, 1200);
  assert.deepEqual(
    msgs.map((e) => e.event_id),
    ids,
  );
  assert.equal(msgs[0]!.origin_server_ts, t0);
  assert.equal(msgs[1199]!.origin_server_ts, t0 + 1199 * 1000);
  const event = await B.fetchRoomEvent(roomId, ids[9]!);
  assert.equal((event.content!["m.relates_to"] as { event_id: string }).event_id, ids[8]);
  const threads = await call(s.url, "GET", `/_matrix/client/v1/rooms/${enc(roomId)}/threads?limit=200`, { token: bob.accessToken });
  assert.equal(threads.status, 200);
  assert.ok((threads.body.chunk as Array<{ event_id: string }>).some((e) => e.event_id === ids[1198]), "thread roots are indexed");

  // Search finds imported text.
  const found = await B.search({ body: { search_categories: { room_events: { search_term: "zygomorphe" } } } });
  const hits = found.search_categories.room_events.results ?? [];
  assert.equal(hits.length, 1);
  assert.equal(hits[0]!.result.event_id, ids[600]);

  // A live send afterwards follows the imported history (the writer saw the import).
  const live = await A.sendTextMessage(roomId, "after the import");
  const newest = await B.createMessagesRequest(roomId, null, 2, sdk.Direction.Backward);
  assert.deepEqual(
    newest.chunk.map((e) => e.event_id),
    [live.event_id, ids[1199]],
  );
});

test("imported state changes: the last one of an import is current, with prev_content", async () => {
  const ts = Date.now() - 2 * DAY;
  const names = ["Forum 1", "Forum 2", "Forum 3"].map((name, i): ImportDraft => ({ type: "m.room.name", state_key: "", sender: alice.userId, content: { name }, ts: ts + i }));
  const res = await s.app.roomImporter.importEvents(roomId, names, { batchSize: 2 });
  assert.equal((await B.getStateEvent(roomId, "m.room.name", "")).name, "Forum 3");
  const last = await B.fetchRoomEvent(roomId, res.eventIds[2]!);
  assert.equal((last.unsigned?.prev_content as { name?: string } | undefined)?.name, "Forum 2");
  // Back to the name the other tests expect, through the normal writer.
  await A.setRoomName(roomId, "Forum");
});

test("imported history notifies nobody", async () => {
  const before = await call(s.url, "GET", `${V3}/notifications`, { token: alice.accessToken });
  await s.app.roomImporter.importEvents(roomId, [{ type: "m.room.message", sender: bob.userId, content: { msgtype: "m.text", body: `alice: ${alice.userId} Alice` }, ts: Date.now() - DAY }]);
  const after = await call(s.url, "GET", `${V3}/notifications`, { token: alice.accessToken });
  assert.equal((after.body.notifications as unknown[]).length, (before.body.notifications as unknown[]).length);
});

test("authorization rules: a sender who is not joined is refused, and nothing of the import is stored", async () => {
  const stranger = await s.user("stranger");
  const head = await B.createMessagesRequest(roomId, null, 1, sdk.Direction.Backward);
  const drafts: ImportDraft[] = [
    { type: "m.room.message", sender: bob.userId, content: { msgtype: "m.text", body: "fine" }, ts: Date.now() },
    { type: "m.room.message", sender: stranger.userId, content: { msgtype: "m.text", body: "not a member" }, ts: Date.now() },
  ];
  await assert.rejects(s.app.roomImporter.importEvents(roomId, drafts), (e: unknown) => e instanceof MatrixError && e.status === 403 && e.errcode === "M_FORBIDDEN");
  // A member without the power to change state is refused too.
  await assert.rejects(
    s.app.roomImporter.importEvents(roomId, [{ type: "m.room.name", state_key: "", sender: bob.userId, content: { name: "hijacked" }, ts: Date.now() }]),
    (e: unknown) => e instanceof MatrixError && e.status === 403,
  );
  const after = await B.createMessagesRequest(roomId, null, 1, sdk.Direction.Backward);
  assert.equal(after.chunk[0]!.event_id, head.chunk[0]!.event_id, "nothing was written");
  const name = await B.getStateEvent(roomId, "m.room.name", "");
  assert.equal(name.name, "Forum");
  // Redactions are not an import.
  await assert.rejects(
    s.app.roomImporter.importEvents(roomId, [{ type: "m.room.redaction", sender: alice.userId, content: {}, redacts: head.chunk[0]!.event_id, ts: Date.now() }]),
    (e: unknown) => e instanceof MatrixError && e.status === 400,
  );
  // The room still takes normal sends.
  await B.sendTextMessage(roomId, "still writable");
  await expectError(client(s.url, { accessToken: stranger.accessToken, userId: stranger.userId }).sendTextMessage(roomId, "no"), "M_FORBIDDEN", 403);
});

test("accounts.createUsers is all or nothing", async () => {
  await assert.rejects(s.app.accounts.createUsers([{ localpart: "fresh1", password: null }, { localpart: "alice", password: null }]), (e: unknown) => e instanceof MatrixError && e.errcode === "M_USER_IN_USE");
  assert.equal(await s.app.accounts.isAvailable("fresh1"), true);
  const ids = await s.app.accounts.createUsers([{ localpart: "fresh1", password: null }, { localpart: "fresh2", password: "a-long-password-1" }]);
  assert.deepEqual(ids, [`@fresh1:${s.config.server_name}`, `@fresh2:${s.config.server_name}`]);
  const login = await call(s.url, "POST", `${V3}/login`, { body: { type: "m.login.password", identifier: { type: "m.id.user", user: "fresh2" }, password: "a-long-password-1" } });
  assert.equal(login.status, 200);
});
