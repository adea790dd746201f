// POST /createRoom (client-server API "Creation"): the events a request implies, in the order the
// spec prescribes. The writer authorises and persists them one by one under the room's lock.
import { z } from "zod";
import type { EventDraft } from "./writer.js";
import type { RoomVersionId } from "../matrix/room-versions.js";

const stateEventSchema = z.object({ type: z.string().min(1).max(255), state_key: z.string().max(255).optional(), content: z.record(z.string(), z.unknown()) });

export const createRoomSchema = z.object({
  visibility: z.enum(["public", "private"]).optional(),
  room_alias_name: z.string().min(1).max(200).optional(),
  name: z.string().max(255).optional(),
  topic: z.string().max(4096).optional(),
  invite: z.array(z.string()).max(100).optional(),
  invite_3pid: z.array(z.record(z.string(), z.unknown())).max(100).optional(),
  room_version: z.string().optional(),
  creation_content: z.record(z.string(), z.unknown()).optional(),
  initial_state: z.array(stateEventSchema).max(100).optional(),
  preset: z.enum(["private_chat", "public_chat", "trusted_private_chat"]).optional(),
  is_direct: z.boolean().optional(),
  power_level_content_override: z.record(z.string(), z.unknown()).optional(),
});

export type CreateRoomRequest = z.infer<typeof createRoomSchema>;

const PRESETS = {
  private_chat: { join_rule: "invite", history_visibility: "shared", guest_access: "can_join" },
  trusted_private_chat: { join_rule: "invite", history_visibility: "shared", guest_access: "can_join" },
  public_chat: { join_rule: "public", history_visibility: "shared", guest_access: "forbidden" },
} as const;

export interface RoomPlan {
  createContent: Record<string, unknown>;
  initial: (roomId: string) => EventDraft[];
}

/**
 * Plans the events of a new room. `memberContent` is the creator's join content (display name,
 * avatar); `alias` is the full alias when room_alias_name was given.
 */
export function planRoom(req: CreateRoomRequest, creator: string, version: RoomVersionId, memberContent: Record<string, unknown>, alias?: string): RoomPlan {
  const presetName = req.preset ?? (req.visibility === "public" ? "public_chat" : "private_chat");
  const preset = PRESETS[presetName];
  const v12 = version === "12";
  const invitees = [...new Set(req.invite ?? [])];

  const createContent: Record<string, unknown> = { ...(req.creation_content ?? {}) };
  delete createContent.creator;
  delete createContent.room_version;
  if (v12 && presetName === "trusted_private_chat" && invitees.length > 0) {
    const extra = Array.isArray(createContent.additional_creators) ? (createContent.additional_creators as unknown[]) : [];
    createContent.additional_creators = [...new Set([...extra.filter((x): x is string => typeof x === "string"), ...invitees])];
  }

  const initial = (_roomId: string): EventDraft[] => {
    const drafts: EventDraft[] = [];
    const state = (type: string, content: Record<string, unknown>, stateKey = "") => drafts.push({ type, state_key: stateKey, sender: creator, content });

    drafts.push({ type: "m.room.member", state_key: creator, sender: creator, content: { ...memberContent, membership: "join", ...(req.is_direct ? { is_direct: true } : {}) } });

    // Default power levels (spec m.room.power_levels defaults), the creator at 100 up to v11;
    // in v12 creators are implicitly infinite and must not be listed.
    const users: Record<string, number> = {};
    if (!v12) users[creator] = 100;
    if (presetName === "trusted_private_chat" && !v12) for (const u of invitees) users[u] = 100;
    const pl: Record<string, unknown> = {
      users,
      users_default: 0,
      events: {
        "m.room.name": 50,
        "m.room.power_levels": 100,
        "m.room.history_visibility": 100,
        "m.room.canonical_alias": 50,
        "m.room.avatar": 50,
        "m.room.tombstone": v12 ? 150 : 100,
        "m.room.server_acl": 100,
        "m.room.encryption": 100,
      },
      events_default: 0,
      state_default: 50,
      ban: 50,
      kick: 50,
      redact: 50,
      invite: 0,
      historical: 100,
    };
    const override = req.power_level_content_override ?? {};
    state("m.room.power_levels", { ...pl, ...override, users: { ...users, ...((override.users as Record<string, number>) ?? {}) } });

    if (alias) state("m.room.canonical_alias", { alias });

    // initial_state takes precedence over the preset's events.
    const given = new Set((req.initial_state ?? []).map((e) => `${e.type}\u0000${e.state_key ?? ""}`));
    if (!given.has("m.room.join_rules\u0000")) state("m.room.join_rules", { join_rule: preset.join_rule });
    if (!given.has("m.room.history_visibility\u0000")) state("m.room.history_visibility", { history_visibility: preset.history_visibility });
    if (!given.has("m.room.guest_access\u0000")) state("m.room.guest_access", { guest_access: preset.guest_access });

    for (const e of req.initial_state ?? []) state(e.type, e.content, e.state_key ?? "");
    if (req.name !== undefined) state("m.room.name", { name: req.name });
    if (req.topic !== undefined) state("m.room.topic", { topic: req.topic });
    return drafts;
  };
  return { createContent, initial };
}
