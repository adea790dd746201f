// The user admin API (/_synapse/admin/v1|v2/users…, deactivate, reset_password, whois) over HTTP:
// behaviour, Synapse's response shapes, refusals (unknown and remote users, bad parameters), and
// the admin-action seam.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { assertError, call, type Res } from "../helpers/http.js";
import type { AdminAction } from "../../src/admin/actions.js";

const C = "/_matrix/client/v3";
const V1 = "/_synapse/admin/v1";
const V2 = "/_synapse/admin/v2";

let s: TestServer;
let admin: TestUser;
const actions: AdminAction[] = [];

before(async () => {
  s = await startTestServer();
  s.app.adminActions.onAction((a) => actions.push(a));
  admin = await s.user("chief", { admin: true });
});
after(async () => {
  await s.close();
});

const as = (method: string, path: string, body?: unknown, token = admin.accessToken) => call(s.url, method, path, { token, body });

async function login(user: string, password: string): Promise<Res> {
  return call(s.url, "POST", `${C}/login`, { body: { type: "m.login.password", identifier: { type: "m.id.user", user }, password } });
}

test("list: pagination with next_token and total, filters, deactivated and admins, ordering", async () => {
  const prefix = `lst${Date.now() % 100000}`;
  const users: TestUser[] = [];
  for (const n of ["a", "b", "c", "d"]) users.push(await s.user(`${prefix}${n}`));
  await as("PUT", `${V2}/users/${users[3]!.userId}`, { displayname: "Zoé Martin" });
  await as("POST", `${V1}/deactivate/${users[2]!.userId}`, {});

  const page1 = await as("GET", `${V2}/users?user_id=${prefix}&limit=2`);
  assert.equal(page1.status, 200);
  assert.equal(page1.body.total, 3, "deactivated users are left out by default");
  assert.deepEqual((page1.body.users as { name: string }[]).map((u) => u.name), [users[0]!.userId, users[1]!.userId]);
  assert.equal(page1.body.next_token, "2");
  const page2 = await as("GET", `${V2}/users?user_id=${prefix}&limit=2&from=${page1.body.next_token as string}`);
  assert.deepEqual((page2.body.users as { name: string }[]).map((u) => u.name), [users[3]!.userId]);
  assert.equal(page2.body.next_token, undefined);

  const withDeactivated = await as("GET", `${V2}/users?user_id=${prefix}&deactivated=true`);
  assert.equal(withDeactivated.body.total, 4);
  const byName = await as("GET", `${V2}/users?name=zoé`);
  assert.deepEqual((byName.body.users as { name: string }[]).map((u) => u.name), [users[3]!.userId], "name matches display names too, case-insensitively");
  const wildcard = await as("GET", `${V2}/users?user_id=%25`);
  assert.equal(wildcard.body.total, 0, "% is a character, not a wildcard");

  const admins = await as("GET", `${V2}/users?admins=true`);
  assert.ok((admins.body.users as { name: string; admin: number }[]).every((u) => u.admin === 1));
  assert.ok((admins.body.users as { name: string }[]).some((u) => u.name === admin.userId));
  const noAdmins = await as("GET", `${V2}/users?admins=false`);
  assert.ok((noAdmins.body.users as { admin: number }[]).every((u) => u.admin === 0));

  const desc = await as("GET", `${V2}/users?user_id=${prefix}&dir=b`);
  assert.deepEqual((desc.body.users as { name: string }[]).map((u) => u.name), [users[3]!.userId, users[1]!.userId, users[0]!.userId]);
  const byCreation = await as("GET", `${V2}/users?user_id=${prefix}&order_by=creation_ts`);
  assert.equal((byCreation.body.users as unknown[]).length, 3);

  assertError(await as("GET", `${V2}/users?order_by=password`), 400, "M_INVALID_PARAM");
  assertError(await as("GET", `${V2}/users?limit=-1`), 400, "M_INVALID_PARAM");
  assertError(await as("GET", `${V2}/users?deactivated=maybe`), 400, "M_INVALID_PARAM");
  assertError(await as("GET", `${V2}/users?dir=sideways`), 400, "M_INVALID_PARAM");
});

test("query one user: Synapse's fields; unknown 404, remote or malformed 400", async () => {
  const u = await s.user();
  const res = await as("GET", `${V2}/users/${u.userId}`);
  assert.equal(res.status, 200);
  assert.equal(res.body.name, u.userId);
  assert.equal(res.body.admin, 0);
  assert.equal(res.body.deactivated, 0);
  assert.equal(res.body.erased, false);
  assert.equal(res.body.is_guest, 0);
  assert.equal(typeof res.body.creation_ts, "number");
  assert.equal(typeof res.body.last_seen_ts, "number");
  assert.deepEqual(res.body.threepids, []);
  assertError(await as("GET", `${V2}/users/@nobody:rempart.test`), 404, "M_NOT_FOUND");
  assertError(await as("GET", `${V2}/users/@someone:elsewhere.example`), 400, "M_INVALID_PARAM");
  assertError(await as("GET", `${V2}/users/not-a-user-id`), 400, "M_INVALID_PARAM");
});

test("PUT v2/users creates an account (201) that can log in, then modifies it (200)", async () => {
  const id = "@created:rempart.test";
  const created = await as("PUT", `${V2}/users/${id}`, { password: "pw-created-1", displayname: "Camille", avatar_url: "mxc://rempart.test/abc", admin: false });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.body.name, id);
  assert.equal(created.body.displayname, "Camille");
  assert.equal(created.body.avatar_url, "mxc://rempart.test/abc");
  const l = await login("created", "pw-created-1");
  assert.equal(l.status, 200);
  const token = l.body.access_token as string;

  const modified = await as("PUT", `${V2}/users/${id}`, { displayname: "Camille D.", admin: true });
  assert.equal(modified.status, 200);
  assert.equal(modified.body.displayname, "Camille D.");
  assert.equal(modified.body.admin, 1);
  // The session cache learns of the new flag at once.
  assert.equal((await as("GET", `${V2}/users`, undefined, token)).status, 200);

  // A new password ends the sessions by default.
  assert.equal((await as("PUT", `${V2}/users/${id}`, { password: "pw-created-2" })).status, 200);
  assertError(await call(s.url, "GET", `${C}/account/whoami`, { token }), 401, "M_UNKNOWN_TOKEN");
  assert.equal((await login("created", "pw-created-1")).status, 403);
  const again = await login("created", "pw-created-2");
  assert.equal(again.status, 200);
  // logout_devices: false keeps them.
  assert.equal((await as("PUT", `${V2}/users/${id}`, { password: "pw-created-3", logout_devices: false })).status, 200);
  assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: again.body.access_token as string })).status, 200);

  // Deactivate through PUT, then re-activate: a password is required.
  assert.equal((await as("PUT", `${V2}/users/${id}`, { deactivated: true })).body.deactivated, 1);
  assertError(await as("PUT", `${V2}/users/${id}`, { deactivated: false }), 400, "M_MISSING_PARAM");
  const back = await as("PUT", `${V2}/users/${id}`, { deactivated: false, password: "pw-created-4" });
  assert.equal(back.body.deactivated, 0);
  assert.equal((await login("created", "pw-created-4")).status, 200);

  assertError(await as("PUT", `${V2}/users/${admin.userId}`, { admin: false }), 400, "M_UNKNOWN");
  assertError(await as("PUT", `${V2}/users/@x:elsewhere.example`, {}), 400, "M_INVALID_PARAM");
  assertError(await as("PUT", `${V2}/users/@Bad Name:rempart.test`, {}), 400, "M_INVALID_USERNAME");
  // `locked` is accepted and ignored until the account lock exists (login-security work).
  assert.equal((await as("PUT", `${V2}/users/${id}`, { locked: true })).status, 200);
});

test("deactivate with erase: sessions end, rooms are left, the profile is erased", async () => {
  const u = await s.user();
  const owner = await s.user();
  const room = await call(s.url, "POST", `${C}/createRoom`, { token: owner.accessToken, body: { preset: "public_chat" } });
  const roomId = room.body.room_id as string;
  assert.equal((await call(s.url, "POST", `${C}/join/${encodeURIComponent(roomId)}`, { token: u.accessToken })).status, 200);
  const res = await as("POST", `${V1}/deactivate/${u.userId}`, { erase: true });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { id_server_unbind_result: "success" });
  assertError(await call(s.url, "GET", `${C}/account/whoami`, { token: u.accessToken }), 401, "M_UNKNOWN_TOKEN");
  assert.equal((await login(u.userId, u.password)).status, 403);
  const details = await as("GET", `${V2}/users/${u.userId}`);
  assert.equal(details.body.deactivated, 1);
  assert.equal(details.body.erased, true);
  assert.equal(details.body.displayname, null);
  const members = await as("GET", `${V1}/rooms/${roomId}/members`);
  assert.deepEqual(members.body.members, [owner.userId]);
  assertError(await as("POST", `${V1}/deactivate/@ghost:rempart.test`, {}), 404, "M_NOT_FOUND");
  assert.ok(actions.some((a) => a.action === "user.deactivate" && a.target === u.userId && a.details?.erase === true && a.admin === admin.userId));
});

test("reset_password: the new password works, sessions end unless logout_devices is false", async () => {
  const u = await s.user();
  assert.equal((await as("POST", `${V1}/reset_password/${u.userId}`, { new_password: "pw-reset-1", logout_devices: false })).status, 200);
  assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: u.accessToken })).status, 200);
  assert.equal((await login(u.userId, u.password)).status, 403);
  assert.equal((await login(u.userId, "pw-reset-1")).status, 200);
  assert.equal((await as("POST", `${V1}/reset_password/${u.userId}`, { new_password: "pw-reset-2" })).status, 200);
  assertError(await call(s.url, "GET", `${C}/account/whoami`, { token: u.accessToken }), 401, "M_UNKNOWN_TOKEN");
  assertError(await as("POST", `${V1}/reset_password/${u.userId}`, {}), 400, "M_BAD_JSON");
  assertError(await as("POST", `${V1}/reset_password/@ghost:rempart.test`, { new_password: "pw-reset-3" }), 404, "M_NOT_FOUND");
  // The password never reaches the action record.
  assert.ok(!JSON.stringify(actions).includes("pw-reset"));
});

test("whois, devices (list, get, rename, delete, delete_devices), joined_rooms", async () => {
  const u = await s.user();
  const second = await call(s.url, "POST", `${C}/login`, {
    body: { type: "m.login.password", identifier: { type: "m.id.user", user: u.userId }, password: u.password, device_id: "LAPTOP" },
    headers: { "user-agent": "Element/1.11 (agent laptop)" },
  });
  assert.equal(second.status, 200);
  const whois = await as("GET", `${V1}/whois/${u.userId}`);
  assert.equal(whois.body.user_id, u.userId);
  const devices = whois.body.devices as Record<string, { sessions: { connections: { ip: string; last_seen: number; user_agent: string }[] }[] }>;
  assert.deepEqual(Object.keys(devices).sort(), [u.deviceId, "LAPTOP"].sort());
  const laptop = devices.LAPTOP!.sessions[0]!.connections[0]!;
  assert.equal(laptop.ip, "127.0.0.1");
  assert.equal(laptop.user_agent, "Element/1.11 (agent laptop)");

  const list = await as("GET", `${V2}/users/${u.userId}/devices`);
  assert.equal(list.body.total, 2);
  const one = await as("GET", `${V2}/users/${u.userId}/devices/LAPTOP`);
  assert.equal(one.body.device_id, "LAPTOP");
  assert.equal(one.body.user_id, u.userId);
  assert.equal(one.body.last_seen_user_agent, "Element/1.11 (agent laptop)");
  assert.equal((await as("PUT", `${V2}/users/${u.userId}/devices/LAPTOP`, { display_name: "Portable" })).status, 200);
  assert.equal((await as("GET", `${V2}/users/${u.userId}/devices/LAPTOP`)).body.display_name, "Portable");
  assertError(await as("GET", `${V2}/users/${u.userId}/devices/NOPE`), 404, "M_NOT_FOUND");
  assertError(await as("DELETE", `${V2}/users/${u.userId}/devices/NOPE`), 404, "M_NOT_FOUND");

  assert.equal((await as("DELETE", `${V2}/users/${u.userId}/devices/LAPTOP`)).status, 200);
  assertError(await call(s.url, "GET", `${C}/account/whoami`, { token: second.body.access_token as string }), 401, "M_UNKNOWN_TOKEN");
  assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: u.accessToken })).status, 200);
  assert.equal((await as("POST", `${V2}/users/${u.userId}/delete_devices`, { devices: [u.deviceId, "UNKNOWN"] })).status, 200);
  assertError(await call(s.url, "GET", `${C}/account/whoami`, { token: u.accessToken }), 401, "M_UNKNOWN_TOKEN");
  assert.equal((await as("GET", `${V2}/users/${u.userId}/devices`)).body.total, 0);

  const member = await s.user();
  const r = await call(s.url, "POST", `${C}/createRoom`, { token: member.accessToken, body: {} });
  const joined = await as("GET", `${V1}/users/${member.userId}/joined_rooms`);
  assert.deepEqual(joined.body, { joined_rooms: [r.body.room_id], total: 1 });
  assertError(await as("GET", `${V1}/users/@ghost:rempart.test/joined_rooms`), 404, "M_NOT_FOUND");
  assertError(await as("GET", `${V1}/whois/@ghost:rempart.test`), 404, "M_NOT_FOUND");
});

test("login as another user is disabled, with a clear reason, and the attempt is recorded", async () => {
  const u = await s.user();
  const res = await as("POST", `${V1}/users/${u.userId}/login`, {});
  assert.equal(res.status, 403);
  assert.equal(res.body.errcode, "FR.REMPART.ADMIN_LOGIN_DISABLED");
  assert.match(res.body.error as string, /audit/);
  assert.equal(res.body.access_token, undefined);
  assert.ok(actions.some((a) => a.action === "user.login_as.refused" && a.target === u.userId));
});

test("admin flag: get, grant (effective at once), revoke; an admin cannot demote themselves", async () => {
  const u = await s.user();
  assert.deepEqual((await as("GET", `${V1}/users/${u.userId}/admin`)).body, { admin: false });
  assertError(await as("GET", `${V2}/users`, undefined, u.accessToken), 403, "M_FORBIDDEN");
  assert.equal((await as("PUT", `${V1}/users/${u.userId}/admin`, { admin: true })).status, 200);
  assert.deepEqual((await as("GET", `${V1}/users/${u.userId}/admin`)).body, { admin: true });
  assert.equal((await as("GET", `${V2}/users`, undefined, u.accessToken)).status, 200);
  assert.equal((await as("PUT", `${V1}/users/${u.userId}/admin`, { admin: false })).status, 200);
  assertError(await as("GET", `${V2}/users`, undefined, u.accessToken), 403, "M_FORBIDDEN");
  assertError(await as("PUT", `${V1}/users/${admin.userId}/admin`, { admin: false }), 400, "M_UNKNOWN");
  assertError(await as("PUT", `${V1}/users/@ghost:rempart.test/admin`, { admin: true }), 404, "M_NOT_FOUND");
});

test("a non-admin's call is refused with 403 and recorded as refused.not_admin under their id", async () => {
  const u = await s.user();
  assertError(await as("POST", `${V1}/deactivate/${admin.userId}`, {}, u.accessToken), 403, "M_FORBIDDEN");
  const refusal = actions.find((a) => a.action === "refused.not_admin" && a.admin === u.userId);
  assert.deepEqual(refusal?.details, { method: "POST", route: "/_synapse/admin/v1/deactivate/:userId" });
  assert.equal((await as("GET", `${V2}/users/${admin.userId}`)).body.deactivated, 0);
});

test("server_version names Rempart", async () => {
  const res = await as("GET", `${V1}/server_version`);
  assert.equal(res.status, 200);
  assert.match(res.body.server_version as string, /^Rempart \d+\.\d+\.\d+/);
});
