// Deciding the push rules once per event for everyone on the server's default rules.
// Why: every message ran every member's ~15 rules (bench/rooms.ts, a room of 64: a tenth of the
// server's CPU per send). Two default users' rulesets differ only in the rules that name the user
// (.m.rule.invite_for_me: the invite's state_key; .m.rule.is_user_mention: m.mentions.user_ids);
// no other default condition depends on who reads (member count, sender's power and the event are
// the same for all; contains_display_name is not among the defaults). So for a default user whom
// neither of those rules matches, the first matching rule is the first matching rule of the
// defaults without them, evaluated once per event. A user they do match is evaluated in full.
import { evaluate, ruleMatches, type PushContext, type PushRule, type PushRuleKind, type Ruleset } from "../matrix/push-rules.js";
import { defaultRuleset } from "../matrix/push-rules-default.js";

/** The default rules that name their user (push-rules-default.ts), all of kind override. */
const NAMING_THE_USER = new Set([".m.rule.invite_for_me", ".m.rule.is_user_mention"]);

/** A user id no event can name: the defaults built for it, minus the rules that name a user. */
const ANONYMOUS = "@\u0000:\u0000";
const anonymous: Ruleset = (() => {
  const d = defaultRuleset(ANONYMOUS);
  return { ...d, override: d.override.filter((r) => !NAMING_THE_USER.has(r.rule_id)) };
})();

type Hit = { kind: PushRuleKind; rule: PushRule } | undefined;

/** The rules of one default ruleset that name its user, found once per ruleset. */
const namingRules = new WeakMap<Ruleset, PushRule[]>();

function rulesNaming(rs: Ruleset): PushRule[] {
  let r = namingRules.get(rs);
  if (!r) namingRules.set(rs, (r = rs.override.filter((x) => NAMING_THE_USER.has(x.rule_id))));
  return r;
}

/** Evaluates one event for many users; `shared` lets default users share one evaluation. */
export class EventEvaluation {
  private anonymousHit: { value: Hit } | undefined;
  /**
   * Outside member events (the only ones .m.rule.invite_for_me can match: its type condition is a
   * case-insensitive glob, hence the lower-casing), a default user is named only by appearing in
   * m.mentions.user_ids, compared exactly (event_property_contains): the users named are then
   * known without running the rules per member (a room of 1,000 ran them 1,000 times per message).
   */
  private readonly mentioned: Set<unknown> | undefined;

  constructor(private readonly event: Record<string, unknown>) {
    if (typeof event.type === "string" && event.type.toLowerCase() === "m.room.member") return;
    const ids = ((event.content as Record<string, unknown> | undefined)?.["m.mentions"] as Record<string, unknown> | undefined)?.user_ids;
    this.mentioned = new Set(Array.isArray(ids) ? ids : []);
  }

  /** The rule that decides for this user (as `evaluate`); `isDefault`: rs is the unchanged defaults. */
  forUser(rs: Ruleset, isDefault: boolean, ctx: PushContext): Hit {
    if (!isDefault || this.event.sender === ctx.userId) return evaluate(rs, this.event, ctx);
    if (this.mentioned) return this.mentioned.has(ctx.userId) ? evaluate(rs, this.event, ctx) : this.shared(ctx);
    for (const r of rulesNaming(rs)) if (ruleMatches("override", r, this.event, ctx)) return evaluate(rs, this.event, ctx);
    return this.shared(ctx);
  }

  /**
   * The outcome of every default user the event does not name (migration 0016 stores it once per
   * event). The context differs between users only in userId and displayName, which no remaining
   * default reads. `forUser` returns this very object for such users.
   */
  shared(ctx: PushContext): Hit {
    this.anonymousHit ??= { value: evaluate(anonymous, this.event, { ...ctx, userId: ANONYMOUS, displayName: undefined }) };
    return this.anonymousHit.value;
  }
}
