// Pagination tokens for room history. A token is a position between events in the stream:
// "t<N>" means "after the event at stream position N". Sync tokens ("s<N>_...") are accepted
// too, so a sync's prev_batch pages back with /messages.
import { invalidParam } from "../http/errors.js";

export function parseRoomToken(token: string): number {
  const m = /^[ts](\d{1,15})(?:_.*)?$/.exec(token);
  if (!m) throw invalidParam("Invalid pagination token");
  return Number(m[1]);
}

export const roomToken = (pos: number): string => `t${Math.max(0, pos)}`;
