// Join cost as rooms accumulate: `members` users join each of `rooms` rooms, one after the other in
// each room, `parallel` rooms at a time, through the services (app.rooms.create,
// app.membership.join), in this process. Every `--step` rooms it prints the CPU time of the process
// per join (the device-list work after each join included: it is waited for at each step), the wall
// time per join, and how long the device-list updates took to catch up. A join should cost the same
// whether its users are in 10 rooms or 300 (bench:sync builds 300 × 300 this way).
//
//   node dist/bench/joins.js --rooms 96 --members 300 [--parallel 16] [--step 16] [--postgres URL]
//
// Prints figures, asserts nothing.
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { resolveConfig } from "../src/config/load.js";
import { createApp, type App } from "../src/app.js";
import { createLogger } from "../src/log.js";
import { freshPostgresDatabase } from "./lib/postgres.js";
import { fmt, table } from "./lib/stats.js";

interface Options {
  rooms: number;
  members: number;
  parallel: number;
  step: number;
  postgres?: string;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { rooms: 96, members: 300, parallel: 16, step: 16 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => argv[++i] ?? "";
    if (a === "--rooms") o.rooms = Number(next());
    else if (a === "--members") o.members = Number(next());
    else if (a === "--parallel") o.parallel = Number(next());
    else if (a === "--step") o.step = Number(next());
    else if (a === "--postgres") o.postgres = next();
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const log = (msg: string) => process.stderr.write(`[bench:joins] ${msg}\n`);

/** Waits until the device-list updates queued after the joins so far are written. */
async function settle(app: App): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const q = app.e2ee.deviceLists.settled();
    await q;
    if (app.e2ee.deviceLists.settled() === q) return;
  }
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const dataDir = mkdtempSync(join(tmpdir(), "rempart-bench-joins-"));
  const pgDb = o.postgres ? await freshPostgresDatabase(o.postgres, "rempart_bench_joins") : undefined;
  const config = resolveConfig({ server_name: "bench.test", listen: "127.0.0.1:0", data_dir: dataDir, log_level: "silent", ...(pgDb ? { database: pgDb.url } : {}), rate_limiting: { enabled: false } });
  const app = await createApp(config, createLogger("silent"));
  const rows: string[][] = [["rooms built", "CPU ms per join", "wall ms per join", "device lists behind by (ms)", "load"]];
  try {
    log(`${o.rooms} rooms × ${o.members} members, ${o.parallel} rooms at a time (${pgDb ? "PostgreSQL" : "SQLite"})`);
    const members = await app.accounts.createUsers(Array.from({ length: o.members }, (_, i) => ({ localpart: `m${i}`, password: null })));
    let nextRoom = 0;
    let built = 0;
    let joins = 0;
    // The rooms are built in steps: every worker stops at the step's end, so that each step's
    // figures are its own joins only.
    for (let stepEnd = Math.min(o.step, o.rooms); nextRoom < o.rooms; stepEnd = Math.min(stepEnd + o.step, o.rooms)) {
      joins = 0;
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      await Promise.all(
        Array.from({ length: Math.min(o.parallel, stepEnd - nextRoom) }, async () => {
          while (nextRoom < stepEnd) {
            const r = nextRoom++;
            const creator = members[r % members.length]!;
            const roomId = (await app.rooms.create({ userId: creator, deviceId: "BENCH" }, { preset: "public_chat", name: `Room ${r}` })).room_id;
            for (const m of members) {
              if (m === creator) continue;
              await app.membership.join(m, roomId);
              joins++;
            }
            built++;
          }
        }),
      );
      const joined = performance.now();
      await settle(app);
      const behind = performance.now() - joined;
      const cpu = process.cpuUsage(c0);
      const wall = performance.now() - t0;
      rows.push([String(built), fmt((cpu.user + cpu.system) / 1000 / joins, 2), fmt(wall / joins, 2), fmt(behind, 0), fmt(loadavg()[0]!, 2)]);
      log(`  ${built} rooms: ${rows[rows.length - 1]!.slice(1).join(", ")}`);
    }
  } finally {
    await app.close();
    await pgDb?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(table(rows));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
