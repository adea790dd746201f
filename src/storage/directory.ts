// Room discovery (client-server API "Published room directory", "Room Summaries") and the alias
// move of room upgrades: the few queries that read many rooms' descriptive state at once.
import type { Db } from "./database.js";

export interface DescriptiveStateRow {
  room_id: string;
  type: string;
  json: string;
}

export const directoryRepo = (db: Db) => ({
  /**
   * The current state events of `types` (state key "") of every published, unblocked room, in one
   * query: the directory is rebuilt from these rather than from one snapshot per room.
   */
  publishedRoomsState: (types: string[]): Promise<DescriptiveStateRow[]> =>
    db
      .selectFrom("rooms as r")
      .innerJoin("current_state as cs", "cs.room_id", "r.room_id")
      .innerJoin("events as e", "e.event_id", "cs.event_id")
      .select(["r.room_id", "cs.type", "e.json"])
      .where("r.is_public", "=", 1)
      .where("r.blocked", "=", 0)
      .where("cs.state_key", "=", "")
      .where("cs.type", "in", types.length ? types : [""])
      .execute(),

  /** Joined-member counts of every published room (rooms nobody is in are absent). */
  publishedJoinedCounts: async (): Promise<Map<string, number>> => {
    const rows = await db
      .selectFrom("rooms as r")
      .innerJoin("current_state as cs", "cs.room_id", "r.room_id")
      .select(["r.room_id", (eb) => eb.fn.countAll().as("n")])
      .where("r.is_public", "=", 1)
      .where("cs.type", "=", "m.room.member")
      .where("cs.membership", "=", "join")
      .groupBy("r.room_id")
      .execute();
    return new Map(rows.map((r) => [r.room_id, Number(r.n)]));
  },

  joinedCount: async (roomId: string): Promise<number> =>
    Number(
      (
        await db
          .selectFrom("current_state")
          .select((eb) => eb.fn.countAll().as("n"))
          .where("room_id", "=", roomId)
          .where("type", "=", "m.room.member")
          .where("membership", "=", "join")
          .executeTakeFirstOrThrow()
      ).n,
    ),

  /** Points every alias of `from` at `to` (room upgrades, "Moves any local aliases"); returns them. */
  repointAliases: (from: string, to: string) =>
    db.transaction().execute(async (tx) => {
      const aliases = (await tx.selectFrom("room_aliases").select("alias").where("room_id", "=", from).orderBy("alias").execute()).map((a) => a.alias);
      if (aliases.length) await tx.updateTable("room_aliases").set({ room_id: to }).where("room_id", "=", from).execute();
      return aliases;
    }),
});
