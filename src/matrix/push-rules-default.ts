// The server-default push rules (client-server API "Predefined Rules", v1.17: the legacy body-based
// mention rules are gone, so there are no default content rules). Rule ids start with a dot.
import type { PushAction, PushRule, PushRuleKind, Ruleset } from "./push-rules.js";

const sound = (value: string): PushAction => ({ set_tweak: "sound", value });
const HIGHLIGHT: PushAction = { set_tweak: "highlight" };

// Shared by every user's copy of the defaults (never mutated), so that per-event work keyed by the
// actions array (e.g. serialising them) is done once per event rather than once per member.
const NONE: PushAction[] = [];
const NOTIFY: PushAction[] = ["notify"];
const NOTIFY_SOUND: PushAction[] = ["notify", sound("default")];
const NOTIFY_SOUND_HIGHLIGHT: PushAction[] = ["notify", sound("default"), HIGHLIGHT];
const NOTIFY_HIGHLIGHT: PushAction[] = ["notify", HIGHLIGHT];
const RING: PushAction[] = ["notify", sound("ring")];

function rule(rule_id: string, conditions: PushRule["conditions"], actions: PushAction[], enabled = true): PushRule {
  return { rule_id, default: true, enabled, conditions, actions };
}

/** `.m.rule.master` sits above every rule, user rules included ("Predefined Rules"). */
export function masterRule(): PushRule {
  return rule(".m.rule.master", [], NONE, false);
}

/** Default override rules after the master, in the spec's order. */
export function defaultOverrideRules(userId: string): PushRule[] {
  return [
    rule(".m.rule.suppress_notices", [{ kind: "event_match", key: "content.msgtype", pattern: "m.notice" }], NONE),
    rule(
      ".m.rule.invite_for_me",
      [
        { key: "type", kind: "event_match", pattern: "m.room.member" },
        { key: "content.membership", kind: "event_match", pattern: "invite" },
        { key: "state_key", kind: "event_match", pattern: userId },
      ],
      NOTIFY_SOUND,
    ),
    rule(".m.rule.member_event", [{ key: "type", kind: "event_match", pattern: "m.room.member" }], NONE),
    rule(".m.rule.is_user_mention", [{ kind: "event_property_contains", key: "content.m\\.mentions.user_ids", value: userId }], NOTIFY_SOUND_HIGHLIGHT),
    rule(
      ".m.rule.is_room_mention",
      [
        { kind: "event_property_is", key: "content.m\\.mentions.room", value: true },
        { kind: "sender_notification_permission", key: "room" },
      ],
      NOTIFY_HIGHLIGHT,
    ),
    rule(
      ".m.rule.tombstone",
      [
        { kind: "event_match", key: "type", pattern: "m.room.tombstone" },
        { kind: "event_match", key: "state_key", pattern: "" },
      ],
      NOTIFY_HIGHLIGHT,
    ),
    rule(".m.rule.reaction", [{ kind: "event_match", key: "type", pattern: "m.reaction" }], NONE),
    rule(
      ".m.rule.room.server_acl",
      [
        { kind: "event_match", key: "type", pattern: "m.room.server_acl" },
        { kind: "event_match", key: "state_key", pattern: "" },
      ],
      NONE,
    ),
    rule(".m.rule.suppress_edits", [{ kind: "event_property_is", key: "content.m\\.relates_to.rel_type", value: "m.replace" }], NONE),
  ];
}

export function defaultUnderrideRules(): PushRule[] {
  return [
    rule(".m.rule.call", [{ key: "type", kind: "event_match", pattern: "m.call.invite" }], RING),
    rule(
      ".m.rule.encrypted_room_one_to_one",
      [
        { kind: "room_member_count", is: "2" },
        { kind: "event_match", key: "type", pattern: "m.room.encrypted" },
      ],
      NOTIFY_SOUND,
    ),
    rule(
      ".m.rule.room_one_to_one",
      [
        { kind: "room_member_count", is: "2" },
        { kind: "event_match", key: "type", pattern: "m.room.message" },
      ],
      NOTIFY_SOUND,
    ),
    rule(".m.rule.message", [{ kind: "event_match", key: "type", pattern: "m.room.message" }], NOTIFY),
    rule(".m.rule.encrypted", [{ kind: "event_match", key: "type", pattern: "m.room.encrypted" }], NOTIFY),
  ];
}

/** Every default rule of a user, by kind, in priority order (master first among overrides). */
export function defaultRuleset(userId: string): Ruleset {
  return { override: [masterRule(), ...defaultOverrideRules(userId)], content: [], room: [], sender: [], underride: defaultUnderrideRules() };
}

export function isDefaultRuleId(ruleId: string): boolean {
  return ruleId.startsWith(".");
}

/** Merges a user's own rules with the defaults: master, user rules, then defaults, per kind. */
export function mergeRuleset(userId: string, user: Record<PushRuleKind, PushRule[]>, defaultsChanged: Map<string, { enabled?: boolean; actions?: PushAction[] }>): Ruleset {
  const d = defaultRuleset(userId);
  const apply = (r: PushRule): PushRule => {
    const ch = defaultsChanged.get(r.rule_id);
    return ch ? { ...r, enabled: ch.enabled ?? r.enabled, actions: ch.actions ?? r.actions } : r;
  };
  const [master, ...overrides] = d.override;
  return {
    override: [apply(master!), ...user.override, ...overrides.map(apply)],
    content: [...user.content, ...d.content.map(apply)],
    room: [...user.room, ...d.room.map(apply)],
    sender: [...user.sender, ...d.sender.map(apply)],
    underride: [...user.underride, ...d.underride.map(apply)],
  };
}
