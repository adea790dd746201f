// The externals' fence outside room events (docs/government-model.md "Externals"), and the
// last-admin rule: who the server promotes when a room's last admin leaves.
import { stateKey } from "../matrix/pdu.js";
import { powerLevelsFrom, userPowerLevel } from "../matrix/power-levels.js";
import type { RoomSnapshot } from "../rooms/writer.js";

export interface UserFlags {
  external: boolean;
}

/** Room directory (publicRooms): externals never see it. */
export const mayListDirectory = (u: UserFlags) => !u.external;
/** User directory search: externals never use it. */
export const maySearchUsers = (u: UserFlags) => !u.external;

export const ADMIN_LEVEL = 100;
export const MODERATOR_LEVEL = 50;

/**
 * When `leaving` is the room's last joined admin (power 100), the joined moderator (power ≥ 50)
 * with the highest level, never an external, ties broken by user id. Undefined when no promotion
 * is needed or nobody qualifies: the room then keeps no admin (documented in
 * docs/government-model.md). Room version 12 creators keep infinite power and need no successor.
 */
export function lastAdminSuccessor(snap: Pick<RoomSnapshot, "state" | "createEvent" | "version">, leaving: string, externals: ReadonlySet<string>): string | undefined {
  const pl = powerLevelsFrom(snap.state.get(stateKey("m.room.power_levels", ""))?.content, snap.createEvent, snap.version);
  if (pl.creators.length > 0) return undefined;
  if (userPowerLevel(pl, leaving) < ADMIN_LEVEL) return undefined;
  const joined: string[] = [];
  for (const [k, ev] of snap.state) {
    if (k.startsWith("m.room.member\u0000") && ev.content.membership === "join" && ev.state_key !== leaving) joined.push(ev.state_key!);
  }
  if (joined.some((u) => userPowerLevel(pl, u) >= ADMIN_LEVEL)) return undefined;
  const candidates = joined
    .filter((u) => !externals.has(u) && userPowerLevel(pl, u) >= MODERATOR_LEVEL)
    .sort((a, b) => userPowerLevel(pl, b) - userPowerLevel(pl, a) || (a < b ? -1 : 1));
  return candidates[0];
}
