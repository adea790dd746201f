// synadm (Debian package `synadm`), the admin CLI operators already use with Synapse, driven as a
// real client against a test server: non-interactive (--batch), with its YAML config in a temporary
// HOME. Proves the admin API speaks the shapes synadm expects: version, user list/details/whois/
// modify/password/deactivate, room list/details/delete, server notices.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";

const installed = spawnSync("synadm", ["-h"], { stdio: "ignore" }).status === 0;
// CI installs synadm (.ci/run); elsewhere a missing synadm skips these tests rather than failing them.
const skip = !installed && process.env.CI !== "true" ? "synadm is not installed (apt-get install -y synadm)" : false;

let s: TestServer;
let admin: TestUser;
let alice: TestUser;
let bob: TestUser;
let home: string;
let roomId: string;

function synadm(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      "synadm",
      ["--batch", "-o", "json", ...args],
      { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, LANG: "C.UTF-8" }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** The JSON documents synadm printed (it may print notes and several documents in one run). */
function jsonDocs(out: string): unknown[] {
  const docs: unknown[] = [];
  for (const line of out.split("\n")) {
    const t = line.trim();
    if (t.startsWith("{") || t.startsWith("[")) {
      try {
        docs.push(JSON.parse(t));
      } catch {
        // Not a one-line JSON document.
      }
    }
  }
  return docs;
}

before(async () => {
  if (skip) return;
  s = await startTestServer();
  admin = await s.user("operator", { admin: true });
  alice = await s.user("alice");
  bob = await s.user("bob");
  const r = await call(s.url, "POST", "/_matrix/client/v3/createRoom", { token: alice.accessToken, body: { name: "Forum des agents", preset: "public_chat" } });
  assert.equal(r.status, 200);
  roomId = r.body.room_id as string;
  assert.equal((await call(s.url, "POST", `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, { token: bob.accessToken, headers: { "user-agent": "Tchap/4.2 test" } })).status, 200);
  home = mkdtempSync(join(tmpdir(), "rempart-synadm-"));
  mkdirSync(join(home, ".config"), { recursive: true });
  writeFileSync(
    join(home, ".config", "synadm.yaml"),
    [
      `user: "${admin.userId}"`,
      `token: "${admin.accessToken}"`,
      `base_url: "${s.url}"`,
      `admin_path: /_synapse/admin`,
      `matrix_path: /_matrix`,
      `timeout: 30`,
      `server_discovery: well-known`,
      `homeserver: rempart.test`,
      `format: json`,
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
});

after(async () => {
  if (skip) return;
  await s.close();
  rmSync(home, { recursive: true, force: true });
});

test("synadm version", { skip }, async () => {
  const r = await synadm("version");
  assert.equal(r.code, 0, r.stderr);
  assert.match(String((jsonDocs(r.stdout)[0] as { server_version: string }).server_version), /^Rempart /);
});

test("synadm user list and user details", { skip }, async () => {
  const r = await synadm("user", "list");
  assert.equal(r.code, 0, r.stderr);
  const list = jsonDocs(r.stdout)[0] as { users: { name: string; admin: number }[]; total: number };
  const names = list.users.map((u) => u.name);
  for (const u of [admin, alice, bob]) assert.ok(names.includes(u.userId), `${u.userId} in ${names.join(",")}`);
  assert.equal(list.users.find((u) => u.name === admin.userId)!.admin, 1);
  const filtered = jsonDocs((await synadm("user", "list", "--name", "ali")).stdout)[0] as { users: { name: string }[] };
  assert.deepEqual(filtered.users.map((u) => u.name), [alice.userId]);
  const details = jsonDocs((await synadm("user", "details", "alice")).stdout)[0] as { name: string; deactivated: number };
  assert.equal(details.name, alice.userId);
  assert.equal(details.deactivated, 0);
});

test("synadm user whois shows the sessions and their IPs and user agents", { skip }, async () => {
  const r = await synadm("user", "whois", bob.userId);
  assert.equal(r.code, 0, r.stderr);
  const whois = jsonDocs(r.stdout)[0] as { user_id: string; devices: Record<string, { sessions: { connections: { ip: string; user_agent: string | null }[] }[] }> };
  assert.equal(whois.user_id, bob.userId);
  const conn = whois.devices[bob.deviceId]!.sessions[0]!.connections[0]!;
  assert.equal(conn.ip, "127.0.0.1");
  assert.equal(typeof conn.user_agent, "string");
});

test("synadm room list and room details", { skip }, async () => {
  const r = await synadm("room", "list");
  assert.equal(r.code, 0, r.stderr);
  const list = jsonDocs(r.stdout)[0] as { rooms: { room_id: string; name: string; joined_members: number }[]; total_rooms: number };
  const room = list.rooms.find((x) => x.room_id === roomId)!;
  assert.equal(room.name, "Forum des agents");
  assert.equal(room.joined_members, 2);
  const details = jsonDocs((await synadm("room", "details", roomId)).stdout)[0] as { room_id: string; joined_local_members: number };
  assert.equal(details.room_id, roomId);
  assert.equal(details.joined_local_members, 2);
});

test("synadm notice send delivers a server notice", { skip }, async () => {
  const r = await synadm("notice", "send", "--paginate", "100", alice.userId, "Maintenance ce soir à 20 h");
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const invites = await call(s.url, "GET", "/_matrix/client/v3/sync?timeout=0", { token: alice.accessToken });
  const invited = invites.body.rooms as { invite?: Record<string, unknown> };
  assert.equal(Object.keys(invited.invite ?? {}).length, 1, JSON.stringify(invites.body.rooms));
});

test("synadm user modify creates an account, synadm user password resets it", { skip }, async () => {
  const r = await synadm("user", "modify", "@dave:rempart.test", "-P", "pw-dave-synadm-1", "-n", "Dave Durand");
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const login = (password: string) =>
    call(s.url, "POST", "/_matrix/client/v3/login", { body: { type: "m.login.password", identifier: { type: "m.id.user", user: "dave" }, password } });
  const first = await login("pw-dave-synadm-1");
  assert.equal(first.status, 200);
  const details = await call(s.url, "GET", "/_synapse/admin/v2/users/@dave:rempart.test", { token: admin.accessToken });
  assert.equal(details.body.displayname, "Dave Durand");
  const p = await synadm("user", "password", "@dave:rempart.test", "-p", "pw-dave-synadm-2");
  assert.equal(p.code, 0, p.stderr + p.stdout);
  assert.equal((await call(s.url, "GET", "/_matrix/client/v3/account/whoami", { token: first.body.access_token as string })).status, 401);
  assert.equal((await login("pw-dave-synadm-1")).status, 403);
  assert.equal((await login("pw-dave-synadm-2")).status, 200);
});

test("synadm room delete --block with a replacement room: members moved, room purged and blocked", { skip }, async () => {
  const carol = await s.user("carol");
  const r = await call(s.url, "POST", "/_matrix/client/v3/createRoom", { token: carol.accessToken, body: { name: "À fermer", preset: "public_chat" } });
  const doomed = r.body.room_id as string;
  const res = await synadm("room", "delete", doomed, "--block", "-u", admin.userId, "-m", "Salon fermé par l'administration");
  assert.equal(res.code, 0, res.stderr + res.stdout);
  const result = jsonDocs(res.stdout).find((d) => (d as { kicked_users?: unknown }).kicked_users) as { kicked_users: string[]; new_room_id: string };
  assert.deepEqual(result.kicked_users, [carol.userId]);
  assert.equal((await call(s.url, "GET", `/_synapse/admin/v1/rooms/${doomed}`, { token: admin.accessToken })).status, 404);
  assert.deepEqual((await call(s.url, "GET", `/_synapse/admin/v1/rooms/${doomed}/block`, { token: admin.accessToken })).body, { block: true, user_id: admin.userId });
  const joined = await call(s.url, "GET", "/_matrix/client/v3/joined_rooms", { token: carol.accessToken });
  assert.deepEqual(joined.body.joined_rooms, [result.new_room_id]);
});

test("synadm user deactivate: the account is deactivated, its sessions end, it leaves its rooms", { skip }, async () => {
  const r = await synadm("user", "deactivate", bob.userId);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /"id_server_unbind_result": "success"/);
  assert.equal((await call(s.url, "GET", "/_matrix/client/v3/account/whoami", { token: bob.accessToken })).status, 401);
  const details = await call(s.url, "GET", `/_synapse/admin/v2/users/${bob.userId}`, { token: admin.accessToken });
  assert.equal(details.body.deactivated, 1);
  const members = await call(s.url, "GET", `/_synapse/admin/v1/rooms/${roomId}/members`, { token: admin.accessToken });
  assert.deepEqual(members.body.members, [alice.userId]);
});
