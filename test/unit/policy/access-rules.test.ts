// Room access rules, forums and the externals' fence as pure rules (src/policy/access-rules.ts):
// each rule with an allowed and a refused case.
import assert from "node:assert/strict";
import { test } from "node:test";
import { stateKey, type PDU, type StateKey } from "../../../src/matrix/pdu.js";
import { ACCESS_RULES, accessRuleChangeProblem, judgeEvent, ruleOf, type Draft } from "../../../src/policy/access-rules.js";

const A = "@alice:s";
const B = "@bob:s";
const C = "@carol:s";
const X = "@ext:s";

type Ev = Pick<PDU, "content" | "state_key">;
function room(opts: { rule?: string; joinRule?: string; encrypted?: boolean; members?: Record<string, string> } = {}): Map<StateKey, Ev> {
  const st = new Map<StateKey, Ev>();
  if (opts.rule) st.set(stateKey(ACCESS_RULES, ""), { state_key: "", content: { rule: opts.rule } });
  st.set(stateKey("m.room.join_rules", ""), { state_key: "", content: { join_rule: opts.joinRule ?? "invite" } });
  if (opts.encrypted) st.set(stateKey("m.room.encryption", ""), { state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } });
  for (const [u, m] of Object.entries(opts.members ?? { [A]: "join" })) st.set(stateKey("m.room.member", u), { state_key: u, content: { membership: m } });
  return st;
}
const member = (sender: string, target: string, membership: string): Draft => ({ type: "m.room.member", sender, state_key: target, content: { membership } });
const state = (type: string, content: Record<string, unknown>, sender = A): Draft => ({ type, sender, state_key: "", content });
const ext = new Set([X]);
const none = new Set<string>();

test("rooms without the event are restricted", () => {
  assert.equal(ruleOf(room()), "restricted");
  assert.equal(ruleOf(room({ rule: "direct" })), "direct");
  assert.equal(ruleOf(room({ rule: "bogus" })), "restricted");
});

test("only restricted → unrestricted; never for a public room; unknown rules refused", () => {
  assert.equal(accessRuleChangeProblem(room({ rule: "restricted" }), { rule: "unrestricted" }), undefined);
  assert.equal(accessRuleChangeProblem(room({ rule: "unrestricted" }), { rule: "unrestricted" }), undefined);
  assert.match(accessRuleChangeProblem(room({ rule: "unrestricted" }), { rule: "restricted" })!, /cannot change/);
  assert.match(accessRuleChangeProblem(room({ rule: "restricted" }), { rule: "direct" })!, /cannot change/);
  assert.match(accessRuleChangeProblem(room({ rule: "direct" }), { rule: "unrestricted" })!, /cannot change/);
  assert.match(accessRuleChangeProblem(room({ joinRule: "public" }), { rule: "unrestricted" })!, /public/);
  assert.match(accessRuleChangeProblem(room(), { rule: "open" })!, /must be/);
  assert.match(judgeEvent(room(), { ...state(ACCESS_RULES, { rule: "unrestricted" }), state_key: "x" }, none)!, /empty state key/);
});

test("restricted rooms: externals are neither invited nor joined", () => {
  assert.equal(judgeEvent(room(), member(A, B, "invite"), none), undefined);
  assert.match(judgeEvent(room(), member(A, X, "invite"), ext)!, /not open to externals/);
  assert.match(judgeEvent(room({ members: { [A]: "join", [X]: "invite" } }), member(X, X, "join"), ext)!, /not open to externals/);
});

test("externals do not knock on restricted rooms; they may on rooms open to externals", () => {
  assert.match(judgeEvent(room(), member(X, X, "knock"), ext)!, /not open to externals/);
  assert.equal(judgeEvent(room({ rule: "unrestricted" }), member(X, X, "knock"), ext), undefined);
  assert.equal(judgeEvent(room(), member(B, B, "knock"), ext), undefined);
});

test("unrestricted rooms: externals join by invitation only", () => {
  const r = room({ rule: "unrestricted", members: { [A]: "join", [X]: "invite" } });
  assert.equal(judgeEvent(r, member(A, X, "invite"), ext), undefined);
  assert.equal(judgeEvent(r, member(X, X, "join"), ext), undefined);
  assert.match(judgeEvent(room({ rule: "unrestricted" }), member(X, X, "join"), ext)!, /only by invitation/);
  // An external already joined may update its member event (display name).
  assert.equal(judgeEvent(room({ rule: "unrestricted", members: { [A]: "join", [X]: "join" } }), member(X, X, "join"), ext), undefined);
});

test("externals never join forums, never invite, never hold power", () => {
  assert.match(judgeEvent(room({ joinRule: "public" }), member(X, X, "join"), ext)!, /public rooms/);
  assert.equal(judgeEvent(room({ joinRule: "public" }), member(B, B, "join"), ext), undefined);
  assert.match(judgeEvent(room({ rule: "unrestricted" }), member(X, B, "invite"), ext)!, /cannot invite/);
  assert.match(judgeEvent(room(), state("m.room.power_levels", { users: { [A]: 100, [X]: 1 } }), ext)!, /above 0/);
  assert.equal(judgeEvent(room(), state("m.room.power_levels", { users: { [A]: 100, [X]: 0, [B]: 50 } }), ext), undefined);
  const withExt = room({ rule: "unrestricted", members: { [A]: "join", [X]: "join" } });
  assert.match(judgeEvent(withExt, state("m.room.power_levels", { users: { [A]: 100 }, users_default: 5 }), ext)!, /above 0/);
  assert.equal(judgeEvent(withExt, state("m.room.power_levels", { users: { [A]: 100, [X]: 0 }, users_default: 5 }), ext), undefined);
});

test("direct rooms: two members and one pending invite at most; no name, topic or avatar", () => {
  const dm = room({ rule: "direct", members: { [A]: "join", [B]: "invite" } });
  assert.equal(judgeEvent(room({ rule: "direct" }), member(A, B, "invite"), none), undefined);
  assert.match(judgeEvent(dm, member(A, C, "invite"), none)!, /at most two/);
  assert.match(judgeEvent(room({ rule: "direct", members: { [A]: "join", [B]: "join" } }), member(C, C, "join"), none)!, /at most two/);
  assert.equal(judgeEvent(dm, member(B, B, "join"), none), undefined);
  // Externals may be in a DM.
  assert.equal(judgeEvent(room({ rule: "direct" }), member(A, X, "invite"), ext), undefined);
  for (const t of ["m.room.name", "m.room.topic", "m.room.avatar"]) {
    assert.match(judgeEvent(dm, state(t, { name: "x" }), none)!, /direct chat/);
    assert.equal(judgeEvent(room(), state(t, { name: "x" }), none), undefined);
  }
  assert.match(judgeEvent(dm, state("m.room.join_rules", { join_rule: "public" }), none)!, /Only restricted/);
});

test("forums: no encryption when public; public unencrypted never private; encrypted never public", () => {
  assert.match(judgeEvent(room({ joinRule: "public" }), state("m.room.encryption", {}), none)!, /public rooms/);
  assert.equal(judgeEvent(room(), state("m.room.encryption", {}), none), undefined);
  assert.match(judgeEvent(room({ joinRule: "public" }), state("m.room.join_rules", { join_rule: "invite" }), none)!, /never|cannot become private/);
  assert.equal(judgeEvent(room({ joinRule: "public" }), state("m.room.join_rules", { join_rule: "public" }), none), undefined);
  assert.match(judgeEvent(room({ encrypted: true }), state("m.room.join_rules", { join_rule: "public" }), none)!, /encrypted/);
  assert.equal(judgeEvent(room(), state("m.room.join_rules", { join_rule: "public" }), none), undefined);
  assert.match(judgeEvent(room({ rule: "unrestricted" }), state("m.room.join_rules", { join_rule: "public" }), none)!, /Only restricted/);
});

test("externals cannot send third-party invites either", () => {
  const tpi = (sender: string): Draft => ({ type: "m.room.third_party_invite", sender, state_key: "tok", content: { display_name: "x…@y" } });
  assert.match(judgeEvent(room({ rule: "unrestricted" }), tpi(X), ext)!, /cannot invite/);
  assert.equal(judgeEvent(room({ rule: "unrestricted" }), tpi(A), ext), undefined);
});

test("other events pass", () => {
  assert.equal(judgeEvent(room(), { type: "m.room.message", sender: X, content: { body: "hi" } }, ext), undefined);
});
