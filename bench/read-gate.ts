// Read-gate benchmark: audited reads per second (/messages of 50 events), the latency the gate adds
// against the same server with `read_gate.enabled=false`, and bytes of audit trail per read request.
// First the gate alone, in process (what it can sustain whatever the routes cost); then the real
// server as a child process on 127.0.0.1 with autocannon here, so both share the machine's cores:
// compare the ratio of the two modes measured in one run. In-flight requests at the end of a load
// run are answered (and audited) after autocannon stops counting, so records ≥ 2xx.
//
//   npm run bench:gate
//   node dist/bench/read-gate.js [--runs 2] [--duration 10] [--connections 10] [--read messages|event] [--flush-ms N] [--cpu-prof DIR] [--postgres URL]
//
// Prints a table and one line `BENCH_JSON {...}`.
import { join } from "node:path";
import { startServer } from "./lib/server.js";
import { freshDataDir, removeDataDir } from "./lib/datadir.js";
import { freshPostgresDatabase, dropAllDatabases } from "./lib/postgres.js";
import { runLoad, type LoadFigures } from "./lib/load.js";
import { register } from "./lib/matrix.js";
import { median, round, fmt, table } from "./lib/stats.js";
import { stopAll } from "./lib/children.js";
import { openStorage } from "../src/storage/database.js";
import { auditRepo } from "../src/storage/audit.js";
import { resolveConfig } from "../src/config/load.js";
import { createApp } from "../src/app.js";
import { createLogger } from "../src/log.js";
import { performance } from "node:perf_hooks";

const TARGETS = { auditedReadsPerS: 5000, addedLatencyPct: 10, bytesPerRead: 200 };

interface Options {
  runs: number;
  durationS: number;
  connections: number;
  /** read_gate.audit.flush_interval_ms of the server (default: the configured default). */
  flushMs?: number;
  /** What each HTTP request reads: a /messages page of 50 events, or one event (GET /event). */
  read: "messages" | "event";
  /** Directory for the gate-on server's V8 CPU profile (node --cpu-prof), written when it stops. */
  cpuProf?: string;
  postgres?: string;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { runs: 2, durationS: 10, connections: 10, read: "messages" };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => argv[++i] ?? "";
    if (a === "--runs") o.runs = Number(next());
    else if (a === "--duration") o.durationS = Number(next());
    else if (a === "--connections") o.connections = Number(next());
    else if (a === "--flush-ms") o.flushMs = Number(next());
    else if (a === "--read") {
      const v = next();
      if (v !== "messages" && v !== "event") throw new Error("--read is messages or event");
      o.read = v;
    }
    else if (a === "--cpu-prof") o.cpuProf = next();
    else if (a === "--postgres") o.postgres = next();
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

interface Run {
  gate: boolean;
  load: LoadFigures;
  reads?: number;
  payloadBytes?: number;
}

async function oneRun(gate: boolean, o: Options): Promise<Run> {
  const dataDir = freshDataDir("rempart-gate-bench-");
  const db = o.postgres ? await freshPostgresDatabase(o.postgres) : undefined;
  const database = db?.url ?? join(dataDir, "rempart.db");
  const { server } = await startServer({
    dataDir,
    database: db?.url,
    nodeArgs: gate && o.cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${o.cpuProf}`] : undefined,
    env: {
      REMPART_ENABLE_REGISTRATION: "true",
      REMPART_RATE_LIMITING__ENABLED: "false",
      REMPART_READ_GATE__ENABLED: String(gate),
      ...(o.flushMs !== undefined ? { REMPART_READ_GATE__AUDIT__FLUSH_INTERVAL_MS: String(o.flushMs) } : {}),
    },
  });
  try {
    const me = await register(server.url, `reader${Date.now()}`, "bench-password-long-1");
    const auth = { authorization: `Bearer ${me.access_token}`, "content-type": "application/json" };
    const created = (await (await fetch(`${server.url}/_matrix/client/v3/createRoom`, { method: "POST", headers: auth, body: JSON.stringify({ preset: "public_chat", name: "bench" }) })).json()) as { room_id: string };
    const room = encodeURIComponent(created.room_id);
    let lastEventId = "";
    for (let i = 0; i < 200; i++) {
      const r = await fetch(`${server.url}/_matrix/client/v3/rooms/${room}/send/m.room.message/b${i}`, { method: "PUT", headers: auth, body: JSON.stringify({ msgtype: "m.text", body: `message number ${i} of the benchmark` }) });
      lastEventId = ((await r.json()) as { event_id: string }).event_id;
    }
    const url = o.read === "event" ? `${server.url}/_matrix/client/v3/rooms/${room}/event/${encodeURIComponent(lastEventId)}` : `${server.url}/_matrix/client/v3/rooms/${room}/messages?dir=b&limit=50`;
    await runLoad({ url, headers: auth, connections: o.connections, durationS: 2 }); // warm-up
    const before = gate ? await countReads(database, o.read) : undefined;
    const load = await runLoad({ url, headers: auth, connections: o.connections, durationS: o.durationS });
    await server.stop(); // flushes the trail
    if (!gate) return { gate, load };
    const after = await countReads(database, o.read);
    return { gate, load, reads: after.reads - before!.reads, payloadBytes: after.bytes - before!.bytes };
  } finally {
    await server.stop();
    if (!o.postgres) removeDataDir(dataDir);
  }
}

async function countReads(database: string, endpoint: string): Promise<{ reads: number; bytes: number }> {
  const storage = await openStorage(database, { migrate: false });
  try {
    const repo = auditRepo(storage.db);
    const reads = Number((await storage.db.selectFrom("audit_log").select((eb) => eb.fn.countAll().as("n")).where("kind", "=", "read").where("data", "like", `%"e":"${endpoint}"%`).executeTakeFirstOrThrow()).n);
    return { reads, bytes: await repo.payloadBytes() };
  } finally {
    await storage.close();
  }
}

/** The gate alone, in process: release() of a 50-event /messages read, audit append included, then
 * the flush of every record to the database. What the gate can sustain, whatever the routes cost. */
async function gateAlone(o: Options, n = 50_000): Promise<{ perS: number; usPerRead: number; bytesPerRead: number }> {
  const dataDir = freshDataDir("rempart-gate-alone-");
  const db = o.postgres ? await freshPostgresDatabase(o.postgres) : undefined;
  const config = resolveConfig({ server_name: "bench.local", data_dir: dataDir, log_level: "silent", ...(db ? { database: db.url } : {}) });
  const app = await createApp(config, createLogger("silent"));
  try {
    const t0 = Date.now() - 3_600_000;
    const events = Array.from({ length: 50 }, (_, i) => ({ event_id: `$${"x".repeat(42)}${String(i).padStart(2, "0")}`, origin_server_ts: t0 + i }));
    const readers = Array.from({ length: 20 }, (_, i) => ({ userId: `@reader${i}:bench.local`, deviceId: `DEV${i}`, tokenId: i + 1, isAdmin: false }));
    const room = "!AbCdEfGhIjKlMnOpQr:bench.local";
    const before = await auditRepo(app.storage.db).payloadBytes();
    const start = performance.now();
    for (let i = 0; i < n; i++) {
      const who = readers[i % readers.length]!;
      await app.readGate.release({ who, ip: "192.0.2.10", userAgent: "Element/1.11 (bench)", endpoint: "messages" }, { rooms: [{ roomId: room, events, from: `t${100000 + i}`, to: `t${99950 + i}` }] });
    }
    await app.audit.flush();
    const s = (performance.now() - start) / 1000;
    const bytes = (await auditRepo(app.storage.db).payloadBytes()) - before;
    return { perS: n / s, usPerRead: (s * 1e6) / n, bytesPerRead: bytes / n };
  } finally {
    await app.close();
    removeDataDir(dataDir);
  }
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  log("the gate alone, in process");
  const alone = await gateAlone(o);
  const runs: Run[] = [];
  // Alternate the two modes so that drift in the machine's load affects both alike.
  for (let i = 0; i < o.runs; i++) {
    for (const gate of [false, true]) {
      log(`run ${i + 1}/${o.runs}, gate ${gate ? "on" : "off"}`);
      runs.push(await oneRun(gate, o));
    }
  }
  const on = runs.filter((r) => r.gate);
  const off = runs.filter((r) => !r.gate);
  const rpsOn = median(on.map((r) => r.load.rps));
  const rpsOff = median(off.map((r) => r.load.rps));
  const p50On = median(on.map((r) => r.load.p50Ms));
  const p50Off = median(off.map((r) => r.load.p50Ms));
  // Mean latency per request at a fixed concurrency is connections / throughput.
  const meanOn = o.connections / rpsOn * 1000;
  const meanOff = o.connections / rpsOff * 1000;
  const addedPct = ((meanOn - meanOff) / meanOff) * 100;
  const reads = on.reduce((a, r) => a + (r.reads ?? 0), 0);
  const ok = on.reduce((a, r) => a + r.load.ok, 0);
  const bytes = on.reduce((a, r) => a + (r.payloadBytes ?? 0), 0);
  const bytesPerRead = reads ? bytes / reads : 0;
  const rows = [
    ["figure", "value", "target"],
    ["gate alone: audited reads/s (50-event read, in process)", fmt(alone.perS), `≥ ${TARGETS.auditedReadsPerS}`],
    ["gate alone: µs per read, trail bytes per read", `${fmt(alone.usPerRead, 1)} µs, ${fmt(alone.bytesPerRead, 1)} B`, ""],
    [`audited reads/s over HTTP (${o.read === "event" ? "/event, one event" : "/messages, 50 events"})`, fmt(rpsOn), `≥ ${TARGETS.auditedReadsPerS}`],
    ["reads/s with the gate disabled", fmt(rpsOff), ""],
    ["mean latency gate on / off (ms)", `${fmt(meanOn, 2)} / ${fmt(meanOff, 2)}`, ""],
    ["p50 latency gate on / off (ms)", `${fmt(p50On, 1)} / ${fmt(p50Off, 1)}`, ""],
    ["added latency (%)", fmt(addedPct, 1), `≤ ${TARGETS.addedLatencyPct}`],
    ["trail bytes per read request", fmt(bytesPerRead, 1), `≤ ${TARGETS.bytesPerRead}`],
    ["reads answered 2xx / audit records", `${ok} / ${reads}`, "records ≥ 2xx (never sampled)"],
  ];
  console.log(table(rows));
  console.log(
    "BENCH_JSON " +
      JSON.stringify({
        database: o.postgres ? "postgres" : "sqlite",
        connections: o.connections,
        duration_s: o.durationS,
        runs: o.runs,
        gate_alone_reads_per_s: round(alone.perS),
        gate_alone_us_per_read: round(alone.usPerRead, 1),
        gate_alone_bytes_per_read: round(alone.bytesPerRead, 1),
        audited_reads_per_s: round(rpsOn),
        reads_per_s_gate_off: round(rpsOff),
        added_latency_pct: round(addedPct, 1),
        trail_bytes_per_read: round(bytesPerRead, 1),
        reads_2xx: ok,
        audit_records: reads,
      }),
  );
}

main()
  .catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  })
  .finally(async () => {
    await stopAll();
    await dropAllDatabases();
  });
