// The few queries the newcomer-history bound needs (docs/rooms.md "Newcomer history in public
// rooms"): the state types that decide it, and the positions its windows start at.
import type { Db } from "./database.js";

export const newcomerHistoryRepo = (db: Db) => ({
  /** Changes of the given `""`-keyed state types in a room, oldest first, in one query. */
  stateHistories: (roomId: string, types: string[]) =>
    db
      .selectFrom("events")
      .select(["type", "stream_ordering", "json"])
      .where("room_id", "=", roomId)
      .where("type", "in", types)
      .where("state_key", "=", "")
      .orderBy("stream_ordering")
      .execute(),

  /** origin_server_ts of an event at a position (the user's join). */
  tsAt: async (roomId: string, pos: number): Promise<number | undefined> => {
    const r = await db.selectFrom("events").select("origin_server_ts").where("room_id", "=", roomId).where("stream_ordering", "=", pos).executeTakeFirst();
    return r ? Number(r.origin_server_ts) : undefined;
  },

  /** Position of the `n`-th event before `pos` (counting back from pos - 1), or undefined if fewer exist. */
  nthBefore: async (roomId: string, pos: number, n: number): Promise<number | undefined> => {
    const r = await db
      .selectFrom("events")
      .select("stream_ordering")
      .where("room_id", "=", roomId)
      .where("stream_ordering", "<", pos)
      .orderBy("stream_ordering", "desc")
      .offset(n - 1)
      .limit(1)
      .executeTakeFirst();
    return r ? Number(r.stream_ordering) : undefined;
  },

  /** The lowest position at most `upTo` whose event was sent at or after `ts`. */
  firstSince: async (roomId: string, ts: number, upTo: number): Promise<number | undefined> => {
    const r = await db
      .selectFrom("events")
      .select((eb) => eb.fn.min("stream_ordering").as("pos"))
      .where("room_id", "=", roomId)
      .where("origin_server_ts", ">=", ts)
      .where("stream_ordering", "<=", upTo)
      .executeTakeFirst();
    return r?.pos === null || r?.pos === undefined ? undefined : Number(r.pos);
  },
});
