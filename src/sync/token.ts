// Sync tokens: one position per stream, opaque to clients ("s<events>_<account_data>_…").
// Positions come from the database (or, for typing, from memory and reset on restart), so a token
// issued before a restart stays valid after it.
import { invalidParam } from "../http/errors.js";

export const STREAMS = ["events", "account_data", "receipts", "typing", "to_device", "device_lists"] as const;
export type StreamName = (typeof STREAMS)[number];
export type SyncToken = Record<StreamName, number>;

// Literals rather than built from STREAMS: made and formatted several times per /sync (every
// woken long-poll). Same keys in the same order as STREAMS.
export function emptyToken(): SyncToken {
  return { events: 0, account_data: 0, receipts: 0, typing: 0, to_device: 0, device_lists: 0 };
}

export function formatToken(t: SyncToken): string {
  return `s${t.events}_${t.account_data}_${t.receipts}_${t.typing}_${t.to_device}_${t.device_lists}`;
}

export function parseToken(raw: string): SyncToken {
  const m = /^s(\d{1,15}(?:_\d{1,15}){0,15})$/.exec(raw);
  if (!m) throw invalidParam("Invalid since token");
  const parts = m[1]!.split("_").map(Number);
  const t = emptyToken();
  STREAMS.forEach((s, i) => (t[s] = parts[i] ?? 0));
  return t;
}
