// Stored sync filters (/user/{userId}/filter).
import type { Db } from "./database.js";

export const filtersRepo = (db: Db) => ({
  get: (userId: string, filterId: number) =>
    db.selectFrom("filters").select("filter_json").where("user_id", "=", userId).where("filter_id", "=", filterId).executeTakeFirst(),

  /** Stores a filter and returns its id; an identical filter already stored is reused. */
  create: (userId: string, filterJson: string) =>
    db.transaction().execute(async (tx) => {
      const same = await tx.selectFrom("filters").select("filter_id").where("user_id", "=", userId).where("filter_json", "=", filterJson).executeTakeFirst();
      if (same) return Number(same.filter_id);
      const max = await tx.selectFrom("filters").select((eb) => eb.fn.max("filter_id").as("m")).where("user_id", "=", userId).executeTakeFirst();
      const id = max?.m === null || max?.m === undefined ? 0 : Number(max.m) + 1;
      await tx.insertInto("filters").values({ user_id: userId, filter_id: id, filter_json: filterJson }).execute();
      return id;
    }),
});
