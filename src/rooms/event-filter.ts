// RoomEventFilter (client-server API "Filtering"): types and senders with "*" wildcards,
// contains_url, limits.
import type { Filter } from "../accounts/filters.js";

export type RoomEventFilter = NonNullable<NonNullable<Filter["room"]>["timeline"]>;

function matchType(pattern: string, type: string): boolean {
  if (!pattern.includes("*")) return pattern === type;
  const re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
  return re.test(type);
}

export function eventMatches(f: RoomEventFilter | undefined, e: { type: string; sender: string; room_id?: string; content?: Record<string, unknown> }): boolean {
  if (!f) return true;
  if (f.not_types?.some((p) => matchType(p, e.type))) return false;
  if (f.types && !f.types.some((p) => matchType(p, e.type))) return false;
  if (f.not_senders?.includes(e.sender)) return false;
  if (f.senders && !f.senders.includes(e.sender)) return false;
  if (e.room_id !== undefined) {
    if (f.not_rooms?.includes(e.room_id)) return false;
    if (f.rooms && !f.rooms.includes(e.room_id)) return false;
  }
  if (f.contains_url !== undefined && e.content) {
    const has = typeof e.content.url === "string";
    if (has !== f.contains_url) return false;
  }
  return true;
}

/** Exact type and sender lists can be pushed down to SQL; wildcards are applied afterwards. */
export function sqlPushdown(f: RoomEventFilter | undefined): { types?: string[]; notTypes?: string[]; senders?: string[]; notSenders?: string[] } {
  if (!f) return {};
  return {
    types: f.types && !f.types.some((t) => t.includes("*")) ? f.types : undefined,
    notTypes: f.not_types?.filter((t) => !t.includes("*")),
    senders: f.senders,
    notSenders: f.not_senders,
  };
}
