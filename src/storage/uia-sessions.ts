// User-interactive authentication sessions.
import type { Db } from "./database.js";

export const uiaSessionsRepo = (db: Db) => ({
  get: (id: string) => db.selectFrom("uia_sessions").selectAll().where("session_id", "=", id).executeTakeFirst(),
  insert: (row: { session_id: string; user_id: string | null; created_ts: number; data: string }) => db.insertInto("uia_sessions").values(row).execute(),
  update: (id: string, data: string) => db.updateTable("uia_sessions").set({ data }).where("session_id", "=", id).execute(),
  delete: (id: string) => db.deleteFrom("uia_sessions").where("session_id", "=", id).execute(),
  deleteOlderThan: (ts: number) => db.deleteFrom("uia_sessions").where("created_ts", "<", ts).execute(),
});
