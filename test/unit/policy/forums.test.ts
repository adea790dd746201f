// Room creation under the government model (src/policy/forums.ts): allowed and refused requests,
// the access rule written at creation, Tchap's default power levels.
import assert from "node:assert/strict";
import { test } from "node:test";
import { applyCreatePolicy, createPlan, createRoomProblem, TCHAP_POWER_LEVELS } from "../../../src/policy/forums.js";

const RULES = "im.vector.room.access_rules";
const ENC = { type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } };

test("the plan: DMs are direct, others restricted unless asked; publicity from preset, visibility or join rule", () => {
  assert.deepEqual(createPlan({ is_direct: true }), { rule: "direct", isPublic: false });
  assert.deepEqual(createPlan({}), { rule: "restricted", isPublic: false });
  assert.deepEqual(createPlan({ preset: "public_chat" }), { rule: "restricted", isPublic: true });
  assert.deepEqual(createPlan({ visibility: "public" }), { rule: "restricted", isPublic: true });
  assert.deepEqual(createPlan({ initial_state: [{ type: "m.room.join_rules", content: { join_rule: "public" } }] }), { rule: "restricted", isPublic: true });
  assert.deepEqual(createPlan({ initial_state: [{ type: RULES, state_key: "", content: { rule: "unrestricted" } }] }), { rule: "unrestricted", isPublic: false });
});

test("externals create nothing; internals create rooms, forums and DMs", () => {
  assert.match(createRoomProblem({}, true, [])!, /Externals/);
  assert.equal(createRoomProblem({}, false, []), undefined);
  assert.equal(createRoomProblem({ preset: "public_chat" }, false, []), undefined);
  assert.equal(createRoomProblem({ is_direct: true, invite: ["@b:s"] }, false, []), undefined);
});

test("forums: never encrypted, never open to externals", () => {
  assert.match(createRoomProblem({ preset: "public_chat", initial_state: [ENC] }, false, [])!, /Encryption/);
  assert.equal(createRoomProblem({ initial_state: [ENC] }, false, []), undefined);
  assert.match(createRoomProblem({ preset: "public_chat", initial_state: [{ type: RULES, content: { rule: "unrestricted" } }] }, false, [])!, /Only restricted/);
  assert.match(createRoomProblem({ visibility: "public", is_direct: true }, false, [])!, /Only restricted/);
});

test("DMs: one invitee, no name or topic; externals only where allowed", () => {
  assert.match(createRoomProblem({ is_direct: true, invite: ["@b:s", "@c:s"] }, false, [])!, /two members/);
  assert.match(createRoomProblem({ is_direct: true, invite: ["@b:s"], invite_3pid: [{}] }, false, [])!, /two members/);
  assert.match(createRoomProblem({ is_direct: true, name: "x" }, false, [])!, /no name/);
  assert.equal(createRoomProblem({ is_direct: true, invite: ["@x:s"] }, false, ["@x:s"]), undefined);
  assert.match(createRoomProblem({ invite: ["@x:s"] }, false, ["@x:s"])!, /not open to externals/);
  assert.equal(createRoomProblem({ invite: ["@x:s"], initial_state: [{ type: RULES, content: { rule: "unrestricted" } }] }, false, ["@x:s"]), undefined);
  assert.match(createRoomProblem({ initial_state: [{ type: RULES, content: { rule: "open" } }] }, false, [])!, /must be/);
});

test("applied: rule as initial state, Tchap levels under the client's override, externals at 0", () => {
  const out = applyCreatePolicy({ is_direct: true, invite: ["@x:s"], preset: "trusted_private_chat" }, ["@x:s"], true);
  assert.deepEqual(out.initial_state, [{ type: RULES, state_key: "", content: { rule: "direct" } }]);
  assert.deepEqual(out.power_level_content_override, { ...TCHAP_POWER_LEVELS, users: { "@x:s": 0 } });
  assert.equal(out.preset, "private_chat");
  const custom = applyCreatePolicy({ power_level_content_override: { invite: 0 } }, [], true);
  assert.equal(custom.power_level_content_override!.invite, 0);
  assert.equal(custom.power_level_content_override!.state_default, 100);
  assert.deepEqual(applyCreatePolicy({}, [], false).power_level_content_override, {});
  // A rule given by the client is kept as is.
  const given = applyCreatePolicy({ initial_state: [{ type: RULES, state_key: "", content: { rule: "unrestricted" } }] }, [], true);
  assert.equal(given.initial_state!.filter((e) => e.type === RULES).length, 1);
});
