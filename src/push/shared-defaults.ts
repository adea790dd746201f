// Deciding the push rules once per event for everyone on the server's default rules.
// Why: every message ran every member's ~15 rules (bench/rooms.ts, a room of 64: a tenth of the
// server's CPU per send). Two default users' rulesets differ only in the rules that name the user
// (.m.rule.invite_for_me: the invite's state_key; .m.rule.is_user_mention: m.mentions.user_ids);
// no other default condition depends on who reads (member count, sender's power and the event are
// the same for all; contains_display_name is not among the defaults). So for a default user whom
// neither of those rules matches, the first matching rule is the first matching rule of the
// defaults without them, evaluated once per event. A user they do match is evaluated in full.
import { evaluate, type PushContext, type PushRule, type PushRuleKind, type Ruleset } from "../matrix/push-rules.js";
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

/** Glob characters, or anything outside ASCII. */
const NOT_PLAIN = /[*?\u0080-\u{10ffff}]/u;

/** Evaluates one event for many users; `shared` lets default users share one evaluation. */
export class EventEvaluation {
  private anonymousHit: { value: Hit } | undefined;
  /**
   * The default user an event may name, known without running the rules per member (a room of
   * 1,000 ran them 1,000 times per event): .m.rule.is_user_mention names the users of
   * m.mentions.user_ids (event_property_contains: exact values); .m.rule.invite_for_me only the
   * state_key of a member event, matched as a case-insensitive glob (event_match), hence the
   * lower-casing (a state_key outside ASCII, where Unicode case folding and toLowerCase differ, and
   * a user id with a glob character are evaluated in full instead).
   */
  private readonly mentioned: Set<unknown>;
  private readonly target: string | undefined;

  constructor(private readonly event: Record<string, unknown>) {
    const ids = ((event.content as Record<string, unknown> | undefined)?.["m.mentions"] as Record<string, unknown> | undefined)?.user_ids;
    this.mentioned = new Set(Array.isArray(ids) ? ids : []);
    if (typeof event.type === "string" && event.type.toLowerCase() === "m.room.member" && typeof event.state_key === "string") this.target = event.state_key.toLowerCase();
  }

  /** The rule that decides for this user (as `evaluate`); `isDefault`: rs is the unchanged defaults. */
  forUser(rs: Ruleset, isDefault: boolean, ctx: PushContext): Hit {
    if (!isDefault || this.event.sender === ctx.userId) return evaluate(rs, this.event, ctx);
    const t = this.target;
    const named = this.mentioned.has(ctx.userId) || (t !== undefined && (NOT_PLAIN.test(t) || NOT_PLAIN.test(ctx.userId) || ctx.userId.toLowerCase() === t));
    return named ? evaluate(rs, this.event, ctx) : this.shared(ctx);
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
