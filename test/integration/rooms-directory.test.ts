// The published room directory and room summaries through matrix-js-sdk and raw HTTP: publishing,
// listing, searching, room types, pagination, who may publish, and what a summary tells whom.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { client, sdk, expectError } from "../helpers/sdk.js";
import { call } from "../helpers/http.js";

let s: TestServer;
let alice: TestUser, bob: TestUser, carol: TestUser;
let A: sdk.MatrixClient, B: sdk.MatrixClient, C: sdk.MatrixClient;
const V3 = "/_matrix/client/v3";

before(async () => {
  s = await startTestServer();
  [alice, bob, carol] = [await s.user("alice"), await s.user("bob"), await s.user("carol")];
  A = client(s.url, { accessToken: alice.accessToken, userId: alice.userId, deviceId: alice.deviceId });
  B = client(s.url, { accessToken: bob.accessToken, userId: bob.userId, deviceId: bob.deviceId });
  C = client(s.url, { accessToken: carol.accessToken, userId: carol.userId, deviceId: carol.deviceId });
});
after(async () => {
  await s.close();
});

type Chunk = { room_id: string; name?: string; topic?: string; canonical_alias?: string; num_joined_members: number; join_rule: string; room_type?: string; world_readable: boolean };

test("publish a room, list it with its description, search it, unpublish it", async () => {
  const { room_id } = await A.createRoom({ preset: sdk.Preset.PublicChat, name: "Forum Alpha", topic: "Budget talk", room_alias_name: "forum-alpha" });
  assert.equal((await A.getRoomDirectoryVisibility(room_id)).visibility, "private");
  await B.joinRoom(room_id);
  await A.setRoomDirectoryVisibility(room_id, sdk.Visibility.Public);
  assert.equal((await C.getRoomDirectoryVisibility(room_id)).visibility, "public");

  const list = await C.publicRooms({});
  const entry = list.chunk.find((r) => r.room_id === room_id) as unknown as Chunk;
  assert.ok(entry, "the published room is listed");
  assert.equal(entry.name, "Forum Alpha");
  assert.equal(entry.topic, "Budget talk");
  assert.equal(entry.canonical_alias, "#forum-alpha:rempart.test");
  assert.equal(entry.num_joined_members, 2);
  assert.equal(entry.join_rule, "public");
  assert.equal(entry.world_readable, false);
  assert.ok((list.total_room_count_estimate ?? 0) >= 1);

  // POST with a search term: name, topic and alias match, case-insensitively; others do not.
  for (const term of ["alpha", "BUDGET", "forum-alpha"]) {
    const found = await C.publicRooms({ filter: { generic_search_term: term } });
    assert.deepEqual(found.chunk.map((r) => r.room_id), [room_id], term);
  }
  assert.equal((await C.publicRooms({ filter: { generic_search_term: "nothing like it" } })).chunk.length, 0);

  await A.setRoomDirectoryVisibility(room_id, sdk.Visibility.Private);
  assert.ok(!(await C.publicRooms({})).chunk.some((r) => r.room_id === room_id));
});

test("createRoom with visibility public lists the room; room_types filters spaces and rooms", async () => {
  const { room_id: space } = await A.createRoom({ visibility: sdk.Visibility.Public, name: "Typed Space", creation_content: { type: "m.space" } });
  const { room_id: plain } = await A.createRoom({ visibility: sdk.Visibility.Public, name: "Typed Plain" });
  const term = { generic_search_term: "Typed" };
  const all = await C.publicRooms({ filter: term });
  assert.deepEqual(new Set(all.chunk.map((r) => r.room_id)), new Set([space, plain]));
  const spaces = await C.publicRooms({ filter: { ...term, room_types: [sdk.RoomType.Space] } });
  assert.deepEqual(spaces.chunk.map((r) => r.room_id), [space]);
  assert.equal((spaces.chunk[0] as unknown as Chunk).room_type, "m.space");
  const rooms = await C.publicRooms({ filter: { ...term, room_types: [null] } });
  assert.deepEqual(rooms.chunk.map((r) => r.room_id), [plain]);
});

test("pagination: every room once, next_batch forward and prev_batch back", async () => {
  const ids = new Set<string>();
  for (let i = 0; i < 7; i++) ids.add((await A.createRoom({ visibility: sdk.Visibility.Public, name: `Paged ${i}` })).room_id);
  const filter = { generic_search_term: "Paged" };
  const pages: string[][] = [];
  let since: string | undefined;
  for (;;) {
    const res = await C.publicRooms({ filter, limit: 3, since });
    pages.push(res.chunk.map((r) => r.room_id));
    assert.equal(res.total_room_count_estimate, 7);
    if (!res.next_batch) break;
    since = res.next_batch;
  }
  assert.deepEqual(pages.map((p) => p.length), [3, 3, 1]);
  const seen = pages.flat();
  assert.equal(new Set(seen).size, 7);
  assert.deepEqual(new Set(seen), ids);
  // Back from the second page gives the first again; the first page has no prev_batch.
  const first = await C.publicRooms({ filter, limit: 3 });
  assert.equal(first.prev_batch, undefined);
  const second = await C.publicRooms({ filter, limit: 3, since: first.next_batch });
  assert.ok(second.prev_batch);
  const back = await C.publicRooms({ filter, limit: 3, since: second.prev_batch });
  assert.deepEqual(back.chunk.map((r) => r.room_id), first.chunk.map((r) => r.room_id));
  // GET pagination works the same way.
  const g1 = await call(s.url, "GET", `${V3}/publicRooms?limit=5`, { token: carol.accessToken });
  assert.equal(g1.status, 200);
  assert.equal((g1.body.chunk as unknown[]).length, 5);
  assert.equal(typeof g1.body.next_batch, "string");
  const g2 = await call(s.url, "GET", `${V3}/publicRooms?limit=5&since=${encodeURIComponent(g1.body.next_batch as string)}`, { token: carol.accessToken });
  const ids1 = (g1.body.chunk as Chunk[]).map((r) => r.room_id);
  assert.ok((g2.body.chunk as Chunk[]).every((r) => !ids1.includes(r.room_id)));
});

test("the server parameter: our own name lists our rooms, another server is 404, garbage is 400", async () => {
  const own = await call(s.url, "GET", `${V3}/publicRooms?server=rempart.test&limit=1`, { token: carol.accessToken });
  assert.equal(own.status, 200);
  assert.equal((own.body.chunk as unknown[]).length, 1);
  const post = await call(s.url, "POST", `${V3}/publicRooms?server=rempart.test`, { token: carol.accessToken, body: { limit: 1 } });
  assert.equal(post.status, 200);
  const elsewhere = await call(s.url, "GET", `${V3}/publicRooms?server=matrix.org`, { token: carol.accessToken });
  assert.equal(elsewhere.status, 404);
  assert.equal(elsewhere.body.errcode, "M_NOT_FOUND");
  const bad = await call(s.url, "GET", `${V3}/publicRooms?server=${encodeURIComponent("not a server!")}`, { token: carol.accessToken });
  assert.equal(bad.status, 400);
  const badToken = await call(s.url, "GET", `${V3}/publicRooms?since=zzz`, { token: carol.accessToken });
  assert.equal(badToken.status, 400);
  assert.equal(badToken.body.errcode, "M_INVALID_PARAM");
  const badLimit = await call(s.url, "GET", `${V3}/publicRooms?limit=-3`, { token: carol.accessToken });
  assert.equal(badLimit.status, 400);
  const anonymous = await call(s.url, "GET", `${V3}/publicRooms`);
  assert.equal(anonymous.status, 401);
});

test("who may publish: not a stranger, not a member without power; invite-only rooms are never listed", async () => {
  const { room_id } = await A.createRoom({ preset: sdk.Preset.PublicChat, name: "Guarded" });
  await B.joinRoom(room_id);
  await expectError(C.setRoomDirectoryVisibility(room_id, sdk.Visibility.Public), "M_FORBIDDEN", 403);
  await expectError(B.setRoomDirectoryVisibility(room_id, sdk.Visibility.Public), "M_FORBIDDEN", 403);
  assert.equal((await A.getRoomDirectoryVisibility(room_id)).visibility, "private");
  // Unknown rooms: 404 for reading and writing.
  const unknown = "!nowhere:rempart.test";
  await expectError(A.getRoomDirectoryVisibility(unknown), "M_NOT_FOUND", 404);
  await expectError(A.setRoomDirectoryVisibility(unknown, sdk.Visibility.Public), "M_NOT_FOUND", 404);
  const badBody = await call(s.url, "PUT", `${V3}/directory/list/room/${encodeURIComponent(room_id)}`, { token: alice.accessToken, body: { visibility: "everyone" } });
  assert.equal(badBody.status, 400);
  // An invite-only room can be flagged public but is left out of the listing (nobody could join).
  const { room_id: closed } = await A.createRoom({ preset: sdk.Preset.PrivateChat, name: "Closed Club" });
  await A.setRoomDirectoryVisibility(closed, sdk.Visibility.Public);
  assert.equal((await C.publicRooms({ filter: { generic_search_term: "Closed Club" } })).chunk.length, 0);
});

test("room summary: public rooms for anyone (by id or alias), private rooms only for their members and invitees", async () => {
  const { room_id } = await A.createRoom({ preset: sdk.Preset.PublicChat, name: "Summed", topic: "A topic", room_alias_name: "summed" });
  // The SDK's own call (MSC3266 unstable path), by alias, from a non-member.
  const viaSdk = (await C.getRoomSummary("#summed:rempart.test")) as unknown as Record<string, unknown>;
  assert.equal(viaSdk.room_id, room_id);
  assert.equal(viaSdk.name, "Summed");
  assert.equal(viaSdk.topic, "A topic");
  assert.equal(viaSdk.num_joined_members, 1);
  assert.equal(viaSdk.join_rule, "public");
  assert.equal(viaSdk.membership, "leave");
  assert.equal(viaSdk.room_version, "10");
  // The v1.15 path gives the same, with the caller's membership.
  const v1 = await call(s.url, "GET", `/_matrix/client/v1/room_summary/${encodeURIComponent(room_id)}`, { token: alice.accessToken });
  assert.equal(v1.status, 200);
  assert.equal(v1.body.membership, "join");
  assert.equal(v1.body.name, "Summed");

  const { room_id: secret } = await A.createRoom({ preset: sdk.Preset.PrivateChat, name: "Secret plans" });
  const path = `/_matrix/client/v1/room_summary/${encodeURIComponent(secret)}`;
  const stranger = await call(s.url, "GET", path, { token: carol.accessToken });
  assert.equal(stranger.status, 404);
  assert.equal(stranger.body.errcode, "M_NOT_FOUND");
  assert.ok(!JSON.stringify(stranger.body).includes("Secret"));
  // Exactly the answer for a room that does not exist.
  const none = await call(s.url, "GET", `/_matrix/client/v1/room_summary/${encodeURIComponent("!nothing:rempart.test")}`, { token: carol.accessToken });
  assert.deepEqual([none.status, none.body.errcode], [404, "M_NOT_FOUND"]);
  await A.invite(secret, bob.userId);
  const invited = await call(s.url, "GET", path, { token: bob.accessToken });
  assert.equal(invited.status, 200);
  assert.equal(invited.body.membership, "invite");
  assert.equal(invited.body.name, "Secret plans");
  const badAlias = await call(s.url, "GET", `/_matrix/client/v1/room_summary/${encodeURIComponent("#no-such:rempart.test")}`, { token: carol.accessToken });
  assert.equal(badAlias.status, 404);
  const garbage = await call(s.url, "GET", `/_matrix/client/v1/room_summary/garbage`, { token: carol.accessToken });
  assert.equal(garbage.status, 400);
});
