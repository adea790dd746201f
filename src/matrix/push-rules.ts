// Push rule evaluation (client-server API "Push Rules", "Conditions", "Actions"). Pure: the caller
// supplies the event, the user and the room facts (member count, power levels, display name).
// Evaluated against the room state as it was before the event (spec "Server behaviour").

export type PushRuleKind = "override" | "content" | "room" | "sender" | "underride";
export const PUSH_RULE_KINDS: readonly PushRuleKind[] = ["override", "content", "room", "sender", "underride"];

export type PushAction = string | { set_tweak: string; value?: unknown; [k: string]: unknown };

export interface PushCondition {
  kind: string;
  key?: string;
  pattern?: string;
  value?: unknown;
  is?: string;
  [k: string]: unknown;
}

export interface PushRule {
  rule_id: string;
  default: boolean;
  enabled: boolean;
  actions: PushAction[];
  conditions?: PushCondition[];
  pattern?: string;
}

export type Ruleset = Record<PushRuleKind, PushRule[]>;

/** What evaluation needs to know about the room and the user, beyond the event itself. */
export interface PushContext {
  userId: string;
  /** The user's display name in the room (for the deprecated contains_display_name). */
  displayName?: string;
  /** Joined members, before the event. */
  memberCount: number;
  senderPowerLevel: number;
  /** power_levels.notifications with its defaults ("room": 50). */
  notificationLevels: Readonly<Record<string, number>>;
}

/** "Historical Actions": dont_notify and coalesce are ignored, i.e. stripped. */
export function normalizeActions(actions: PushAction[]): PushAction[] {
  return actions.filter((a) => a !== "dont_notify" && a !== "coalesce");
}

/** The outcome of an evaluation as stored for unread counts and /notifications. */
export interface PushOutcome {
  notify: boolean;
  highlight: boolean;
  actions: PushAction[];
}

export function outcomeOf(actions: PushAction[]): PushOutcome {
  const a = normalizeActions(actions);
  let highlight = false;
  for (const x of a) {
    if (typeof x === "object" && x.set_tweak === "highlight") highlight = x.value === undefined ? true : x.value === true;
  }
  return { notify: a.includes("notify"), highlight, actions: a };
}

// --- Dot-separated property paths (appendices "Dot-separated property paths") ---

const pathCache = new Map<string, string[]>();

/** Splits `content.m\.relates_to.rel_type` into ["content", "m.relates_to", "rel_type"]. */
export function splitPath(key: string): string[] {
  let hit = pathCache.get(key);
  if (!hit) {
    hit = parsePath(key);
    if (pathCache.size > 5000) pathCache.clear();
    pathCache.set(key, hit);
  }
  return hit;
}

function parsePath(key: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < key.length; i++) {
    const c = key[i]!;
    if (c === "\\" && i + 1 < key.length && (key[i + 1] === "." || key[i + 1] === "\\")) {
      cur += key[++i];
    } else if (c === ".") {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out;
}

export function lookup(event: Record<string, unknown>, key: string): unknown {
  let v: unknown = event;
  for (const p of splitPath(key)) {
    if (typeof v !== "object" || v === null || Array.isArray(v) || !Object.hasOwn(v, p)) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

// --- Glob matching (appendices "Glob-style matching": `*` any run, `?` one character) ---

const globCache = new Map<string, RegExp>();

function globBody(pattern: string): string {
  let re = "";
  for (const ch of pattern) {
    if (ch === "*") re += "[\\s\\S]*?";
    else if (ch === "?") re += "[\\s\\S]";
    else re += ch.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  }
  return re;
}

/** Whole-value match, or (for content.body) a match on any substring bounded by word boundaries. */
export function globMatches(pattern: string, value: string, wordBoundary: boolean): boolean {
  const cacheKey = (wordBoundary ? "w" : "e") + pattern;
  let re = globCache.get(cacheKey);
  if (!re) {
    // A word boundary: start/end of the value or any character outside [A-Za-z0-9_].
    re = wordBoundary ? new RegExp(`(?:^|[^A-Za-z0-9_])${globBody(pattern)}(?:$|[^A-Za-z0-9_])`, "iu") : new RegExp(`^${globBody(pattern)}$`, "iu");
    if (globCache.size > 5000) globCache.clear();
    globCache.set(cacheKey, re);
  }
  return re.test(value);
}

/** Values event_property_is/contains compare: strings, safe integers, booleans, null. */
function isSimpleValue(v: unknown): boolean {
  return v === null || typeof v === "string" || typeof v === "boolean" || (typeof v === "number" && Number.isSafeInteger(v));
}

function memberCountMatches(is: string, count: number): boolean {
  const m = /^(==|<=|>=|<|>)?([0-9]+)$/.exec(is);
  if (!m) return false;
  const n = Number(m[2]);
  switch (m[1] ?? "==") {
    case "==":
      return count === n;
    case "<":
      return count < n;
    case ">":
      return count > n;
    case "<=":
      return count <= n;
    default:
      return count >= n;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** One condition; unknown kinds never match (spec "Conditions"). */
export function conditionMatches(c: PushCondition, event: Record<string, unknown>, ctx: PushContext): boolean {
  switch (c.kind) {
    case "event_match": {
      if (typeof c.key !== "string" || typeof c.pattern !== "string") return false;
      const v = lookup(event, c.key);
      if (typeof v !== "string") return false;
      return globMatches(c.pattern, v, c.key === "content.body");
    }
    case "event_property_is": {
      if (typeof c.key !== "string" || !isSimpleValue(c.value)) return false;
      const v = lookup(event, c.key);
      return v !== undefined && isSimpleValue(v) && v === c.value;
    }
    case "event_property_contains": {
      if (typeof c.key !== "string" || !isSimpleValue(c.value)) return false;
      const v = lookup(event, c.key);
      return Array.isArray(v) && v.some((x) => isSimpleValue(x) && x === c.value);
    }
    case "contains_display_name": {
      const body = lookup(event, "content.body");
      const name = ctx.displayName;
      if (typeof body !== "string" || !name) return false;
      return new RegExp(`(?:^|[^A-Za-z0-9_])${escapeRegExp(name)}(?:$|[^A-Za-z0-9_])`, "iu").test(body);
    }
    case "room_member_count":
      return typeof c.is === "string" && memberCountMatches(c.is, ctx.memberCount);
    case "sender_notification_permission": {
      if (typeof c.key !== "string") return false;
      const needed = ctx.notificationLevels[c.key] ?? 50;
      return ctx.senderPowerLevel >= needed;
    }
    default:
      return false;
  }
}

/** The conditions a rule of each kind implies (content: the pattern; room/sender: the rule id). */
export function effectiveConditions(kind: PushRuleKind, rule: PushRule): PushCondition[] | undefined {
  switch (kind) {
    case "content":
      return typeof rule.pattern === "string" ? [{ kind: "event_match", key: "content.body", pattern: rule.pattern }] : undefined;
    case "room":
      return [{ kind: "event_match", key: "room_id", pattern: rule.rule_id }];
    case "sender":
      return [{ kind: "event_match", key: "sender", pattern: rule.rule_id }];
    default:
      return rule.conditions ?? [];
  }
}

/** Whether one rule of `kind` matches (disabled rules never do). */
export function ruleMatches(kind: PushRuleKind, rule: PushRule, event: Record<string, unknown>, ctx: PushContext): boolean {
  if (!rule.enabled) return false;
  // Room and sender rules compare ids exactly, not as globs (an id may hold `*` or `?` only in theory).
  if (kind === "room") return event.room_id === rule.rule_id;
  if (kind === "sender") return event.sender === rule.rule_id;
  const conds = effectiveConditions(kind, rule);
  if (!conds) return false;
  return conds.every((c) => conditionMatches(c, event, ctx));
}

/**
 * The first matching rule in priority order (override, content, room, sender, underride; within a
 * kind, the ruleset's own order), or undefined. The ruleset must already be in priority order
 * (`.m.rule.master` first, then user rules before server defaults: see push-rules-default.ts).
 */
export function evaluate(rules: Ruleset, event: Record<string, unknown>, ctx: PushContext): { kind: PushRuleKind; rule: PushRule } | undefined {
  // "Homeservers MUST NOT notify the Push Gateway for events that the user has sent themselves."
  if (event.sender === ctx.userId) return undefined;
  for (const kind of PUSH_RULE_KINDS) {
    for (const rule of rules[kind]) if (ruleMatches(kind, rule, event, ctx)) return { kind, rule };
  }
  return undefined;
}
