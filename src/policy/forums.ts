// Room creation under the government model: which rule a new room gets, the forum rules at
// creation (public ⇒ restricted and unencrypted), direct chats, and Tchap's default power levels.
import type { CreateRoomRequest } from "../rooms/create-room.js";
import { ACCESS_RULES, type AccessRule } from "./access-rules.js";

/** Tchap's default power levels (docs/government-model.md "Room access rules"). */
export const TCHAP_POWER_LEVELS = Object.freeze({ invite: 50, kick: 50, ban: 50, redact: 50, state_default: 100 });

export interface CreatePlan {
  rule: AccessRule;
  isPublic: boolean;
}

function initialContent(req: CreateRoomRequest, type: string): Record<string, unknown> | undefined {
  return (req.initial_state ?? []).find((e) => e.type === type && (e.state_key ?? "") === "")?.content;
}

/** The access rule and publicity a createRoom request asks for. */
export function createPlan(req: CreateRoomRequest): CreatePlan {
  const given = initialContent(req, ACCESS_RULES)?.rule;
  const rule: AccessRule = given === "unrestricted" || given === "direct" || given === "restricted" ? given : req.is_direct ? "direct" : "restricted";
  const joinRule = initialContent(req, "m.room.join_rules")?.join_rule;
  const preset = req.preset ?? (req.visibility === "public" ? "public_chat" : "private_chat");
  const isPublic = joinRule !== undefined ? joinRule === "public" : preset === "public_chat";
  return { rule, isPublic: isPublic || req.visibility === "public" };
}

/**
 * Refusal reason for a createRoom request, or undefined. `externalInvitees` are the invitees who
 * are externals; `creatorIsExternal` refuses everything (externals create no rooms, DMs or spaces).
 */
export function createRoomProblem(req: CreateRoomRequest, creatorIsExternal: boolean, externalInvitees: string[]): string | undefined {
  if (creatorIsExternal) return "Externals cannot create rooms";
  const given = initialContent(req, ACCESS_RULES);
  if (given !== undefined && !["restricted", "unrestricted", "direct"].includes(given.rule as string)) return "Access rule must be restricted, unrestricted or direct";
  const { rule, isPublic } = createPlan(req);
  if (isPublic && rule !== "restricted") return "Only restricted rooms can be public";
  if (isPublic && initialContent(req, "m.room.encryption") !== undefined) return "Encryption is not allowed in public rooms";
  if (rule === "direct") {
    if ((new Set(req.invite ?? []).size) + (req.invite_3pid?.length ?? 0) > 1) return "A direct chat has at most two members";
    if (req.name !== undefined || req.topic !== undefined) return "A direct chat has no name or topic";
  }
  if (rule === "restricted" && externalInvitees.length > 0) return "This room is not open to externals";
  return undefined;
}

/**
 * The request as the room will be created: the access rule written as initial state, Tchap's power
 * levels under the client's own override, externals never above 0, and no creator powers for them.
 */
export function applyCreatePolicy(req: CreateRoomRequest, externalInvitees: string[], tchapPowerLevels: boolean): CreateRoomRequest {
  const { rule } = createPlan(req);
  const initial = [...(req.initial_state ?? [])];
  if (!initial.some((e) => e.type === ACCESS_RULES && (e.state_key ?? "") === "")) initial.push({ type: ACCESS_RULES, state_key: "", content: { rule } });
  const override: Record<string, unknown> = { ...(tchapPowerLevels ? TCHAP_POWER_LEVELS : {}), ...(req.power_level_content_override ?? {}) };
  const users = { ...((override.users as Record<string, number>) ?? {}) };
  for (const u of externalInvitees) users[u] = 0;
  if (Object.keys(users).length) override.users = users;
  const out: CreateRoomRequest = { ...req, initial_state: initial, power_level_content_override: override };
  // trusted_private_chat makes every invitee an admin (or, in v12, a creator): not an external.
  if (externalInvitees.length > 0 && req.preset === "trusted_private_chat") out.preset = "private_chat";
  return out;
}
