// User directory search under the government model: users sharing a room, plus (config) the
// server's non-external users; externals only when they share a room; the red list
// (im.vector.hide_profile) hides a user; externals may not search.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startPolicyServer, expectError, type PolicyServer } from "../helpers/policy.js";
import { client } from "../helpers/sdk.js";
import type { TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";

let s: PolicyServer;
let closed: PolicyServer;
const mk = (u: TestUser, url: string) => client(url, { accessToken: u.accessToken, userId: u.userId, deviceId: u.deviceId });
/** Writes the red-list account data over HTTP (matrix-js-sdk warns when its client is not started). */
async function hide(srv: PolicyServer, u: TestUser, on: boolean): Promise<void> {
  const path = `/_matrix/client/v3/user/${encodeURIComponent(u.userId)}/account_data/im.vector.hide_profile`;
  assert.equal((await call(srv.url, "PUT", path, { token: u.accessToken, body: { hide_profile: on } })).status, 200);
}
const ids = (r: { results: { user_id: string }[] }) => r.results.map((x) => x.user_id).sort();

async function population(srv: PolicyServer) {
  const alice = await srv.user("alice");
  const agent = await srv.user("agent");
  const partner = await srv.user("partner");
  const stranger = await srv.user("stranger");
  const hidden = await srv.user("hidden");
  await srv.app.policy.registered(partner.userId, "partner@company.example", true);
  await srv.app.policy.registered(stranger.userId, "stranger@other.example", true);
  const A = mk(alice, srv.url);
  // alice shares a room (open to externals) with the partner and the hidden user.
  const { room_id } = await A.createRoom({ initial_state: [{ type: "im.vector.room.access_rules", state_key: "", content: { rule: "unrestricted" } }] });
  for (const u of [partner, hidden]) {
    await A.invite(room_id, u.userId);
    await mk(u, srv.url).joinRoom(room_id);
  }
  await hide(srv, hidden, true);
  return { alice, agent, partner, stranger, hidden, A };
}

let p: Awaited<ReturnType<typeof population>>;
let q: Awaited<ReturnType<typeof population>>;

before(async () => {
  s = await startPolicyServer();
  closed = await startPolicyServer({ user_directory_all_local: false });
  p = await population(s);
  q = await population(closed);
});
after(async () => {
  await s.close();
  await closed.close();
});

test("same-server agents and externals sharing a room are found; other externals and red-listed users are not", async () => {
  const all = await p.A.searchUserDirectory({ term: "rempart.test" });
  assert.deepEqual(ids(all), [p.agent.userId, p.alice.userId, p.partner.userId].sort());
  assert.deepEqual(ids(await p.A.searchUserDirectory({ term: "agent" })), [p.agent.userId]);
  assert.deepEqual(ids(await p.A.searchUserDirectory({ term: "stranger" })), [], "an external sharing no room");
  assert.deepEqual(ids(await p.A.searchUserDirectory({ term: "hidden" })), [], "red-listed, even when sharing a room");
  // Lifting the red list brings the user back.
  await hide(s, p.hidden, false);
  assert.deepEqual(ids(await p.A.searchUserDirectory({ term: "hidden" })), [p.hidden.userId]);
  await hide(s, p.hidden, true);
});

test("with user_directory_all_local off, only users sharing a room are found", async () => {
  assert.deepEqual(ids(await q.A.searchUserDirectory({ term: "rempart.test" })), [q.alice.userId, q.partner.userId].sort());
  assert.deepEqual(ids(await q.A.searchUserDirectory({ term: "agent" })), []);
});

test("externals cannot search; limits, wildcards and bad bodies", async () => {
  await expectError(mk(p.partner, s.url).searchUserDirectory({ term: "alice" }), "M_FORBIDDEN", 403);
  const limited = await p.A.searchUserDirectory({ term: "rempart", limit: 1 });
  assert.equal(limited.results.length, 1);
  assert.equal(limited.limited, true);
  // LIKE wildcards in the term are literal.
  assert.deepEqual(ids(await p.A.searchUserDirectory({ term: "%" })), []);
  assert.deepEqual(ids(await p.A.searchUserDirectory({ term: "_" })), []);
  const bad = await call(s.url, "POST", "/_matrix/client/v3/user_directory/search", { token: p.alice.accessToken, body: { search_term: "a", limit: -1 } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.errcode, "M_BAD_JSON");
  const unauth = await call(s.url, "POST", "/_matrix/client/v3/user_directory/search", { body: { search_term: "a" } });
  assert.equal(unauth.status, 401);
});

test("display names are searched too, and results carry them", async () => {
  await mk(p.agent, s.url).setDisplayName("Marie Curie [Interieur]");
  const r = await p.A.searchUserDirectory({ term: "curie" });
  assert.deepEqual(r.results, [{ user_id: p.agent.userId, display_name: "Marie Curie [Interieur]" }]);
});
