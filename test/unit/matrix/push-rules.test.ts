/**
 * Push rule evaluation (client-server API "Push Rules", "Conditions", "Predefined Rules"), checked
 * against the spec's own examples, every condition kind, and the default rule set.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { conditionMatches, evaluate, globMatches, lookup, normalizeActions, outcomeOf, splitPath, type PushContext, type PushRule } from "../../../src/matrix/push-rules.js";
import { defaultRuleset, mergeRuleset } from "../../../src/matrix/push-rules-default.js";

const ME = "@me:example.org";
const OTHER = "@other:example.org";
const ctx = (over: Partial<PushContext> = {}): PushContext => ({ userId: ME, displayName: "Alice Liddell", memberCount: 5, senderPowerLevel: 0, notificationLevels: { room: 50 }, ...over });
const msg = (content: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({ type: "m.room.message", sender: OTHER, room_id: "!r:example.org", event_id: "$e", content, ...extra });
const ruleOf = (event: Record<string, unknown>, c: PushContext = ctx()) => evaluate(defaultRuleset(ME), event, c)?.rule.rule_id;

describe("dot-separated paths", () => {
  test("escaped dots and backslashes", () => {
    assert.deepEqual(splitPath("content.m\\.relates_to.rel_type"), ["content", "m.relates_to", "rel_type"]);
    assert.deepEqual(splitPath("a\\\\.b"), ["a\\", "b"]);
    assert.equal(lookup({ content: { "m.federate": true } }, "content.m\\.federate"), true);
    assert.equal(lookup({ content: {} }, "content.missing"), undefined);
  });
});

describe("event_match", () => {
  const topic = (t: unknown) => ({ type: "m.room.topic", state_key: "", sender: OTHER, content: { topic: t } });
  const cond = { kind: "event_match", key: "content.topic", pattern: "lunc?*" };
  test("spec example: lunc?* matches the whole value, case-insensitively", () => {
    assert.ok(conditionMatches(cond, topic("Lunch plans"), ctx()));
    assert.ok(conditionMatches(cond, topic("LUNCH"), ctx()));
    assert.ok(!conditionMatches(cond, topic(" lunch"), ctx()));
    assert.ok(!conditionMatches(cond, topic("lunc"), ctx()));
    assert.ok(!conditionMatches(cond, topic(null), ctx()));
  });
  test("an absent or non-string property never matches, even with *", () => {
    assert.ok(!conditionMatches({ kind: "event_match", key: "content.nothing", pattern: "*" }, topic("x"), ctx()));
    assert.ok(!conditionMatches({ kind: "event_match", key: "content.topic", pattern: "*" }, topic(5), ctx()));
  });
  test("content.body matches at word boundaries (spec example ex*ple)", () => {
    const c = { kind: "event_match", key: "content.body", pattern: "ex*ple" };
    for (const body of ["An example event.", "exple", "An exciting triple-whammy"]) assert.ok(conditionMatches(c, msg({ body }), ctx()), body);
    assert.ok(!conditionMatches(c, msg({ body: "examples" }), ctx()));
    assert.ok(!conditionMatches({ kind: "event_match", key: "content.body", pattern: "cake" }, msg({ body: "cupcakes" }), ctx()));
  });
  test("regex metacharacters in patterns are literal", () => {
    assert.ok(globMatches("a.b", "a.b", false));
    assert.ok(!globMatches("a.b", "axb", false));
    assert.ok(globMatches("(x)", "(X)", false));
  });
});

describe("event_property_is / event_property_contains", () => {
  test("exact values, no casting (spec example m.federate)", () => {
    const c = { kind: "event_property_is", key: "content.m\\.federate", value: true };
    assert.ok(conditionMatches(c, { content: { "m.federate": true } }, ctx()));
    assert.ok(!conditionMatches(c, { content: { "m.federate": "true" } }, ctx()));
    assert.ok(!conditionMatches(c, { content: { "m.federate": 1 } }, ctx()));
    assert.ok(!conditionMatches(c, { content: {} }, ctx()));
    assert.ok(conditionMatches({ kind: "event_property_is", key: "content.x", value: null }, { content: { x: null } }, ctx()));
    assert.ok(!conditionMatches({ kind: "event_property_is", key: "content.x", value: { a: 1 } }, { content: { x: { a: 1 } } }, ctx()));
  });
  test("array membership (spec example alt_aliases)", () => {
    const c = { kind: "event_property_contains", key: "content.alt_aliases", value: "#myroom:example.com" };
    assert.ok(conditionMatches(c, { content: { alt_aliases: ["#somewhere:example.org", "#myroom:example.com"] } }, ctx()));
    assert.ok(!conditionMatches({ ...c, value: ":example.com" }, { content: { alt_aliases: ["#myroom:example.com"] } }, ctx()));
    assert.ok(!conditionMatches(c, { content: { alt_aliases: "#myroom:example.com" } }, ctx()));
  });
});

describe("other conditions", () => {
  test("contains_display_name at word boundaries", () => {
    const c = { kind: "contains_display_name" };
    assert.ok(conditionMatches(c, msg({ body: "hi alice liddell!" }), ctx()));
    assert.ok(!conditionMatches(c, msg({ body: "hi alice liddellx" }), ctx()));
    assert.ok(!conditionMatches(c, msg({ body: "hi" }), ctx({ displayName: undefined })));
  });
  test("room_member_count with each prefix", () => {
    const m = (is: string, n: number) => conditionMatches({ kind: "room_member_count", is }, msg({}), ctx({ memberCount: n }));
    assert.ok(m("2", 2) && !m("2", 3));
    assert.ok(m("==2", 2));
    assert.ok(m("<3", 2) && !m("<3", 3));
    assert.ok(m(">3", 4) && !m(">3", 3));
    assert.ok(m("<=3", 3) && !m("<=3", 4));
    assert.ok(m(">=3", 3) && !m(">=3", 2));
    assert.ok(!m("abc", 2) && !m("=2", 2));
  });
  test("sender_notification_permission uses power_levels.notifications", () => {
    const c = { kind: "sender_notification_permission", key: "room" };
    assert.ok(conditionMatches(c, msg({}), ctx({ senderPowerLevel: 50 })));
    assert.ok(!conditionMatches(c, msg({}), ctx({ senderPowerLevel: 49 })));
    assert.ok(conditionMatches(c, msg({}), ctx({ senderPowerLevel: 10, notificationLevels: { room: 10 } })));
  });
  test("unknown condition kinds never match", () => {
    assert.ok(!conditionMatches({ kind: "org.example.unknown" }, msg({}), ctx()));
  });
});

describe("default rules", () => {
  test("a message notifies, one-to-one with a sound, a notice does not", () => {
    assert.equal(ruleOf(msg({ msgtype: "m.text", body: "hi" })), ".m.rule.message");
    assert.equal(ruleOf(msg({ msgtype: "m.text", body: "hi" }), ctx({ memberCount: 2 })), ".m.rule.room_one_to_one");
    const notice = evaluate(defaultRuleset(ME), msg({ msgtype: "m.notice", body: "bot" }), ctx())!;
    assert.equal(notice.rule.rule_id, ".m.rule.suppress_notices");
    assert.equal(outcomeOf(notice.rule.actions).notify, false);
  });
  test("encrypted rooms: one-to-one and group", () => {
    const enc = { type: "m.room.encrypted", sender: OTHER, content: { algorithm: "m.megolm.v1.aes-sha2", ciphertext: "x" } };
    assert.equal(ruleOf(enc, ctx({ memberCount: 2 })), ".m.rule.encrypted_room_one_to_one");
    assert.equal(ruleOf(enc), ".m.rule.encrypted");
  });
  test("user mention highlights; room mention needs the power level", () => {
    const um = evaluate(defaultRuleset(ME), msg({ body: "hey", "m.mentions": { user_ids: [ME] } }), ctx())!;
    assert.equal(um.rule.rule_id, ".m.rule.is_user_mention");
    assert.deepEqual(outcomeOf(um.rule.actions), { notify: true, highlight: true, actions: um.rule.actions });
    assert.equal(ruleOf(msg({ body: "all", "m.mentions": { room: true } }), ctx({ senderPowerLevel: 50 })), ".m.rule.is_room_mention");
    assert.equal(ruleOf(msg({ body: "all", "m.mentions": { room: true } }), ctx({ senderPowerLevel: 0 })), ".m.rule.message");
    // Someone else's mention is an ordinary message.
    assert.equal(ruleOf(msg({ body: "hey", "m.mentions": { user_ids: [OTHER] } })), ".m.rule.message");
  });
  test("edits, reactions, member events, server ACLs are silent; invites and tombstones notify", () => {
    assert.equal(ruleOf(msg({ body: "* fixed", "m.relates_to": { rel_type: "m.replace", event_id: "$x" } })), ".m.rule.suppress_edits");
    assert.equal(ruleOf({ type: "m.reaction", sender: OTHER, content: {} }), ".m.rule.reaction");
    assert.equal(ruleOf({ type: "m.room.member", sender: OTHER, state_key: OTHER, content: { membership: "join" } }), ".m.rule.member_event");
    assert.equal(ruleOf({ type: "m.room.server_acl", sender: OTHER, state_key: "", content: {} }), ".m.rule.room.server_acl");
    assert.equal(ruleOf({ type: "m.room.member", sender: OTHER, state_key: ME, content: { membership: "invite" } }), ".m.rule.invite_for_me");
    assert.equal(ruleOf({ type: "m.room.tombstone", sender: OTHER, state_key: "", content: {} }), ".m.rule.tombstone");
    assert.equal(ruleOf({ type: "m.call.invite", sender: OTHER, content: {} }), ".m.rule.call");
    assert.equal(ruleOf({ type: "org.example.custom", sender: OTHER, content: {} }), undefined);
  });
  test("the user's own events never match", () => {
    assert.equal(ruleOf(msg({ body: "mine" }, { sender: ME })), undefined);
  });
  test("the rule set has every spec rule in the spec's order", () => {
    const d = defaultRuleset(ME);
    assert.deepEqual(
      d.override.map((r) => r.rule_id),
      [".m.rule.master", ".m.rule.suppress_notices", ".m.rule.invite_for_me", ".m.rule.member_event", ".m.rule.is_user_mention", ".m.rule.is_room_mention", ".m.rule.tombstone", ".m.rule.reaction", ".m.rule.room.server_acl", ".m.rule.suppress_edits"],
    );
    assert.deepEqual(d.underride.map((r) => r.rule_id), [".m.rule.call", ".m.rule.encrypted_room_one_to_one", ".m.rule.room_one_to_one", ".m.rule.message", ".m.rule.encrypted"]);
    assert.equal(d.override[0]!.enabled, false);
  });
});

describe("priority and user rules", () => {
  const own = (override: PushRule[] = [], extra: Partial<Record<"content" | "room" | "sender" | "underride", PushRule[]>> = {}) => ({ override, content: [], room: [], sender: [], underride: [], ...extra });
  const r = (rule_id: string, actions: PushRule["actions"], more: Partial<PushRule> = {}): PushRule => ({ rule_id, default: false, enabled: true, actions, ...more });
  test("the master rule, once enabled, silences everything, user overrides included", () => {
    const rs = mergeRuleset(ME, own([r("loud", ["notify"], { conditions: [] })]), new Map([[".m.rule.master", { enabled: true }]]));
    const hit = evaluate(rs, msg({ body: "x", "m.mentions": { user_ids: [ME] } }), ctx())!;
    assert.equal(hit.rule.rule_id, ".m.rule.master");
    assert.equal(outcomeOf(hit.rule.actions).notify, false);
  });
  test("user rules come before defaults of their kind; kinds in order override, content, room, sender, underride", () => {
    const rs = mergeRuleset(
      ME,
      own([], {
        content: [r("cake", ["notify", { set_tweak: "sound", value: "cakealarm.wav" }], { pattern: "cake" })],
        room: [r("!r:example.org", [])],
        sender: [r(OTHER, ["notify", { set_tweak: "highlight" }])],
      }),
      new Map(),
    );
    assert.equal(evaluate(rs, msg({ body: "time for cake" }), ctx())!.rule.rule_id, "cake");
    assert.equal(evaluate(rs, msg({ body: "time for tea" }), ctx())!.rule.rule_id, "!r:example.org");
    assert.equal(evaluate(rs, msg({ body: "tea" }, { room_id: "!elsewhere:example.org" }), ctx())!.rule.rule_id, OTHER);
    // A user mention (override) still beats the content rule.
    assert.equal(evaluate(rs, msg({ body: "cake", "m.mentions": { user_ids: [ME] } }), ctx())!.rule.rule_id, ".m.rule.is_user_mention");
  });
  test("disabled rules never match; changed default actions apply", () => {
    const rs = mergeRuleset(ME, own(), new Map([[".m.rule.message", { enabled: false }], [".m.rule.encrypted", { actions: [] }]]));
    assert.equal(evaluate(rs, msg({ body: "x" }), ctx()), undefined);
    assert.deepEqual(evaluate(rs, { type: "m.room.encrypted", sender: OTHER, content: {} }, ctx())!.rule.actions, []);
  });
  test("historical actions are stripped; highlight without a value is true", () => {
    assert.deepEqual(normalizeActions(["dont_notify", "coalesce", "notify"]), ["notify"]);
    assert.equal(outcomeOf(["dont_notify"]).notify, false);
    assert.equal(outcomeOf(["notify", { set_tweak: "highlight", value: false }]).highlight, false);
    assert.equal(outcomeOf(["notify", { set_tweak: "highlight" }]).highlight, true);
  });
});
