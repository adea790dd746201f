// Admin queries over rooms (Synapse admin API "List Room", "Room Details", "Block Room", "Delete
// Room"): per-room summaries in a few grouped queries, the block list, and the purge of a room's
// rows. All room-scoped tables of this branch are listed in purgeRoom.
import { sql } from "kysely";
import type { Db, Dialect } from "./database.js";

/** State types shown in room listings (state key ""). */
export const SUMMARY_STATE_TYPES = [
  "m.room.create",
  "m.room.name",
  "m.room.topic",
  "m.room.avatar",
  "m.room.canonical_alias",
  "m.room.join_rules",
  "m.room.guest_access",
  "m.room.history_visibility",
  "m.room.encryption",
];

export interface RoomCounts {
  joined: number;
  joinedLocal: number;
  stateEvents: number;
}

export const adminRoomsRepo = (db: Db) => ({
  all: () => db.selectFrom("rooms").selectAll().execute(),

  /** Summary state (content JSON) of the given rooms, or of every room. */
  summaryState: (roomIds?: string[]) => {
    let q = db
      .selectFrom("current_state as cs")
      .innerJoin("events as e", "e.event_id", "cs.event_id")
      .select(["cs.room_id", "cs.type", "e.json"])
      .where("cs.state_key", "=", "")
      .where("cs.type", "in", SUMMARY_STATE_TYPES);
    if (roomIds) q = q.where("cs.room_id", "in", roomIds.length ? roomIds : [""]);
    return q.execute();
  },

  /** Joined, locally joined and state event counts per room. */
  async counts(localSuffix: string, roomIds?: string[]): Promise<Map<string, RoomCounts>> {
    let q = db
      .selectFrom("current_state")
      .select((eb) => [
        "room_id",
        eb.fn.countAll().as("state_events"),
        sql<number>`sum(case when type = 'm.room.member' and membership = 'join' then 1 else 0 end)`.as("joined"),
        sql<number>`sum(case when type = 'm.room.member' and membership = 'join' and state_key like ${`%${localSuffix}`} then 1 else 0 end)`.as("joined_local"),
      ])
      .groupBy("room_id");
    if (roomIds) q = q.where("room_id", "in", roomIds.length ? roomIds : [""]);
    const out = new Map<string, RoomCounts>();
    for (const r of await q.execute()) {
      out.set(r.room_id, { joined: Number(r.joined ?? 0), joinedLocal: Number(r.joined_local ?? 0), stateEvents: Number(r.state_events) });
    }
    return out;
  },

  /** Devices of the room's joined users (admin API "joined_local_devices"). */
  joinedLocalDevices: async (roomId: string) =>
    Number(
      (
        await db
          .selectFrom("devices as d")
          .innerJoin("current_state as cs", "cs.state_key", "d.user_id")
          .select((eb) => eb.fn.countAll().as("n"))
          .where("cs.room_id", "=", roomId)
          .where("cs.type", "=", "m.room.member")
          .where("cs.membership", "=", "join")
          .executeTakeFirstOrThrow()
      ).n,
    ),

  // --- blocking ---
  blocked: (roomId: string) => db.selectFrom("blocked_rooms").selectAll().where("room_id", "=", roomId).executeTakeFirst(),

  block: (roomId: string, userId: string, ts: number) =>
    db.transaction().execute(async (tx) => {
      await tx.insertInto("blocked_rooms").values({ room_id: roomId, user_id: userId, blocked_ts: ts }).onConflict((oc) => oc.column("room_id").doNothing()).execute();
      // The rooms flag keeps the public directory (storage/directory.ts) from listing it.
      await tx.updateTable("rooms").set({ blocked: 1 }).where("room_id", "=", roomId).execute();
    }),

  unblock: (roomId: string) =>
    db.transaction().execute(async (tx) => {
      await tx.deleteFrom("blocked_rooms").where("room_id", "=", roomId).execute();
      await tx.updateTable("rooms").set({ blocked: 0 }).where("room_id", "=", roomId).execute();
    }),

  /**
   * Deletes every row of a room (events, state, search index, receipts, aliases, per-room account
   * data, forgotten flags, notice room links, the room itself) in one transaction. Event reports
   * and the block are kept: they are the operators' record of why the room went.
   */
  purgeRoom: (roomId: string, _dialect: Dialect) =>
    db.transaction().execute(async (tx) => {
      const events = tx.selectFrom("events").select("event_id").where("room_id", "=", roomId);
      await tx.deleteFrom("event_txns").where("event_id", "in", events).execute();
      await tx.deleteFrom("event_search").where("room_id", "=", roomId).execute();
      await tx.deleteFrom("receipts").where("room_id", "=", roomId).execute();
      // Notification counts and pending email invitations of the room. Kept on purpose: event
      // reports (moderation evidence), users' own key backups, and the audit trail (never purged).
      await tx.deleteFrom("event_push_actions").where("room_id", "=", roomId).execute();
      await tx.deleteFrom("push_implicit_reads").where("room_id", "=", roomId).execute();
      await tx.deleteFrom("event_push_shared").where("room_id", "=", roomId).execute();
      await tx.deleteFrom("push_member_spans").where("room_id", "=", roomId).execute();
      await tx.deleteFrom("email_invites").where("room_id", "=", roomId).execute();
      await tx.deleteFrom("current_state").where("room_id", "=", roomId).execute();
      await tx.deleteFrom("events").where("room_id", "=", roomId).execute();
      await tx.deleteFrom("room_aliases").where("room_id", "=", roomId).execute();
      await tx.deleteFrom("account_data").where("room_id", "=", roomId).execute();
      await tx.deleteFrom("forgotten_rooms").where("room_id", "=", roomId).execute();
      await tx.deleteFrom("server_notice_rooms").where("room_id", "=", roomId).execute();
      await tx.deleteFrom("rooms").where("room_id", "=", roomId).execute();
    }),

  countEvents: async (roomId: string) =>
    Number((await db.selectFrom("events").select((eb) => eb.fn.countAll().as("n")).where("room_id", "=", roomId).executeTakeFirstOrThrow()).n),
});
