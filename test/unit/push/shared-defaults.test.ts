/**
 * The shared evaluation of the default push rules (src/push/shared-defaults.ts) decides exactly as
 * evaluating each user's own default ruleset would, for every kind of event the defaults tell apart.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { evaluate, type PushContext } from "../../../src/matrix/push-rules.js";
import { defaultRuleset } from "../../../src/matrix/push-rules-default.js";
import { EventEvaluation } from "../../../src/push/shared-defaults.js";

const USERS = ["@a:example.org", "@b:example.org", "@c:example.org", "@k:example.org"];
const SENDER = "@s:example.org";
const base = { sender: SENDER, room_id: "!r:example.org", event_id: "$e" };
const EVENTS: Array<Record<string, unknown>> = [
  { ...base, type: "m.room.message", content: { msgtype: "m.text", body: "hello b" } },
  { ...base, type: "m.room.message", content: { msgtype: "m.notice", body: "bot" } },
  { ...base, type: "m.room.message", content: { body: "hi", "m.mentions": { user_ids: ["@b:example.org"] } } },
  { ...base, type: "m.room.message", content: { body: "all", "m.mentions": { room: true } } },
  { ...base, type: "m.room.member", state_key: "@c:example.org", content: { membership: "invite" } },
  { ...base, type: "m.room.member", state_key: "@x:example.org", content: { membership: "join" } },
  { ...base, type: "m.room.encrypted", content: { algorithm: "m.megolm.v1.aes-sha2" } },
  { ...base, type: "m.reaction", content: { "m.relates_to": { rel_type: "m.annotation", event_id: "$t", key: "👍" } } },
  { ...base, type: "m.room.message", content: { body: "* edit", "m.relates_to": { rel_type: "m.replace", event_id: "$t" } } },
  { ...base, type: "m.room.tombstone", state_key: "", content: { body: "moved", replacement_room: "!n:example.org" } },
  { ...base, type: "m.call.invite", content: {} },
  // Users named outside member events: only by appearing in m.mentions.user_ids, compared exactly.
  { ...base, type: "m.room.message", content: { body: "two", "m.mentions": { user_ids: ["@a:example.org", "@c:example.org", 5] } } },
  { ...base, type: "m.room.message", content: { body: "not a list", "m.mentions": { user_ids: "@b:example.org" } } },
  { ...base, type: "m.room.message", content: { body: "case", "m.mentions": { user_ids: ["@B:example.org"] } } },
  { ...base, type: "m.room.message", content: { body: "odd", "m.mentions": "@b:example.org" } },
  // event_match on the type is case-insensitive: an invite still names its target.
  { ...base, type: "M.Room.Member", state_key: "@c:example.org", content: { membership: "invite" } },
  { ...base, type: "m.room.member", state_key: "@C:Example.org", content: { membership: "invite" } },
  { ...base, type: "m.room.member", state_key: "@\u212a:example.org", content: { membership: "invite" } },
  { ...base, type: "m.room.member", state_key: "@a:example.org", content: { membership: "join", "m.mentions": { user_ids: ["@b:example.org"] } } },
];

test("shared default evaluation equals each user's own evaluation", () => {
  for (const memberCount of [2, 5]) {
    for (const senderPowerLevel of [0, 100]) {
      for (const event of EVENTS) {
        const shared = new EventEvaluation(event);
        for (const userId of USERS) {
          const ctx: PushContext = { userId, displayName: userId.slice(1, 2), memberCount, senderPowerLevel, notificationLevels: { room: 50 } };
          const rs = defaultRuleset(userId);
          const expected = evaluate(rs, event, ctx);
          const got = shared.forUser(rs, true, ctx);
          assert.equal(got?.rule.rule_id, expected?.rule.rule_id, `${userId} ${JSON.stringify(event.content)} members=${memberCount} power=${senderPowerLevel}`);
          assert.deepEqual(got?.rule.actions, expected?.rule.actions);
        }
      }
    }
  }
});
