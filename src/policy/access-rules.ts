// Room access rules (docs/government-model.md, state event `im.vector.room.access_rules`), the
// forum rules and the externals' fence, as pure functions of a room's state and one event draft.
// They run after the room version's own authorization rules; a string is a refusal reason.
import { stateKey, type PDU, type StateKey } from "../matrix/pdu.js";

export const ACCESS_RULES = "im.vector.room.access_rules";
export type AccessRule = "restricted" | "unrestricted" | "direct";
const RULES: readonly string[] = ["restricted", "unrestricted", "direct"];

export type State = ReadonlyMap<StateKey, Pick<PDU, "content" | "state_key">>;

export interface Draft {
  type: string;
  sender: string;
  state_key?: string;
  content: Record<string, unknown>;
}

/** The room's rule; rooms without the event are `restricted` (Tchap's default). */
export function ruleOf(state: State): AccessRule {
  const r = state.get(stateKey(ACCESS_RULES, ""))?.content.rule;
  return typeof r === "string" && RULES.includes(r) ? (r as AccessRule) : "restricted";
}

export const isPublic = (state: State) => state.get(stateKey("m.room.join_rules", ""))?.content.join_rule === "public";
export const isEncrypted = (state: State) => state.has(stateKey("m.room.encryption", ""));
const membershipOf = (state: State, userId: string) => state.get(stateKey("m.room.member", userId))?.content.membership;

/** Members joined or invited (a direct room counts both). */
export function activeMembers(state: State): string[] {
  const out: string[] = [];
  for (const [k, ev] of state) {
    if (!k.startsWith("m.room.member\u0000")) continue;
    const m = ev.content.membership;
    if ((m === "join" || m === "invite") && typeof ev.state_key === "string") out.push(ev.state_key);
  }
  return out;
}

/** The rule transition: only restricted → unrestricted, and never for a public room. */
export function accessRuleChangeProblem(state: State, content: Record<string, unknown>): string | undefined {
  const next = content.rule;
  if (typeof next !== "string" || !RULES.includes(next)) return "Access rule must be restricted, unrestricted or direct";
  const current = ruleOf(state);
  if (next === current) return undefined;
  if (current !== "restricted" || next !== "unrestricted") return `Access rule cannot change from ${current} to ${next}`;
  if (isPublic(state)) return "A public room cannot be opened to externals";
  return undefined;
}

/**
 * Judges one client event against the access rules, forums and externals. `externals` holds the
 * users among the sender, the target and the room's members who are externals.
 */
export function judgeEvent(state: State, draft: Draft, externals: ReadonlySet<string>): string | undefined {
  const rule = ruleOf(state);
  switch (draft.type) {
    case ACCESS_RULES:
      if (draft.state_key !== "") return "Access rules have an empty state key";
      return accessRuleChangeProblem(state, draft.content);

    case "m.room.member":
      return memberProblem(state, rule, draft, externals);

    case "m.room.third_party_invite":
      return externals.has(draft.sender) ? "Externals cannot invite" : undefined;

    case "m.room.power_levels": {
      // Externals never hold power above 0 (docs/government-model.md "Externals").
      const users = (draft.content.users ?? {}) as Record<string, unknown>;
      for (const [u, level] of Object.entries(users)) {
        if (externals.has(u) && typeof level === "number" && level > 0) return "Externals cannot have a power level above 0";
      }
      const def = draft.content.users_default;
      if (typeof def === "number" && def > 0 && activeMembers(state).some((u) => externals.has(u) && !(u in users))) {
        return "Externals cannot have a power level above 0";
      }
      return undefined;
    }

    case "m.room.encryption":
      // Forums stay readable by newcomers: encryption is refused in public rooms.
      return isPublic(state) ? "Encryption is not allowed in public rooms" : undefined;

    case "m.room.join_rules": {
      const next = draft.content.join_rule;
      if (next === "public") {
        if (rule !== "restricted") return "Only restricted rooms can be public";
        if (isEncrypted(state)) return "An encrypted room cannot become public";
      } else if (isPublic(state) && !isEncrypted(state)) {
        // Its history was clear text for anyone: making it private would only hide that.
        return "A public unencrypted room cannot become private";
      }
      return undefined;
    }

    case "m.room.name":
    case "m.room.topic":
    case "m.room.avatar":
      return rule === "direct" ? "A direct chat has no name, topic or avatar" : undefined;

    default:
      return undefined;
  }
}

function memberProblem(state: State, rule: AccessRule, draft: Draft, externals: ReadonlySet<string>): string | undefined {
  const target = draft.state_key ?? "";
  const m = draft.content.membership;
  if (m === "invite") {
    if (externals.has(draft.sender)) return "Externals cannot invite";
    if (externals.has(target) && rule === "restricted") return "This room is not open to externals";
    if (rule === "direct") {
      const others = activeMembers(state).filter((u) => u !== target);
      if (others.length >= 2) return "A direct chat has at most two members";
    }
    return undefined;
  }
  if (m === "join" && externals.has(target)) {
    const current = membershipOf(state, target);
    if (current === "join") return undefined; // a profile update
    if (isPublic(state)) return "Externals cannot join public rooms";
    if (rule === "restricted") return "This room is not open to externals";
    if (current !== "invite") return "Externals join only by invitation";
    return undefined;
  }
  // Knocking asks for an invitation: pointless (and a probe) where externals may never be.
  if (m === "knock" && externals.has(target) && rule === "restricted") return "This room is not open to externals";
  if (m === "join" && rule === "direct" && membershipOf(state, target) !== "join") {
    const others = activeMembers(state).filter((u) => u !== target);
    if (others.length >= 2) return "A direct chat has at most two members";
  }
  return undefined;
}
