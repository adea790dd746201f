// What a user's real client (matrix-js-sdk) sees of admin actions: a server notice arrives as an
// invite, with an m.notice from the notices user; a deleted room
// is gone from the joined rooms; deactivation logs the client out.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { client, sdk } from "../helpers/sdk.js";
import { call } from "../helpers/http.js";

let s: TestServer;
let admin: TestUser;
let user: TestUser;
let cli: sdk.MatrixClient;

before(async () => {
  s = await startTestServer();
  admin = await s.user("ops", { admin: true });
  user = await s.user("agent");
  // No sync loop: matrix-js-sdk's startClient needs push rules, which are not served yet.
  cli = client(s.url, { accessToken: user.accessToken, userId: user.userId, deviceId: user.deviceId });
});
after(async () => {
  await s.close();
});

const as = (method: string, path: string, body?: unknown) => call(s.url, method, path, { token: admin.accessToken, body });

test("a server notice reaches the client: an invite, then an m.notice from the notices user", async () => {
  const res = await as("POST", "/_synapse/admin/v1/send_server_notice", { user_id: user.userId, content: { msgtype: "m.text", body: "Mot de passe à changer" } });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const sync = await call(s.url, "GET", "/_matrix/client/v3/sync?timeout=0", { token: user.accessToken });
  const roomId = Object.keys((sync.body.rooms as { invite: Record<string, unknown> }).invite)[0]!;
  await cli.joinRoom(roomId);
  // The m.server_notice tag is room account data (checked in admin-reports-notices.test.ts; the
  // /tags endpoint matrix-js-sdk would use is not served yet).
  const page = await cli.createMessagesRequest(roomId, null, 20, sdk.Direction.Backward);
  const notice = page.chunk.find((e) => e.type === "m.room.message")!;
  assert.equal(notice.sender, "@server:rempart.test");
  assert.deepEqual([notice.content.msgtype, notice.content.body], ["m.notice", "Mot de passe à changer"]);
});

test("a room deleted by an admin is no longer among the client's joined rooms", async () => {
  const { room_id } = await cli.createRoom({ name: "Salon à supprimer" });
  assert.ok((await cli.getJoinedRooms()).joined_rooms.includes(room_id));
  const res = await as("DELETE", `/_synapse/admin/v1/rooms/${room_id}`, {});
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.ok(!(await cli.getJoinedRooms()).joined_rooms.includes(room_id));
});

test("deactivation by an admin logs the client out", async () => {
  let loggedOut = false;
  cli.on(sdk.HttpApiEvent.SessionLoggedOut, () => (loggedOut = true));
  const res = await as("POST", `/_synapse/admin/v1/deactivate/${user.userId}`, {});
  assert.equal(res.status, 200);
  await assert.rejects(cli.whoami(), (e: unknown) => e instanceof sdk.MatrixError && e.errcode === "M_UNKNOWN_TOKEN");
  assert.equal(loggedOut, true);
});
