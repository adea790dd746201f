// Stream positions, allocated from the database so that several processes could share them
// (DESIGN.md "More than one process").
import { sql } from "kysely";
import type { Db } from "./database.js";

export const streamsRepo = (db: Db) => ({
  /** Allocates the next position of a stream. Call inside the transaction that writes the row. */
  async next(name: string): Promise<number> {
    const row = await db
      .updateTable("streams")
      .set((eb) => ({ position: eb("position", "+", 1) }))
      .where("name", "=", name)
      .returning("position")
      .executeTakeFirst();
    if (row) return Number(row.position);
    await db.insertInto("streams").values({ name, position: 1 }).onConflict((oc) => oc.column("name").doNothing()).execute();
    return this.next(name);
  },

  /** Raises a stream's persisted position to `position` (never lowers it). */
  async raiseTo(name: string, position: number): Promise<void> {
    await db
      .insertInto("streams")
      .values({ name, position })
      .onConflict((oc) => oc.column("name").doUpdateSet({ position: sql<number>`CASE WHEN streams.position < excluded.position THEN excluded.position ELSE streams.position END` }))
      .execute();
  },

  async current(name: string): Promise<number> {
    return (await this.stored(name)) ?? 0;
  },

  /** A stream's persisted position, or undefined when the stream has no row yet. */
  async stored(name: string): Promise<number | undefined> {
    const row = await db.selectFrom("streams").select("position").where("name", "=", name).executeTakeFirst();
    return row ? Number(row.position) : undefined;
  },
});
