// Migration 0016 (shared push outcomes) on a database that already has notifications: the rows
// written before it, one per notified member, keep counting; members joined at the time get a
// joined stretch, so that events after the migration count for them; on both databases.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Migrator, type Migration, type MigrationProvider } from "kysely";
import { openStorage, migrate, type Storage } from "../../src/storage/database.js";
import { migrations } from "../../src/storage/migrations/index.js";
import { pushActionsRepo } from "../../src/storage/push-actions.js";
import { freshPostgres } from "../helpers/postgres.js";

async function migrateTo(storage: Storage, last: string): Promise<void> {
  const provider: MigrationProvider = {
    async getMigrations() {
      const out: Record<string, Migration> = {};
      for (const [name, m] of Object.entries(migrations)) out[name] = { up: (db) => m.up(db, storage.dialect) };
      return out;
    },
  };
  const r = await new Migrator({ db: storage.db, provider, allowUnorderedMigrations: true }).migrateTo(last);
  if (r.error) throw r.error;
}

test("0016 keeps the counts of rows written before it and opens stretches for joined members", async () => {
  const pgUrl = process.env.REMPART_TEST_DATABASE_URL;
  const pgDb = pgUrl ? await freshPostgres(pgUrl) : undefined;
  const dir = mkdtempSync(join(tmpdir(), "rempart-push-mig-"));
  const storage = await openStorage(pgDb?.url ?? join(dir, "db.sqlite"), { migrate: false });
  try {
    await migrateTo(storage, "0015_drop_events_thread_index");
    const room = "!r:example.org";
    const member = (user: string, pos: number, membership: string) => ({ room_id: room, type: "m.room.member", state_key: user, event_id: `$m-${user}`, stream_ordering: pos, membership });
    await storage.db.insertInto("current_state").values([member("@bob:example.org", 2, "join"), member("@carol:example.org", 3, "leave")]).execute();
    // Bob was notified of two messages before the migration (written in the old shape).
    const old = (pos: number) => ({ user_id: "@bob:example.org", event_id: `$e${pos}`, room_id: room, stream_ordering: pos, thread_id: "main", highlight: 0, actions: '["notify"]', ts: 1 });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    await (storage.db as any).insertInto("event_push_actions").values([old(10), old(11)]).execute();

    await migrate(storage);
    const repo = pushActionsRepo(storage.db);
    assert.deepEqual(await repo.unread("@bob:example.org", [room]), [{ room_id: room, thread_id: "main", notifications: 2, highlights: 0 }]);
    // After the migration: one shared row per message, counted for the member who is joined.
    await repo.insertShared({ room_id: room, stream_ordering: 12, event_id: "$e12", thread_id: "main", sender: "@alice:example.org", highlight: 0, actions: '["notify"]', ts: 2 });
    assert.deepEqual(await repo.unread("@bob:example.org", [room]), [{ room_id: room, thread_id: "main", notifications: 3, highlights: 0 }]);
    // Carol had left: she has no stretch, so nothing counts for her.
    assert.deepEqual(await repo.unread("@carol:example.org", [room]), []);
    assert.deepEqual((await repo.page("@bob:example.org", { limit: 10, onlyHighlight: false })).map((r) => r.event_id), ["$e12", "$e11", "$e10"]);
  } finally {
    await storage.close();
    await pgDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});
