// The room admin API (/_synapse/admin/v1|v2/rooms…) over HTTP: list, details, members, state,
// block (blocked rooms cannot be entered), and delete: everyone leaves through the room writer,
// an optional replacement room with a message, aliases moved, history purged from the database.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { assertError, call } from "../helpers/http.js";

const C = "/_matrix/client/v3";
const V1 = "/_synapse/admin/v1";
const V2 = "/_synapse/admin/v2";

let s: TestServer;
let admin: TestUser;

before(async () => {
  s = await startTestServer();
  admin = await s.user("warden", { admin: true });
});
after(async () => {
  await s.close();
});

const as = (method: string, path: string, body?: unknown, token = admin.accessToken) => call(s.url, method, path, { token, body });
const enc = encodeURIComponent;

async function room(owner: TestUser, body: Record<string, unknown>, joiners: TestUser[] = []): Promise<string> {
  const r = await call(s.url, "POST", `${C}/createRoom`, { token: owner.accessToken, body: { preset: "public_chat", ...body } });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const roomId = r.body.room_id as string;
  for (const j of joiners) assert.equal((await call(s.url, "POST", `${C}/join/${enc(roomId)}`, { token: j.accessToken })).status, 200);
  return roomId;
}

const send = (u: TestUser, roomId: string, body: string, txn: string) =>
  call(s.url, "PUT", `${C}/rooms/${enc(roomId)}/send/m.room.message/${txn}`, { token: u.accessToken, body: { msgtype: "m.text", body } });

test("list: Synapse's fields, order_by and dir, search_term, pagination", async () => {
  const [a, b, c] = [await s.user(), await s.user(), await s.user()];
  const tag = `t${Date.now() % 100000}`;
  const big = await room(a, { name: `${tag} Alpha`, room_alias_name: `${tag}-alpha` }, [b, c]);
  const small = await room(a, { name: `${tag} Beta` });
  const mid = await room(a, { name: `${tag} Gamma` }, [b]);

  const list = await as("GET", `${V1}/rooms?search_term=${tag}`);
  assert.equal(list.status, 200);
  assert.equal(list.body.total_rooms, 3);
  assert.equal(list.body.offset, 0);
  const rooms = list.body.rooms as Record<string, unknown>[];
  assert.deepEqual(rooms.map((r) => r.room_id), [big, small, mid], "by name by default");
  const alpha = rooms[0]!;
  assert.equal(alpha.name, `${tag} Alpha`);
  assert.equal(alpha.canonical_alias, `#${tag}-alpha:rempart.test`);
  assert.equal(alpha.joined_members, 3);
  assert.equal(alpha.joined_local_members, 3);
  assert.equal(alpha.creator, a.userId);
  assert.equal(alpha.join_rules, "public");
  assert.equal(alpha.version, s.config.default_room_version);
  assert.equal(typeof alpha.state_events, "number");
  assert.equal(alpha.public, false);

  const bySize = await as("GET", `${V1}/rooms?search_term=${tag}&order_by=joined_members`);
  assert.deepEqual((bySize.body.rooms as { room_id: string }[]).map((r) => r.room_id), [big, mid, small], "largest first");
  const bySizeRev = await as("GET", `${V1}/rooms?search_term=${tag}&order_by=joined_members&dir=b`);
  assert.deepEqual((bySizeRev.body.rooms as { room_id: string }[]).map((r) => r.room_id), [small, mid, big]);

  const p1 = await as("GET", `${V1}/rooms?search_term=${tag}&limit=2`);
  assert.equal((p1.body.rooms as unknown[]).length, 2);
  assert.equal(p1.body.next_batch, 2);
  const p2 = await as("GET", `${V1}/rooms?search_term=${tag}&limit=2&from=2`);
  assert.deepEqual((p2.body.rooms as { room_id: string }[]).map((r) => r.room_id), [mid]);
  assert.equal(p2.body.next_batch, undefined);
  assert.equal(p2.body.prev_batch, 0);

  const byId = await as("GET", `${V1}/rooms?search_term=${enc(small)}`);
  assert.deepEqual((byId.body.rooms as { room_id: string }[]).map((r) => r.room_id), [small]);
  assertError(await as("GET", `${V1}/rooms?order_by=secret`), 400, "M_INVALID_PARAM");
});

test("details, members and state; unknown 404, malformed 400", async () => {
  const [a, b] = [await s.user(), await s.user()];
  const roomId = await room(a, { name: "Détails", topic: "Ordre du jour" }, [b]);
  const d = await as("GET", `${V1}/rooms/${roomId}`);
  assert.equal(d.status, 200);
  assert.equal(d.body.room_id, roomId);
  assert.equal(d.body.name, "Détails");
  assert.equal(d.body.topic, "Ordre du jour");
  assert.equal(d.body.joined_members, 2);
  assert.equal(d.body.joined_local_devices, 2);
  assert.equal(d.body.blocked, false);
  const m = await as("GET", `${V1}/rooms/${roomId}/members`);
  assert.deepEqual(m.body, { members: [a.userId, b.userId].sort(), total: 2 });
  const st = await as("GET", `${V1}/rooms/${roomId}/state`);
  const state = st.body.state as { type: string; state_key: string; content: Record<string, unknown> }[];
  assert.ok(state.some((e) => e.type === "m.room.create"));
  assert.equal(state.find((e) => e.type === "m.room.topic")!.content.topic, "Ordre du jour");
  assertError(await as("GET", `${V1}/rooms/!unknown:rempart.test`), 404, "M_NOT_FOUND");
  assertError(await as("GET", `${V1}/rooms/!unknown:rempart.test/members`), 404, "M_NOT_FOUND");
  assertError(await as("GET", `${V1}/rooms/not-a-room`), 400, "M_INVALID_PARAM");
});

test("block: a blocked room cannot be joined or invited into; members may leave; unblock restores", async () => {
  const [a, b, c] = [await s.user(), await s.user(), await s.user()];
  const roomId = await room(a, {}, [b]);
  assert.deepEqual((await as("GET", `${V1}/rooms/${roomId}/block`)).body, { block: false });
  assert.deepEqual((await as("PUT", `${V1}/rooms/${roomId}/block`, { block: true })).body, { block: true });
  assert.deepEqual((await as("GET", `${V1}/rooms/${roomId}/block`)).body, { block: true, user_id: admin.userId });
  assertError(await call(s.url, "POST", `${C}/join/${enc(roomId)}`, { token: c.accessToken }), 403, "M_FORBIDDEN");
  assertError(await call(s.url, "POST", `${C}/rooms/${enc(roomId)}/invite`, { token: a.accessToken, body: { user_id: c.userId } }), 403, "M_FORBIDDEN");
  assert.equal((await as("GET", `${V1}/rooms/${roomId}/members`)).body.total, 2, "nothing was written");
  assert.equal((await send(a, roomId, "still here", "t1")).status, 200);
  assert.equal((await call(s.url, "POST", `${C}/rooms/${enc(roomId)}/leave`, { token: b.accessToken, body: {} })).status, 200);
  assert.equal((await as("GET", `${V1}/rooms/${roomId}`)).body.blocked, true);

  assert.deepEqual((await as("PUT", `${V1}/rooms/${roomId}/block`, { block: false })).body, { block: false });
  assert.equal((await call(s.url, "POST", `${C}/join/${enc(roomId)}`, { token: c.accessToken })).status, 200);

  // A room this server has never seen can be blocked ahead of time.
  assert.equal((await as("PUT", `${V1}/rooms/!future:rempart.test/block`, { block: true })).status, 200);
  assert.deepEqual((await as("GET", `${V1}/rooms/!future:rempart.test/block`)).body, { block: true, user_id: admin.userId });
  assertError(await as("PUT", `${V1}/rooms/${roomId}/block`, {}), 400, "M_BAD_JSON");
});

test("delete (v1): everyone leaves, a replacement room with a message, aliases move, block, purge", async () => {
  const [a, b, c, notifier] = [await s.user(), await s.user(), await s.user(), await s.user()];
  const roomId = await room(a, { name: "À fermer", room_alias_name: "a-fermer" }, [b, c]);
  assert.equal((await send(b, roomId, "contenu illicite", "x1")).status, 200);
  assert.equal((await call(s.url, "POST", `${C}/rooms/${enc(roomId)}/invite`, { token: a.accessToken, body: { user_id: notifier.userId } })).status, 200);

  const res = await as("DELETE", `${V1}/rooms/${roomId}`, { new_room_user_id: notifier.userId, room_name: "Salon fermé", message: "Ce salon a été fermé.", block: true });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.deepEqual((res.body.kicked_users as string[]).sort(), [a.userId, b.userId, c.userId, notifier.userId].sort());
  assert.deepEqual(res.body.failed_to_kick_users, []);
  assert.deepEqual(res.body.local_aliases, ["#a-fermer:rempart.test"]);
  const newRoom = res.body.new_room_id as string;
  assert.ok(newRoom.startsWith("!"));

  // Purged: the admin API, the client API and the database no longer know the room.
  assertError(await as("GET", `${V1}/rooms/${roomId}`), 404, "M_NOT_FOUND");
  const db = s.app.storage.db;
  assert.equal((await db.selectFrom("events").select("event_id").where("room_id", "=", roomId).execute()).length, 0);
  assert.equal((await db.selectFrom("current_state").select("event_id").where("room_id", "=", roomId).execute()).length, 0);
  assertError(await send(a, roomId, "encore ?", "x2"), 404, "M_NOT_FOUND");
  // Blocked: it cannot come back.
  assert.deepEqual((await as("GET", `${V1}/rooms/${roomId}/block`)).body, { block: true, user_id: admin.userId });

  // The former members are in the replacement room, which carries the message and the alias.
  const members = await as("GET", `${V1}/rooms/${newRoom}/members`);
  assert.deepEqual((members.body.members as string[]).sort(), [a.userId, b.userId, c.userId, notifier.userId].sort());
  const details = await as("GET", `${V1}/rooms/${newRoom}`);
  assert.equal(details.body.name, "Salon fermé");
  const alias = await call(s.url, "GET", `${C}/directory/room/${enc("#a-fermer:rempart.test")}`, { token: a.accessToken });
  assert.equal(alias.body.room_id, newRoom);
  const msgs = await call(s.url, "GET", `${C}/rooms/${enc(newRoom)}/messages?dir=b&limit=50`, { token: a.accessToken });
  const bodies = (msgs.body.chunk as { type: string; content: { body?: string } }[]).filter((e) => e.type === "m.room.message").map((e) => e.content.body);
  assert.deepEqual(bodies, ["Ce salon a été fermé."]);
  // Members cannot speak there (users_default -10).
  assertError(await send(b, newRoom, "pourquoi ?", "x3"), 403, "M_FORBIDDEN");
  const joined = await call(s.url, "GET", `${C}/joined_rooms`, { token: b.accessToken });
  assert.deepEqual(joined.body.joined_rooms, [newRoom]);
});

test("delete (v1) without purge: members are out, the history stays", async () => {
  const [a, b] = [await s.user(), await s.user()];
  const roomId = await room(a, {}, [b]);
  const res = await as("DELETE", `${V1}/rooms/${roomId}`, { purge: false });
  assert.equal(res.status, 200);
  assert.equal(res.body.new_room_id, null);
  assert.equal((await as("GET", `${V1}/rooms/${roomId}`)).body.joined_members, 0);
  assert.deepEqual((await call(s.url, "GET", `${C}/joined_rooms`, { token: b.accessToken })).body.joined_rooms, []);
  assertError(await as("DELETE", `${V1}/rooms/!unknown:rempart.test`, {}), 404, "M_NOT_FOUND");
  assertError(await as("DELETE", `${V1}/rooms/${roomId}`, { new_room_user_id: "@ghost:rempart.test" }), 404, "M_NOT_FOUND");
  assertError(await as("DELETE", `${V1}/rooms/${roomId}`, { new_room_user_id: "@x:elsewhere.example" }), 400, "M_INVALID_PARAM");
});

test("delete (v2): background deletion with a status by id and by room", async () => {
  const [a, b] = [await s.user(), await s.user()];
  const roomId = await room(a, {}, [b]);
  const res = await as("DELETE", `${V2}/rooms/${roomId}`, {});
  assert.equal(res.status, 200);
  const deleteId = res.body.delete_id as string;
  assert.equal(typeof deleteId, "string");
  await s.app.adminRooms.idle();
  const status = await as("GET", `${V2}/rooms/delete_status/${deleteId}`);
  assert.equal(status.body.status, "complete", JSON.stringify(status.body));
  assert.deepEqual(((status.body.shutdown_room as { kicked_users: string[] }).kicked_users).sort(), [a.userId, b.userId].sort());
  const byRoom = await as("GET", `${V2}/rooms/${roomId}/delete_status`);
  assert.equal((byRoom.body.results as { delete_id: string; status: string }[])[0]!.delete_id, deleteId);
  assertError(await as("GET", `${V1}/rooms/${roomId}`), 404, "M_NOT_FOUND");
  assertError(await as("GET", `${V2}/rooms/delete_status/nope`), 404, "M_NOT_FOUND");
  assertError(await as("GET", `${V2}/rooms/!other:rempart.test/delete_status`), 404, "M_NOT_FOUND");
  assertError(await as("DELETE", `${V2}/rooms/!unknown:rempart.test`, {}), 404, "M_NOT_FOUND");
});

test("delete: a member who cannot be removed stops the purge unless force_purge", async () => {
  const [a, stuck] = [await s.user(), await s.user()];
  const roomId = await room(a, {}, [stuck]);
  // Simulates a leave the writer refuses (e.g. a storage failure for that one user).
  s.app.roomWriter.addPersistHook(async (_tx, snap, pdu) => {
    if (snap.roomId === roomId && pdu.type === "m.room.member" && pdu.state_key === stuck.userId && pdu.content.membership === "leave") {
      throw new Error("simulated failure");
    }
  });
  const refused = await as("DELETE", `${V1}/rooms/${roomId}`, {});
  assertError(refused, 400, "M_UNKNOWN");
  assert.match(refused.body.error as string, /force_purge/);
  assert.equal((await as("GET", `${V1}/rooms/${roomId}`)).status, 200, "not purged");
  const forced = await as("DELETE", `${V1}/rooms/${roomId}`, { force_purge: true });
  assert.equal(forced.status, 200, JSON.stringify(forced.body));
  assert.deepEqual(forced.body.failed_to_kick_users, [stuck.userId]);
  assertError(await as("GET", `${V1}/rooms/${roomId}`), 404, "M_NOT_FOUND");
});
