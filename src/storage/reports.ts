// Reports of events and rooms (client-server API "Reporting Content"), kept for the operators.
import type { Insertable, Selectable } from "kysely";
import type { Db } from "./database.js";
import type { EventReportsTable } from "./schema.js";

export type ReportRow = Selectable<EventReportsTable>;

export const reportsRepo = (db: Db) => ({
  insert: async (row: Insertable<EventReportsTable>): Promise<void> => {
    await db.insertInto("event_reports").values(row).execute();
  },

  /** Newest first; optionally one room's. */
  recent: (opts: { limit: number; roomId?: string }): Promise<ReportRow[]> => {
    let q = db.selectFrom("event_reports").selectAll();
    if (opts.roomId !== undefined) q = q.where("room_id", "=", opts.roomId);
    return q.orderBy("id", "desc").limit(opts.limit).execute();
  },
});
