// Newcomer history in public rooms (issue 7): how far back a member who joins a public room (a
// forum) may read. The server default is `public_rooms.newcomer_history`; a room's admins override
// it with the `fr.rempart.newcomer_history` state event (state key ""), which needs the room's
// state_default power like any state event without its own power level (spec "m.room.power_levels").
// HistoryVisibility turns the policy into a lower bound on each user's VisibilityView, so every read
// path applies it through canSee (docs/rooms.md "Newcomer history in public rooms").
import type { Storage } from "../storage/database.js";

export const NEWCOMER_HISTORY_EVENT = "fr.rempart.newcomer_history";

export type NewcomerPolicy = { mode: "all" } | { mode: "since_join" } | { mode: "days"; days: number } | { mode: "events"; events: number };

/** The config value: "all" | "since_join" | { days: n } | { events: n } (validated by the schema). */
export type NewcomerHistoryConfig = "all" | "since_join" | { days: number } | { events: number };

export function policyFromConfig(c: NewcomerHistoryConfig | undefined): NewcomerPolicy {
  if (c === undefined || c === "all") return { mode: "all" };
  if (c === "since_join") return { mode: "since_join" };
  if ("days" in c) return { mode: "days", days: c.days };
  return { mode: "events", events: c.events };
}

const positiveInt = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v > 0 && v <= 1_000_000_000;

/**
 * A room's override from its state event content: `{ "history": "all" | "since_join" }`,
 * `{ "days": n }` or `{ "events": n }`. Anything else (an empty or redacted content, a malformed
 * value) means "no override": the server default applies.
 */
export function policyFromContent(content: Record<string, unknown> | undefined): NewcomerPolicy | undefined {
  if (!content) return undefined;
  if (content.history === "all") return { mode: "all" };
  if (content.history === "since_join") return { mode: "since_join" };
  if (positiveInt(content.days)) return { mode: "days", days: content.days };
  if (positiveInt(content.events)) return { mode: "events", events: content.events };
  return undefined;
}

// The server default, per storage. HistoryVisibility is built from a Storage in several places
// (the reader, aggregations in serialize.ts); keying the default on the storage gives all of them
// the same policy without threading the config through every constructor.
const defaults = new WeakMap<Storage, NewcomerPolicy>();

export function setNewcomerDefault(storage: Storage, c: NewcomerHistoryConfig | undefined): void {
  defaults.set(storage, policyFromConfig(c));
}

export function newcomerDefault(storage: Storage): NewcomerPolicy {
  return defaults.get(storage) ?? { mode: "all" };
}

/**
 * A client sending the override: state key "" and a content policyFromContent understands, or `{}`
 * (back to the server default). Anything else is refused rather than silently ignored.
 */
export function checkOverride(stateKey: string, content: Record<string, unknown>): string | undefined {
  if (stateKey !== "") return `${NEWCOMER_HISTORY_EVENT} takes the state key ""`;
  if (Object.keys(content).length === 0 || policyFromContent(content)) return undefined;
  return `${NEWCOMER_HISTORY_EVENT} content must be {"history": "all" | "since_join"}, {"days": n}, {"events": n} or {}`;
}
