// Security console benchmark: how long the security API's trail-scanning questions take (top
// readers of the window, one user's timeline, a room's readers, audit verify) on a trail of N read
// records spread over the last hour, in process; and the size of the console's bundle.
//
//   npm run bench:console
//   node dist/bench/security-console.js [--reads 100000] [--users 200]
//
// Prints figures and one line `BENCH_JSON {...}` (no assertions).
import { statSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { freshDataDir, removeDataDir } from "./lib/datadir.js";
import { resolveConfig } from "../src/config/load.js";
import { createApp } from "../src/app.js";
import { createLogger } from "../src/log.js";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const READS = arg("reads", 100_000);
const USERS = arg("users", 200);
const ROOMS = 500;

async function time<T>(f: () => Promise<T>, runs = 3): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await f();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return Math.round(ms[Math.floor(runs / 2)]! * 10) / 10;
}

const dataDir = freshDataDir("rempart-console-bench-");
const config = resolveConfig({ server_name: "bench.local", data_dir: dataDir, log_level: "silent" });
const app = await createApp(config, createLogger("silent"));
try {
  // Only the user whose timeline is asked for needs an account (password hashing is slow).
  await app.accounts.createUser("u7", "correct horse battery staple 1");
  const now = Date.now();
  const sessions: number[] = [];
  for (let u = 0; u < USERS; u++) sessions.push(app.audit.append("session", { u: `@u${u}:bench.local`, d: "D", sid: u, ip: "10.0.0.1", ua: "bench" }, now - 3_600_000));
  for (let i = 0; i < READS; i++) {
    const s = sessions[i % USERS]!;
    app.audit.append("read", { s, e: "messages", r: `!r${i % ROOMS}:bench.local`, n: 20 }, now - 3_600_000 + Math.floor((i / READS) * 3_600_000));
    if (i % 5000 === 0) await app.audit.flush();
  }
  await app.audit.flush();
  const sc = app.securityConsole;
  const figures = {
    reads: READS,
    users: USERS,
    readers_ms: await time(() => sc.readers(20)),
    timeline_60min_ms: await time(() => sc.timeline("@u7:bench.local", 60)),
    room_readers_1day_ms: await time(() => sc.roomReaders("!r3:bench.local", 1440)),
    audit_verify_ms: await time(() => sc.verifyAudit(), 1),
    bundle_js_bytes: statSafe("dist/web/console.js"),
    bundle_css_bytes: statSafe("dist/web/console.css"),
  };
  for (const [k, v] of Object.entries(figures)) console.log(`${k.padEnd(22)} ${v}`);
  console.log(`BENCH_JSON ${JSON.stringify(figures)}`);
} finally {
  await app.close();
  removeDataDir(dataDir);
}

function statSafe(p: string): number | null {
  try {
    return statSync(p).size;
  } catch {
    return null;
  }
}
