// Search entries survive a crash (src/rooms/search-queue.ts). On SQLite new events enter the
// full-text index in batches; a server killed (SIGKILL) before its batch is written indexes those
// events again at its next start, and a redaction made before the crash keeps its target out of
// the index. The real server (bin/rempart.js start) in a child process, killed for real. On
// PostgreSQL, where each event is indexed in its own transaction, the same must hold.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { call } from "../helpers/http.js";
import { freshPostgres } from "../helpers/postgres.js";
import { freePort } from "../../bench/lib/loopback.js";

const BIN = fileURLToPath(new URL("../../../bin/rempart.js", import.meta.url));
const C = "/_matrix/client/v3";

async function start(env: NodeJS.ProcessEnv, base: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [BIN, "start"], { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
  for (let i = 0; i < 400; i++) {
    const ok = await fetch(`${base}/_matrix/client/versions`).then((r) => r.ok, () => false);
    if (ok) return child;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill("SIGKILL");
  throw new Error(`the server did not start: ${stderr}`);
}

const stop = (child: ChildProcess, signal: NodeJS.Signals) =>
  new Promise<void>((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });

test("events indexed in a batch a crash lost are searchable after the restart; a redacted one is not", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rempart-search-crash-"));
  const pgUrl = process.env.REMPART_TEST_DATABASE_URL;
  const pgDb = pgUrl ? await freshPostgres(pgUrl) : undefined;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    REMPART_DATA_DIR: dir,
    REMPART_SERVER_NAME: "search.test",
    REMPART_LISTEN: `127.0.0.1:${port}`,
    REMPART_LOG_LEVEL: "warn",
    REMPART_ENABLE_REGISTRATION: "true",
    REMPART_PASSWORD_HASHING__MEMORY_KIB: "1024",
    REMPART_PASSWORD_HASHING__TIME_COST: "1",
    // No batch is written by the clock during the test: only a search, a stop, or a start does.
    REMPART_SEARCH__INDEX_INTERVAL_MS: "3600000",
    ...(pgDb ? { REMPART_DATABASE: pgDb.url } : {}),
  };
  let server: ChildProcess | undefined;
  try {
    server = await start(env, base);
    const reg = await call(base, "POST", `${C}/register`, { body: { username: "alice", password: "a long enough password for alice", auth: { type: "m.login.dummy" } } });
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    const token = reg.body.access_token as string;
    const room = (await call(base, "POST", `${C}/createRoom`, { token, body: { preset: "public_chat", name: "glacier council" } })).body.room_id as string;
    const send = async (txn: string, body: string) => {
      const r = await call(base, "PUT", `${C}/rooms/${encodeURIComponent(room)}/send/m.room.message/${txn}`, { token, body: { msgtype: "m.text", body } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return r.body.event_id as string;
    };
    const search = async (term: string): Promise<string[]> => {
      const r = await call(base, "POST", `${C}/search`, { token, body: { search_categories: { room_events: { search_term: term } } } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const results = (r.body.search_categories as { room_events: { results: Array<{ result: { event_id: string } }> } }).room_events.results;
      return results.map((x) => x.result.event_id);
    };

    const first = await send("t1", "zephyrine harbour report");
    const second = await send("t2", "quokkafrost budget draft");
    const secret = await send("t3", "bananaquit password for the vault");
    const red = await call(base, "PUT", `${C}/rooms/${encodeURIComponent(room)}/redact/${encodeURIComponent(secret)}/r1`, { token, body: { reason: "oops" } });
    assert.equal(red.status, 200, JSON.stringify(red.body));

    await stop(server, "SIGKILL");
    server = undefined;
    if (!pgDb) {
      // The proof that this test tests something: the batch really was lost with the process.
      const db = new Database(join(dir, "rempart.db"), { readonly: true });
      const indexed = db.prepare("SELECT count(*) AS n FROM event_search WHERE event_search MATCH 'quokkafrost OR zephyrine'").get() as { n: number };
      db.close();
      assert.equal(indexed.n, 0, "the messages were still waiting for their batch when the server was killed");
    }

    server = await start(env, base);
    assert.deepEqual(await search("zephyrine"), [first]);
    assert.deepEqual(await search("quokkafrost"), [second]);
    assert.deepEqual(await search("bananaquit"), [], "a redacted message never enters the index");
    assert.deepEqual(await search("vault"), []);

    // A search sees what was sent just before it; a clean stop writes the pending batch.
    const third = await send("t4", "ptarmigan minutes");
    assert.deepEqual(await search("ptarmigan"), [third]);
    // Redacted while its entry still waits for the batch: the entry never reaches the index.
    const leaked = await send("t6", "narwhal passphrase");
    assert.equal((await call(base, "PUT", `${C}/rooms/${encodeURIComponent(room)}/redact/${encodeURIComponent(leaked)}/r2`, { token, body: {} })).status, 200);
    assert.deepEqual(await search("narwhal"), []);
    const fourth = await send("t5", "saxifrage agenda");
    await stop(server, "SIGTERM");
    server = undefined;
    if (!pgDb) {
      const db = new Database(join(dir, "rempart.db"), { readonly: true });
      const indexed = db.prepare("SELECT count(*) AS n FROM event_search WHERE event_search MATCH 'saxifrage'").get() as { n: number };
      // Search results hide redacted events anyway: the stored index is what must not hold the text.
      const redacted = db.prepare("SELECT count(*) AS n FROM event_search WHERE event_search MATCH 'narwhal OR passphrase OR bananaquit'").get() as { n: number };
      db.close();
      assert.equal(indexed.n, 1, "written when the server stopped");
      assert.equal(redacted.n, 0, "no redacted text in the index");
    }
    server = await start(env, base);
    assert.deepEqual(await search("saxifrage"), [fourth]);
  } finally {
    if (server) await stop(server, "SIGKILL");
    await pgDb?.drop();
    rmSync(dir, { recursive: true, force: true });
  }
});
