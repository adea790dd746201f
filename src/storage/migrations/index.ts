// Versioned migrations, applied in name order at start on SQLite and PostgreSQL alike.
// Never edit a migration that has shipped: add a new one.
import type { Kysely } from "kysely";
import type { Dialect } from "../database.js";
import * as m0001 from "./0001_accounts.js";
import * as m0002 from "./0002_rooms.js";
import * as m0005 from "./0005_receipts.js";
import * as m0008 from "./0008_push.js";
import * as m0011 from "./0011_login_security.js";
import * as m0006 from "./0006_media.js";
import * as m0013 from "./0013_policy.js";
import * as m0010 from "./0010_audit.js";
import * as m0012 from "./0012_admin.js";
import * as m0007 from "./0007_e2ee.js";
import * as m0009 from "./0009_rooms_extra.js";
import * as m0014 from "./0014_push_actions_clustered.js";
import * as m0015 from "./0015_drop_events_thread_index.js";
import * as m0016 from "./0016_push_shared_actions.js";
import * as m0017 from "./0017_pushers_device.js";
import * as m0018 from "./0018_current_state_members.js";

export interface DialectMigration {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  up(db: Kysely<any>, dialect: Dialect): Promise<void>;
}

export const migrations: Record<string, DialectMigration> = {
  "0001_accounts": m0001,
  "0002_rooms": m0002,
  "0005_receipts": m0005,
  "0008_push": m0008,
  "0011_login_security": m0011,
  "0006_media": m0006,
  "0013_policy": m0013,
  "0010_audit": m0010,
  "0012_admin": m0012,
  "0007_e2ee": m0007,
  "0009_rooms_extra": m0009,
  "0014_push_actions_clustered": m0014,
  "0015_drop_events_thread_index": m0015,
  "0016_push_shared_actions": m0016,
  "0017_pushers_device": m0017,
  "0018_current_state_members": m0018,
};
