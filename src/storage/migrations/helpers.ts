import type { CreateTableBuilder } from "kysely";
import type { Dialect } from "../database.js";

/** An auto-incrementing integer primary key in either dialect. */
export function withId<T extends string>(t: CreateTableBuilder<T, never>, dialect: Dialect): CreateTableBuilder<T, "id"> {
  return dialect === "postgres"
    ? t.addColumn("id", "bigserial", (c) => c.primaryKey())
    : t.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());
}
