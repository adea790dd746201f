// Push rules per user (client-server API "Push Rules: API"): the server defaults merged with the
// user's own rules, CRUD with before/after ordering, and the m.push_rules account data event that
// clients read from /sync ("Push Rules: Events"). Rulesets are cached for the evaluator.
import type { Storage, Db } from "../storage/database.js";
import { pushRulesRepo, type PushRuleRow } from "../storage/push-rules.js";
import { PUSH_RULE_KINDS, normalizeActions, type PushAction, type PushCondition, type PushRule, type PushRuleKind, type Ruleset } from "../matrix/push-rules.js";
import { defaultRuleset, isDefaultRuleId, mergeRuleset } from "../matrix/push-rules-default.js";
import type { AccountData } from "../accounts/account-data.js";
import { MatrixError, invalidParam, missingParam, notFound } from "../http/errors.js";

const CACHE_USERS = 20_000;
const MAX_RULES_PER_KIND = 500;

export interface PushRuleBody {
  actions: PushAction[];
  conditions?: PushCondition[];
  pattern?: string;
}

export function isPushRuleKind(k: string): k is PushRuleKind {
  return (PUSH_RULE_KINDS as readonly string[]).includes(k);
}

/** A rule as the API shows it: conditions only for override/underride, pattern only for content. */
function clientRule(kind: PushRuleKind, r: PushRule): Record<string, unknown> {
  const out: Record<string, unknown> = { rule_id: r.rule_id, default: r.default, enabled: r.enabled, actions: r.actions };
  if (kind === "override" || kind === "underride") out.conditions = r.conditions ?? [];
  if (kind === "content" && r.pattern !== undefined) out.pattern = r.pattern;
  return out;
}

export function clientRuleset(rs: Ruleset): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const k of PUSH_RULE_KINDS) out[k] = rs[k].map((r) => clientRule(k, r));
  return out;
}

function rowToRule(r: PushRuleRow): PushRule {
  const rule: PushRule = { rule_id: r.rule_id, default: false, enabled: r.enabled === 1, actions: JSON.parse(r.actions) as PushAction[] };
  if (r.conditions !== null) rule.conditions = JSON.parse(r.conditions) as PushCondition[];
  if (r.pattern !== null) rule.pattern = r.pattern;
  return rule;
}

// Rulesets that are exactly the server defaults (no rule of the user's own, no default changed):
// the evaluator decides for all such users of a room at once (src/push/shared-defaults.ts).
const untouched = new WeakSet<Ruleset>();

/** Whether `rs` (from rulesetsFor) is the server's defaults, unchanged by its user. */
export const hasOnlyServerDefaults = (rs: Ruleset): boolean => untouched.has(rs);

export class PushRules {
  private cache = new Map<string, Ruleset>();
  private generation = 0;

  constructor(
    private readonly storage: Storage,
    private readonly accountData: AccountData,
  ) {}

  /** Rulesets of many users at once, read through `db` (the writer's transaction in the hook). */
  async rulesetsFor(userIds: string[], db: Db = this.storage.db): Promise<Map<string, Ruleset>> {
    const out = new Map<string, Ruleset>();
    const missing: string[] = [];
    for (const u of userIds) {
      const hit = this.cache.get(u);
      if (hit) out.set(u, hit);
      else missing.push(u);
    }
    // A change committed while this read runs must not leave the older rules cached.
    const gen = this.generation;
    for (let i = 0; i < missing.length; i += 500) {
      const chunk = missing.slice(i, i + 500);
      const repo = pushRulesRepo(db);
      const [rows, changes] = await Promise.all([repo.forUsers(chunk), repo.defaultChangesForUsers(chunk)]);
      const own = new Map<string, Record<PushRuleKind, PushRule[]>>();
      const changed = new Map<string, Map<string, { enabled?: boolean; actions?: PushAction[] }>>();
      for (const r of rows) {
        if (!isPushRuleKind(r.kind)) continue;
        let o = own.get(r.user_id);
        if (!o) own.set(r.user_id, (o = { override: [], content: [], room: [], sender: [], underride: [] }));
        o[r.kind].push(rowToRule(r));
      }
      for (const c of changes) {
        let m = changed.get(c.user_id);
        if (!m) changed.set(c.user_id, (m = new Map()));
        m.set(c.rule_id, { enabled: c.enabled === null ? undefined : c.enabled === 1, actions: c.actions === null ? undefined : (JSON.parse(c.actions) as PushAction[]) });
      }
      for (const u of chunk) {
        const rs = mergeRuleset(u, own.get(u) ?? { override: [], content: [], room: [], sender: [], underride: [] }, changed.get(u) ?? new Map());
        if (!own.has(u) && !changed.has(u)) untouched.add(rs);
        out.set(u, rs);
        if (gen === this.generation) this.remember(u, rs);
      }
    }
    return out;
  }

  async ruleset(userId: string): Promise<Ruleset> {
    return (await this.rulesetsFor([userId])).get(userId)!;
  }

  private remember(userId: string, rs: Ruleset): void {
    this.cache.set(userId, rs);
    if (this.cache.size > CACHE_USERS) this.cache.delete(this.cache.keys().next().value!);
  }

  /** The m.push_rules account data content. */
  async accountDataContent(userId: string): Promise<Record<string, unknown>> {
    return { global: clientRuleset(await this.ruleset(userId)) };
  }

  async getRule(userId: string, kind: string, ruleId: string): Promise<Record<string, unknown>> {
    const { k, rule } = await this.find(userId, kind, ruleId);
    return clientRule(k, rule);
  }

  private async find(userId: string, kind: string, ruleId: string): Promise<{ k: PushRuleKind; rule: PushRule }> {
    if (!isPushRuleKind(kind)) throw invalidParam("Unknown push rule kind");
    const rule = (await this.ruleset(userId))[kind].find((r) => r.rule_id === ruleId);
    if (!rule) throw notFound("The push rule was not found.");
    return { k: kind, rule };
  }

  /** PUT /pushrules/global/{kind}/{ruleId}. */
  async put(userId: string, kind: string, ruleId: string, body: PushRuleBody, pos: { before?: string; after?: string }): Promise<void> {
    if (!isPushRuleKind(kind)) throw invalidParam("Unknown push rule kind");
    if (isDefaultRuleId(ruleId)) throw invalidParam("Rule ids starting with '.' are reserved for server-default rules");
    if (/[/\\]/.test(ruleId)) throw invalidParam("Rule ids may not contain slashes or backslashes");
    if (kind === "room" && !ruleId.startsWith("!")) throw invalidParam("A room rule's id is a room id");
    if (kind === "sender" && !ruleId.startsWith("@")) throw invalidParam("A sender rule's id is a user id");
    if (kind === "content" && typeof body.pattern !== "string") throw missingParam("Content rules need a pattern");
    const row = {
      rule_id: ruleId,
      conditions: kind === "override" || kind === "underride" ? JSON.stringify(body.conditions ?? []) : null,
      pattern: kind === "content" ? body.pattern! : null,
      actions: JSON.stringify(normalizeActions(body.actions)),
      enabled: 1,
    };
    await this.storage.db.transaction().execute(async (tx) => {
      const repo = pushRulesRepo(tx);
      const current = (await repo.forUsers([userId])).filter((r) => r.kind === kind);
      const existing = current.find((r) => r.rule_id === ruleId);
      // An update keeps the rule's enabled flag; creation enables it ("MUST be enabled by default").
      if (existing) row.enabled = existing.enabled;
      let list = current.filter((r) => r.rule_id !== ruleId);
      const anchorId = pos.before ?? pos.after;
      if (anchorId !== undefined) {
        const at = list.findIndex((r) => r.rule_id === anchorId);
        if (at < 0) throw new MatrixError(400, "M_UNKNOWN", `before/after rule not found: ${anchorId}`);
        // With both, `before` wins (spec: "the next most important rule with respect to before").
        list.splice(pos.before !== undefined ? at : at + 1, 0, { ...row, user_id: userId, kind, ord: 0 });
      } else if (existing) {
        list.splice(current.indexOf(existing), 0, { ...row, user_id: userId, kind, ord: 0 });
      } else {
        list = [{ ...row, user_id: userId, kind, ord: 0 }, ...list];
      }
      if (list.length > MAX_RULES_PER_KIND) throw new MatrixError(400, "M_LIMIT_EXCEEDED", "Too many push rules");
      await repo.replaceKind(
        userId,
        kind,
        list.map(({ rule_id, conditions, pattern, actions, enabled }) => ({ rule_id, conditions, pattern, actions, enabled })),
      );
    });
    await this.changed(userId);
  }

  async delete(userId: string, kind: string, ruleId: string): Promise<void> {
    const { rule } = await this.find(userId, kind, ruleId);
    if (rule.default) throw new MatrixError(400, "M_INVALID_PARAM", "Server-default rules cannot be deleted");
    await this.storage.db.transaction().execute(async (tx) => {
      const repo = pushRulesRepo(tx);
      const rest = (await repo.forUsers([userId])).filter((r) => r.kind === kind && r.rule_id !== ruleId);
      await repo.replaceKind(userId, kind, rest.map(({ rule_id, conditions, pattern, actions, enabled }) => ({ rule_id, conditions, pattern, actions, enabled })));
    });
    await this.changed(userId);
  }

  async getEnabled(userId: string, kind: string, ruleId: string): Promise<boolean> {
    return (await this.find(userId, kind, ruleId)).rule.enabled;
  }

  async getActions(userId: string, kind: string, ruleId: string): Promise<PushAction[]> {
    return (await this.find(userId, kind, ruleId)).rule.actions;
  }

  async setEnabled(userId: string, kind: string, ruleId: string, enabled: boolean): Promise<void> {
    await this.modify(userId, kind, ruleId, { enabled: enabled ? 1 : 0 });
  }

  async setActions(userId: string, kind: string, ruleId: string, actions: PushAction[]): Promise<void> {
    await this.modify(userId, kind, ruleId, { actions: JSON.stringify(normalizeActions(actions)) });
  }

  private async modify(userId: string, kind: string, ruleId: string, set: { enabled?: number; actions?: string }): Promise<void> {
    const { rule } = await this.find(userId, kind, ruleId);
    const repo = pushRulesRepo(this.storage.db);
    if (rule.default) await repo.changeDefault(userId, ruleId, set);
    else await repo.update(userId, kind, ruleId, set);
    await this.changed(userId);
  }

  /** Drops the cached ruleset and republishes m.push_rules so syncing clients see the change. */
  private async changed(userId: string): Promise<void> {
    this.generation++;
    this.cache.delete(userId);
    await this.accountData.put(userId, "", "m.push_rules", await this.accountDataContent(userId));
  }

  /** For tests and tools: the defaults alone. */
  static defaults(userId: string): Ruleset {
    return defaultRuleset(userId);
  }
}
