// Admin queries over event reports (Synapse admin API "Event Reports"). Reports are written by
// /rooms/{roomId}/report (storage/reports.ts); this module lists, reads and deletes them.
import type { Db } from "./database.js";

export interface ReportListQuery {
  from: number;
  limit: number;
  dir: "f" | "b";
  roomId?: string;
  /** The reporter. */
  userId?: string;
  /** The sender of the reported event. */
  eventSender?: string;
}

export const adminReportsRepo = (db: Db) => {
  const base = (q: ReportListQuery) => {
    let b = db.selectFrom("event_reports as r").leftJoin("events as e", "e.event_id", "r.event_id");
    if (q.roomId !== undefined) b = b.where("r.room_id", "=", q.roomId);
    if (q.userId !== undefined) b = b.where("r.user_id", "=", q.userId);
    if (q.eventSender !== undefined) b = b.where("e.sender", "=", q.eventSender);
    return b;
  };
  const columns = ["r.id", "r.room_id", "r.event_id", "r.user_id", "r.reason", "r.score", "r.received_ts", "e.sender", "e.json"] as const;

  return {
    async list(q: ReportListQuery) {
      const total = Number((await base(q).select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow()).n);
      const rows = await base(q)
        .select([...columns])
        .orderBy("r.id", q.dir === "f" ? "asc" : "desc")
        .limit(q.limit)
        .offset(q.from)
        .execute();
      return { rows, total };
    },

    get: (id: number) =>
      db
        .selectFrom("event_reports as r")
        .leftJoin("events as e", "e.event_id", "r.event_id")
        .select([...columns])
        .where("r.id", "=", id)
        .executeTakeFirst(),

    delete: async (id: number) => Number((await db.deleteFrom("event_reports").where("id", "=", id).executeTakeFirst()).numDeletedRows) === 1,
  };
};
