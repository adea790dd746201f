// Push rules over HTTP (client-server API "Push Rules: API"): the default rule set, creation with
// before/after, enabled and actions, deletion, refusals, the m.push_rules event in /sync account
// data, and matrix-js-sdk reading them at start.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";
import { client } from "../helpers/sdk.js";

const C = "/_matrix/client/v3";
let s: TestServer;
let alice: TestUser, bob: TestUser;

before(async () => {
  s = await startTestServer();
  [alice, bob] = [await s.user("alice"), await s.user("bob")];
});
after(async () => {
  await s.close();
});

type Rule = { rule_id: string; default: boolean; enabled: boolean; actions: unknown[]; conditions?: unknown[]; pattern?: string };
const ids = (rules: Rule[]) => rules.map((r) => r.rule_id);
const get = (u: TestUser, path: string) => call(s.url, "GET", C + path, { token: u.accessToken });
const put = (u: TestUser, path: string, body: unknown) => call(s.url, "PUT", C + path, { token: u.accessToken, body });

test("GET /pushrules/ returns the spec's default rules", async () => {
  const res = await get(alice, "/pushrules/");
  assert.equal(res.status, 200);
  const g = res.body.global as Record<string, Rule[]>;
  assert.deepEqual(Object.keys(g).sort(), ["content", "override", "room", "sender", "underride"]);
  assert.equal(g.override![0]!.rule_id, ".m.rule.master");
  for (const id of [".m.rule.suppress_notices", ".m.rule.invite_for_me", ".m.rule.member_event", ".m.rule.is_user_mention", ".m.rule.is_room_mention", ".m.rule.tombstone", ".m.rule.reaction", ".m.rule.room.server_acl", ".m.rule.suppress_edits"]) {
    assert.ok(ids(g.override!).includes(id), id);
  }
  assert.deepEqual(ids(g.underride!), [".m.rule.call", ".m.rule.encrypted_room_one_to_one", ".m.rule.room_one_to_one", ".m.rule.message", ".m.rule.encrypted"]);
  const mention = g.override!.find((r) => r.rule_id === ".m.rule.is_user_mention")!;
  assert.deepEqual(mention.conditions, [{ kind: "event_property_contains", key: "content.m\\.mentions.user_ids", value: alice.userId }]);
  assert.deepEqual((await get(alice, "/pushrules/global/")).body, res.body.global);
});

test("create rules with before/after, read them back, change enabled and actions, delete", async () => {
  assert.equal((await put(alice, "/pushrules/global/content/cake", { pattern: "cake", actions: ["notify", { set_tweak: "sound", value: "cakealarm.wav" }] })).status, 200);
  assert.equal((await put(alice, "/pushrules/global/content/pie", { pattern: "pie", actions: ["notify"] })).status, 200);
  // A new rule without before/after is the most important one.
  let content = (await get(alice, "/pushrules/global/")).body.content as Rule[];
  assert.deepEqual(ids(content), ["pie", "cake"]);
  assert.equal((await call(s.url, "PUT", `${C}/pushrules/global/content/tart?after=cake`, { token: alice.accessToken, body: { pattern: "tart", actions: [] } })).status, 200);
  assert.equal((await call(s.url, "PUT", `${C}/pushrules/global/content/scone?before=cake`, { token: alice.accessToken, body: { pattern: "scone", actions: ["dont_notify"] } })).status, 200);
  content = (await get(alice, "/pushrules/global/")).body.content as Rule[];
  assert.deepEqual(ids(content), ["pie", "scone", "cake", "tart"]);
  // Historical actions are stripped.
  assert.deepEqual(content.find((r) => r.rule_id === "scone")!.actions, []);

  const cake = await get(alice, "/pushrules/global/content/cake");
  assert.deepEqual(cake.body, { rule_id: "cake", default: false, enabled: true, pattern: "cake", actions: ["notify", { set_tweak: "sound", value: "cakealarm.wav" }] });
  assert.equal((await put(alice, "/pushrules/global/content/cake/enabled", { enabled: false })).status, 200);
  assert.deepEqual((await get(alice, "/pushrules/global/content/cake/enabled")).body, { enabled: false });
  assert.equal((await put(alice, "/pushrules/global/content/cake/actions", { actions: ["notify"] })).status, 200);
  assert.deepEqual((await get(alice, "/pushrules/global/content/cake/actions")).body, { actions: ["notify"] });
  // Updating a rule keeps its place and its enabled flag.
  assert.equal((await put(alice, "/pushrules/global/content/cake", { pattern: "cakes", actions: [] })).status, 200);
  const after = (await get(alice, "/pushrules/global/")).body.content as Rule[];
  assert.deepEqual(ids(after), ["pie", "scone", "cake", "tart"]);
  assert.equal(after.find((r) => r.rule_id === "cake")!.enabled, false);

  assert.equal((await call(s.url, "DELETE", `${C}/pushrules/global/content/cake`, { token: alice.accessToken })).status, 200);
  assert.equal((await get(alice, "/pushrules/global/content/cake")).status, 404);

  // Override rules keep their conditions; room and sender rules are keyed by id.
  const beer = { conditions: [{ kind: "event_match", key: "content.body", pattern: "beer" }, { kind: "room_member_count", is: "<=10" }], actions: ["notify"] };
  assert.equal((await put(alice, "/pushrules/global/override/beer", beer)).status, 200);
  assert.deepEqual((await get(alice, "/pushrules/global/override/beer")).body, { rule_id: "beer", default: false, enabled: true, ...beer });
  const roomRule = `/pushrules/global/room/${encodeURIComponent("!dj234r78wl45Gh4D:matrix.org")}`;
  assert.equal((await put(alice, roomRule, { actions: [] })).status, 200);
  assert.equal((await get(alice, roomRule)).body.rule_id, "!dj234r78wl45Gh4D:matrix.org");
  // Another user's rules are their own.
  assert.equal((await get(bob, "/pushrules/global/override/beer")).status, 404);
});

test("default rules can be disabled and given actions, not deleted or overwritten", async () => {
  assert.equal((await put(alice, "/pushrules/global/override/.m.rule.master/enabled", { enabled: true })).status, 200);
  assert.deepEqual((await get(alice, "/pushrules/global/override/.m.rule.master")).body.enabled, true);
  assert.equal((await put(alice, "/pushrules/global/override/.m.rule.master/enabled", { enabled: false })).status, 200);
  assert.equal((await put(alice, "/pushrules/global/underride/.m.rule.message/actions", { actions: ["notify", { set_tweak: "sound", value: "ping" }] })).status, 200);
  assert.deepEqual((await get(alice, "/pushrules/global/underride/.m.rule.message/actions")).body, { actions: ["notify", { set_tweak: "sound", value: "ping" }] });
  const del = await call(s.url, "DELETE", `${C}/pushrules/global/underride/.m.rule.message`, { token: alice.accessToken });
  assert.equal(del.status, 400);
  const over = await put(alice, "/pushrules/global/underride/.m.rule.message", { actions: [] });
  assert.equal(over.status, 400);
  assert.equal(over.body.errcode, "M_INVALID_PARAM");
});

test("refusals: unknown kind, unknown rule, before an unknown rule, content without pattern, bad room rule id, slashes", async () => {
  assert.equal((await get(alice, "/pushrules/global/nonsense/x")).body.errcode, "M_INVALID_PARAM");
  const missing = await get(alice, "/pushrules/global/override/nope");
  assert.equal(missing.status, 404);
  assert.equal(missing.body.errcode, "M_NOT_FOUND");
  assert.equal((await put(alice, "/pushrules/global/override/nope/enabled", { enabled: true })).status, 404);
  assert.equal((await put(alice, "/pushrules/global/override/nope/actions", { actions: [] })).status, 404);
  assert.equal((await call(s.url, "DELETE", `${C}/pushrules/global/override/nope`, { token: alice.accessToken })).status, 404);
  const anchor = await call(s.url, "PUT", `${C}/pushrules/global/override/x?before=nope`, { token: alice.accessToken, body: { actions: [] } });
  assert.equal(anchor.status, 400);
  assert.equal(anchor.body.errcode, "M_UNKNOWN");
  assert.equal((await put(alice, "/pushrules/global/content/nopattern", { actions: [] })).body.errcode, "M_MISSING_PARAM");
  assert.equal((await put(alice, "/pushrules/global/room/notaroom", { actions: [] })).body.errcode, "M_INVALID_PARAM");
  assert.equal((await put(alice, `/pushrules/global/override/${encodeURIComponent("a\\b")}`, { actions: [] })).body.errcode, "M_INVALID_PARAM");
  assert.equal((await put(alice, "/pushrules/global/override/x", { actions: "notify" })).body.errcode, "M_BAD_JSON");
  // Nothing of that was stored.
  assert.equal((await get(alice, "/pushrules/global/override/x")).status, 404);
  // The rules are not writable as plain account data.
  const ad = await call(s.url, "PUT", `${C}/user/${encodeURIComponent(alice.userId)}/account_data/m.push_rules`, { token: alice.accessToken, body: { global: {} } });
  assert.equal(ad.status, 405);
});

test("/sync carries m.push_rules in account data: defaults at first, then every change", async () => {
  const carol = await s.user();
  const first = await call(s.url, "GET", `${C}/sync?timeout=0`, { token: carol.accessToken });
  const events = (first.body.account_data as { events: Array<{ type: string; content: { global: Record<string, Rule[]> } }> }).events;
  const rules = events.find((e) => e.type === "m.push_rules");
  assert.ok(rules, "m.push_rules in the initial sync");
  assert.equal(rules.content.global.override![0]!.rule_id, ".m.rule.master");
  // A change wakes a long-poll with the new rules.
  const poll = call(s.url, "GET", `${C}/sync?timeout=20000&since=${first.body.next_batch as string}`, { token: carol.accessToken });
  await new Promise((r) => setTimeout(r, 100));
  assert.equal((await put(carol, "/pushrules/global/sender/%40spambot%3Amatrix.org", { actions: [] })).status, 200);
  const next = await poll;
  const changed = (next.body.account_data as { events: Array<{ type: string; content: { global: Record<string, Rule[]> } }> }).events.find((e) => e.type === "m.push_rules");
  assert.ok(changed);
  assert.deepEqual(ids(changed.content.global.sender!), ["@spambot:matrix.org"]);
  // A filter that leaves m.push_rules out is obeyed.
  const f = encodeURIComponent(JSON.stringify({ account_data: { not_types: ["m.push_rules"] } }));
  const filtered = await call(s.url, "GET", `${C}/sync?timeout=0&filter=${f}`, { token: carol.accessToken });
  assert.ok(!(filtered.body.account_data as { events: Array<{ type: string }> }).events.some((e) => e.type === "m.push_rules"));
});

test("matrix-js-sdk reads the push rules at start", async () => {
  const dave = await s.user();
  const c = client(s.url, { accessToken: dave.accessToken, userId: dave.userId, deviceId: dave.deviceId });
  try {
    const rules = await c.getPushRules();
    assert.ok(rules.global.override?.some((r) => r.rule_id === ".m.rule.master"));
    await c.addPushRule("global", "override" as never, "sdk-rule", { actions: ["notify"], conditions: [{ kind: "event_match", key: "type", pattern: "org.example.ping" }] } as never);
    const again = await c.getPushRules();
    assert.ok(again.global.override?.some((r) => r.rule_id === "sdk-rule"));
  } finally {
    c.stopClient();
  }
});
