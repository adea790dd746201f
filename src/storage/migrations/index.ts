// Versioned migrations, applied in name order at start on SQLite and PostgreSQL alike.
// Never edit a migration that has shipped: add a new one.
import type { Kysely } from "kysely";
import type { Dialect } from "../database.js";
import * as m0001 from "./0001_accounts.js";
import * as m0002 from "./0002_rooms.js";
import * as m0005 from "./0005_receipts.js";
import * as m0009 from "./0009_rooms_extra.js";

export interface DialectMigration {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  up(db: Kysely<any>, dialect: Dialect): Promise<void>;
}

export const migrations: Record<string, DialectMigration> = {
  "0001_accounts": m0001,
  "0002_rooms": m0002,
  "0005_receipts": m0005,
  "0009_rooms_extra": m0009,
};
