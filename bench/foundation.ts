// Foundation benchmark: start-up time, idle memory, /versions throughput and login cost of the real
// server (`node bin/rempart.js start`, child process, 127.0.0.1), on SQLite and optionally PostgreSQL.
//
//   npm run bench                                   # SQLite
//   npm run bench -- --postgres postgres://postgres@127.0.0.1:5432/postgres
//   node dist/bench/foundation.js --runs 5 --duration 10 [--postgres URL]
//
// Prints a table and one line `BENCH_JSON {...}`. See bench/README.md.
import { cpus, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { startServer, type RunningServer, type ServerOptions } from "./lib/server.js";
import { freshDataDir, removeDataDir } from "./lib/datadir.js";
import { freshPostgresDatabase, dropAllDatabases, type FreshDatabase } from "./lib/postgres.js";
import { readMemory } from "./lib/rss.js";
import { runLoad, type LoadFigures } from "./lib/load.js";
import { login, register, versions, whoami } from "./lib/matrix.js";
import { storedPasswordHash, parseArgon2, type Argon2Params } from "./lib/inspect.js";
import { median, percentile, round, fmt, table } from "./lib/stats.js";
import { stopAll } from "./lib/children.js";

const IDLE_SETTLE_S = 20;
const TARGETS = { firstAnswerMs: 1000, idleRssMb: 80, versionsRps: 5000 };
const SYNAPSE = { firstAnswerMs: 1800, idleRssMb: 100 };
const BASELINE_SCRIPT = fileURLToPath(new URL("./lib/baseline-server.js", import.meta.url));

interface Options {
  postgres?: string;
  runs: number;
  durationS: number;
  loginDurationS: number;
  concurrency: number;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { runs: 5, durationS: 10, loginDurationS: 10, concurrency: 4 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--postgres") o.postgres = next();
    else if (a === "--runs") o.runs = Number(next());
    else if (a === "--duration") o.durationS = Number(next());
    else if (a === "--login-duration") o.loginDurationS = Number(next());
    else if (a === "--concurrency") o.concurrency = Number(next());
    else if (a === "--help" || a === "-h") {
      console.log("usage: node dist/bench/foundation.js [--postgres URL] [--runs N] [--duration S] [--login-duration S] [--concurrency N]");
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Login rate limiting off for the login measurement; argon2 parameters left at their defaults. */
const SERVER_ENV = { REMPART_ENABLE_REGISTRATION: "true", REMPART_RATE_LIMITING__ENABLED: "false" };

interface Where {
  dataDir: string;
  db?: FreshDatabase;
}

async function freshWhere(pgAdmin: string | undefined): Promise<Where> {
  return { dataDir: freshDataDir(), db: pgAdmin ? await freshPostgresDatabase(pgAdmin) : undefined };
}

async function dropWhere(w: Where): Promise<void> {
  removeDataDir(w.dataDir);
  await w.db?.drop();
}

const serverOpts = (w: Where): ServerOptions => ({ dataDir: w.dataDir, database: w.db?.url, env: SERVER_ENV });

async function timeStarts(
  n: number,
  where: () => Promise<Where>,
  after: (w: Where, i: number) => Promise<void>,
  extra: Partial<ServerOptions> = {},
): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const w = await where();
    const { server, readyMs } = await startServer({ ...serverOpts(w), ...extra });
    times.push(readyMs);
    await server.stop();
    await after(w, i);
  }
  return times;
}

interface LoginFigures {
  clients: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  roundTrips: number;
}

/** login + whoami round trips, `clients` concurrent loops (one user each) for `durationS`. */
async function loginLoop(url: string, users: { name: string; password: string }[], clients: number, durationS: number): Promise<LoginFigures> {
  const lat: number[] = [];
  const start = performance.now();
  const end = start + durationS * 1000;
  await Promise.all(
    users.slice(0, clients).map(async (u) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const s = await login(url, u.name, u.password);
        const me = await whoami(url, s.access_token);
        if (!me.user_id.startsWith(`@${u.name}:`)) throw new Error(`whoami returned ${me.user_id}`);
        lat.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  return { clients, rps: lat.length / elapsed, p50Ms: median(lat), p99Ms: percentile(lat, 99), roundTrips: lat.length };
}

interface BackendFigures {
  backend: "sqlite" | "postgres";
  coldStartMs: number[];
  coldStartMedianMs: number;
  warmStartMs: number[];
  warmStartMedianMs: number;
  idleRss1sMb: number;
  idleRssSettledMb: number;
  rssAfterVersionsLoadMb: number;
  rssAfterLoginLoadMb: number;
  peakRssMb: number;
  versions: LoadFigures;
  argon2: Argon2Params;
  loginSequential: LoginFigures;
  loginConcurrent: LoginFigures;
}

async function measureBackend(backend: "sqlite" | "postgres", o: Options): Promise<BackendFigures> {
  const label = backend === "sqlite" ? "SQLite" : "PostgreSQL";
  const pgAdmin = backend === "postgres" ? o.postgres : undefined;

  // 1. Cold starts: each on a new data_dir (and a new database), so the signing key is generated and
  //    every migration runs. The last one is kept for the warm restarts.
  log(`${label}: ${o.runs} cold starts`);
  let keep: Where | undefined;
  const cold = await timeStarts(o.runs, () => freshWhere(pgAdmin), async (w, i) => {
    if (i === o.runs - 1) keep = w;
    else await dropWhere(w);
  });
  log(`${label}: ${o.runs} warm restarts`);
  const warm = await timeStarts(o.runs, async () => keep!, async () => {});
  await dropWhere(keep!);

  // 2–4. One server (cold-started) for memory, /versions load and login.
  const w = await freshWhere(pgAdmin);
  let server: RunningServer | undefined;
  try {
    ({ server } = await startServer(serverOpts(w)));
    const url = server.url;
    for (let i = 0; i < 10; i++) await versions(url);
    await sleep(1000);
    const idle = readMemory(server.pid);
    // V8 grows the young generation while modules compile at start-up and only gives it back at its
    // memory reducer's first pass, ~8 s after the start-up mark-compact: measure again once settled.
    // Lowest RSS seen while idle for IDLE_SETTLE_S s (sampled every 500 ms): idle RSS only goes down.
    log(`${label}: idle RSS at 1 s, then the lowest over ${IDLE_SETTLE_S} s idle`);
    let settled = idle;
    for (let t = 1; t < IDLE_SETTLE_S; t += 0.5) {
      await sleep(500);
      const m = readMemory(server.pid);
      if (m.rssMb < settled.rssMb) settled = m;
    }

    log(`${label}: /versions with autocannon, ${o.durationS} s, 50 connections`);
    const v = await runLoad({ url: `${url}/_matrix/client/versions`, connections: 50, pipelining: 1, durationS: o.durationS });
    await sleep(500);
    const afterVersions = readMemory(server.pid);

    log(`${label}: login + whoami, ${o.loginDurationS} s sequential then ${o.loginDurationS} s × ${o.concurrency} clients`);
    const users = [];
    for (let i = 0; i < o.concurrency; i++) {
      const u = { name: `bench${i}`, password: `bench-password-${i}-${process.pid}` };
      await register(url, u.name, u.password);
      users.push(u);
    }
    const argon2 = parseArgon2(await storedPasswordHash({ dataDir: w.dataDir, database: w.db?.url }, `@bench0:bench.local`));
    await loginLoop(url, users, 1, 0.5); // warm-up (JIT, dummy hash, connections)
    const seq = await loginLoop(url, users, 1, o.loginDurationS);
    const conc = await loginLoop(url, users, o.concurrency, o.loginDurationS);
    await sleep(500);
    const afterLogin = readMemory(server.pid);

    return {
      backend,
      coldStartMs: cold.map((x) => round(x, 1)),
      coldStartMedianMs: round(median(cold), 1),
      warmStartMs: warm.map((x) => round(x, 1)),
      warmStartMedianMs: round(median(warm), 1),
      idleRss1sMb: round(idle.rssMb, 1),
      idleRssSettledMb: round(settled.rssMb, 1),
      rssAfterVersionsLoadMb: round(afterVersions.rssMb, 1),
      rssAfterLoginLoadMb: round(afterLogin.rssMb, 1),
      peakRssMb: round(afterLogin.hwmMb, 1),
      versions: { ...v, rps: round(v.rps), p50Ms: round(v.p50Ms, 2), p99Ms: round(v.p99Ms, 2) },
      argon2,
      loginSequential: { ...seq, rps: round(seq.rps, 2), p50Ms: round(seq.p50Ms, 1), p99Ms: round(seq.p99Ms, 1) },
      loginConcurrent: { ...conc, rps: round(conc.rps, 2), p50Ms: round(conc.p50Ms, 1), p99Ms: round(conc.p99Ms, 1) },
    };
  } finally {
    await server?.stop();
    await dropWhere(w);
  }
}

const verdict = (ok: boolean) => (ok ? "ok" : "MISS");

function render(results: BackendFigures[], baselineMs: number, o: Options): string {
  const cols = results.map((r) => (r.backend === "sqlite" ? "SQLite" : "PostgreSQL"));
  const rows: string[][] = [["figure", ...cols, "target", "Synapse 1.67 (ref.)"]];
  const add = (name: string, f: (r: BackendFigures) => string, target = "", ref = "") => rows.push([name, ...results.map(f), target, ref]);
  add(
    `cold start → first /versions answer (median of ${o.runs}; new data_dir: key generation + all migrations)`,
    (r) => `${fmt(r.coldStartMedianMs)} ms [${fmt(Math.min(...r.coldStartMs))}–${fmt(Math.max(...r.coldStartMs))}] ${r.backend === "sqlite" ? verdict(r.coldStartMedianMs <= TARGETS.firstAnswerMs) : ""}`.trimEnd(),
    "≤ 1,000 ms (SQLite)",
    "~1,800 ms",
  );
  add(`warm restart → first answer (median of ${o.runs}; existing data_dir)`, (r) => `${fmt(r.warmStartMedianMs)} ms [${fmt(Math.min(...r.warmStartMs))}–${fmt(Math.max(...r.warmStartMs))}]`);
  add(`  floor: bare node:http server → first answer (median of ${o.runs})`, () => `${fmt(baselineMs)} ms`);
  add("idle RSS, 1 s after start + 10 requests", (r) => `${fmt(r.idleRss1sMb, 1)} MB ${verdict(r.idleRss1sMb <= TARGETS.idleRssMb)}`, "≤ 80 MB", "~100 MB");
  add(`idle RSS, settled (lowest in ${IDLE_SETTLE_S} s idle, after V8's memory reducer)`, (r) => `${fmt(r.idleRssSettledMb, 1)} MB ${verdict(r.idleRssSettledMb <= TARGETS.idleRssMb)}`, "≤ 80 MB", "~100 MB");
  add("RSS after /versions load", (r) => `${fmt(r.rssAfterVersionsLoadMb, 1)} MB`);
  add("RSS after login load (peak)", (r) => `${fmt(r.rssAfterLoginLoadMb, 1)} MB (${fmt(r.peakRssMb, 1)})`);
  add(
    `/versions req/s (autocannon ${o.durationS} s, 50 conn, pipelining 1)`,
    (r) => `${fmt(r.versions.rps)} ${verdict(r.versions.rps >= TARGETS.versionsRps)}${r.versions.errors + r.versions.non2xx ? ` (${r.versions.errors} err, ${r.versions.non2xx} non-2xx)` : ""}`,
    "≥ 5,000 req/s",
  );
  const ms = (x: number) => (x < 1 ? "<1" : fmt(x)); // autocannon records latency in whole ms
  add("/versions latency p50 / p99", (r) => `${ms(r.versions.p50Ms)} / ${ms(r.versions.p99Ms)} ms`);
  add("argon2 parameters (read from the stored hash)", (r) => `${r.argon2.variant} m=${r.argon2.memoryKib} KiB t=${r.argon2.timeCost} p=${r.argon2.parallelism}`);
  add(
    `login + whoami round trips/s, 1 client (${o.loginDurationS} s), p50 / p99`,
    (r) => `${fmt(r.loginSequential.rps, 1)}/s, ${fmt(r.loginSequential.p50Ms)} / ${fmt(r.loginSequential.p99Ms)} ms`,
  );
  add(
    `login + whoami round trips/s, ${o.concurrency} clients (${o.loginDurationS} s), p50 / p99`,
    (r) => `${fmt(r.loginConcurrent.rps, 1)}/s, ${fmt(r.loginConcurrent.p50Ms)} / ${fmt(r.loginConcurrent.p99Ms)} ms`,
  );
  return table(rows);
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const machine = { node: process.version, cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "", memGb: round(totalmem() / 2 ** 30, 1) };
  log(`node ${machine.node}, ${machine.cpus} CPUs (${machine.cpuModel}); load generator and server share them`);
  try {
    log(`bare node:http baseline, ${o.runs} starts`);
    const base = await timeStarts(o.runs, async () => ({ dataDir: freshDataDir() }), async (w) => removeDataDir(w.dataDir), { script: BASELINE_SCRIPT, args: [] });
    const results = [await measureBackend("sqlite", o)];
    if (o.postgres) results.push(await measureBackend("postgres", o));

    console.log(`\nRempart foundation benchmark — node ${machine.node}, ${machine.cpus} CPUs, server: node bin/rempart.js start, log level warn`);
    console.log("(load generator and server share the CPUs: compare ratios within one run, not absolute figures across runs)\n");
    console.log(render(results, median(base), o));
    console.log("");
    const json = {
      bench: "foundation",
      date: new Date().toISOString(),
      machine,
      options: o.postgres ? { ...o, postgres: "(given)" } : o,
      targets: TARGETS,
      synapseReference: SYNAPSE,
      baselineNodeHttpFirstAnswerMs: { median: round(median(base), 1), runs: base.map((x) => round(x, 1)) },
      results,
    };
    console.log(`BENCH_JSON ${JSON.stringify(json)}`);
  } finally {
    await stopAll();
    await dropAllDatabases();
  }
}

main().then(
  () => process.exit(0),
  async (e) => {
    console.error(e instanceof Error ? e.stack : e);
    await stopAll();
    await dropAllDatabases();
    process.exit(1);
  },
);
