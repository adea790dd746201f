// Rooms benchmark: how fast the room writer takes events and /messages answers, on the real server
// (`node bin/rempart.js start`, child process, 127.0.0.1), on SQLite and optionally PostgreSQL.
//
//   npm run bench:rooms                                   # SQLite
//   npm run bench:rooms -- --postgres postgres://postgres@127.0.0.1:5432/postgres   # both
//   node dist/bench/rooms.js --sends 2000 --per-client 50 --reads 300 [--postgres URL] [--cpu-prof DIR]
//
// Figures: sequential sends/s with one client; sends/s with 64 clients (64 rooms, then one shared
// room); /messages latency for a page of 100 events (median, p95). Prints a table and one line
// `BENCH_JSON {...}`. The load generator shares the machine's cores with the server: compare
// figures of one run, not across machines. The server's own CPU time per operation (from /proc) is
// printed too: it depends much less on what else the machine runs, and 1000 / (CPU ms per send) is
// the rate one otherwise idle core would sustain.
//
// The sequential figure is the server's steady state: it follows --warmup untimed sends (2,000 by
// default). V8 optimises the send path's functions only after thousands of calls; measured right
// after start, the same server spent ~1.35 ms of CPU per send instead of ~0.8 (a server runs for
// days, so the steady state is what users get). Timed requests go over lib/raw-http.ts (a few tens
// of µs of client CPU per request; node:http took ~0.27 ms, fetch ~0.9 ms): the figure is the server's.
import { performance } from "node:perf_hooks";
import { cpus, loadavg } from "node:os";
import { startServer, type RunningServer } from "./lib/server.js";
import { freshDataDir, removeDataDir } from "./lib/datadir.js";
import { freshPostgresDatabase, dropAllDatabases, type FreshDatabase } from "./lib/postgres.js";
import { register, type Session } from "./lib/matrix.js";
import { median, percentile, round, fmt, table } from "./lib/stats.js";
import { stopAll } from "./lib/children.js";
import { assertLoopback } from "./lib/loopback.js";
import { cpuMs } from "./lib/cpu.js";
import { callJson } from "./lib/http-json.js";
import { RawConnection } from "./lib/raw-http.js";

const TARGETS = { sequentialSqlite: 1000, sequentialPostgres: 500, concurrent: 2000, messagesMedianMs: 5 };
const CLIENTS = 64;

interface Options {
  postgres?: string;
  sends: number;
  perClient: number;
  reads: number;
  /** Sends before the sequential measurement, neither timed nor counted in the CPU figure. */
  warmup: number;
  /** Directory for the server's V8 CPU profile (node --cpu-prof), written when it stops. */
  cpuProf?: string;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { sends: 2000, perClient: 40, reads: 300, warmup: 2000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--postgres") o.postgres = next();
    else if (a === "--sends") o.sends = Number(next());
    else if (a === "--per-client") o.perClient = Number(next());
    else if (a === "--reads") o.reads = Number(next());
    else if (a === "--warmup") o.warmup = Number(next());
    else if (a === "--cpu-prof") o.cpuProf = next();
    else if (a === "--help" || a === "-h") {
      console.log("usage: node dist/bench/rooms.js [--postgres URL] [--sends N] [--per-client N] [--reads N] [--warmup N] [--cpu-prof DIR]");
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const log = (msg: string) => process.stderr.write(`[bench:rooms] ${msg}\n`);

// Registration open, no rate limits, cheap password hashing: the benchmark measures rooms, not logins.
const SERVER_ENV = {
  REMPART_ENABLE_REGISTRATION: "true",
  REMPART_RATE_LIMITING__ENABLED: "false",
  REMPART_PASSWORD_HASHING__MEMORY_KIB: "1024",
  REMPART_PASSWORD_HASHING__TIME_COST: "1",
};

const api = <T>(base: string, method: string, path: string, token: string, body?: unknown): Promise<T> =>
  callJson<T>(base + path, method, { token, body });

const createRoom = (base: string, s: Session, preset = "public_chat") => api<{ room_id: string }>(base, "POST", "/_matrix/client/v3/createRoom", s.access_token, { preset });
const join = (base: string, s: Session, roomId: string) => api<object>(base, "POST", `/_matrix/client/v3/join/${encodeURIComponent(roomId)}`, s.access_token, {});
// Each user's timed requests go over its own lean keep-alive connection (lib/raw-http.ts).
const connections = new Map<string, RawConnection>();
const connectionOf = (base: string, s: Session): RawConnection => {
  let c = connections.get(s.access_token);
  if (!c) connections.set(s.access_token, (c = new RawConnection(base)));
  return c;
};
let txn = 0;
const send = (base: string, s: Session, roomId: string, body: string) =>
  connectionOf(base, s).json<{ event_id: string }>("PUT", `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/b${++txn}`, s.access_token, { msgtype: "m.text", body });

interface Figures {
  backend: "sqlite" | "postgres";
  sequentialSendsPerS: number;
  concurrentRoomsSendsPerS: number;
  concurrentOneRoomSendsPerS: number;
  messages100MedianMs: number;
  messages100P95Ms: number;
  /** Server CPU milliseconds per operation in each phase. */
  sequentialCpuMsPerSend: number;
  concurrentRoomsCpuMsPerSend: number;
  concurrentOneRoomCpuMsPerSend: number;
  messages100CpuMs: number;
  /** Load average (1 min) when the backend's measurement ended: how shared the machine was. */
  loadAverage: number;
}

/** Sequential sends of one client into one room: [sends/s, server CPU ms per send], after `warmup` untimed sends. */
async function sequential(base: string, s: Session, n: number, warmup: number, pid: number): Promise<[number, number]> {
  const { room_id } = await createRoom(base, s);
  for (let i = 0; i < warmup; i++) await send(base, s, room_id, `warm ${i}`);
  const c0 = cpuMs(pid);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await send(base, s, room_id, `sequential ${i}`);
  return [n / ((performance.now() - t0) / 1000), (cpuMs(pid) - c0) / n];
}

/** Every client sends `perClient` messages one after the other, all clients at the same time. */
async function concurrent(base: string, users: Session[], roomOf: (i: number) => string, perClient: number): Promise<number> {
  const t0 = performance.now();
  await Promise.all(users.map(async (u, i) => {
    for (let j = 0; j < perClient; j++) await send(base, u, roomOf(i), `c${i} m${j}`);
  }));
  return (users.length * perClient) / ((performance.now() - t0) / 1000);
}

async function messagesLatency(base: string, s: Session, reads: number, pid: number): Promise<{ median: number; p95: number; cpu: number }> {
  const { room_id } = await createRoom(base, s);
  for (let i = 0; i < 150; i++) await send(base, s, room_id, `history ${i} with a body of ordinary length, about one line of chat`);
  const path = `/_matrix/client/v3/rooms/${encodeURIComponent(room_id)}/messages?dir=b&limit=100`;
  const times: number[] = [];
  let cpu0 = 0;
  for (let i = 0; i < reads + 20; i++) {
    if (i === 20) cpu0 = cpuMs(pid);
    const t0 = performance.now();
    const res = await connectionOf(base, s).json<{ chunk: unknown[] }>("GET", path, s.access_token);
    const t = performance.now() - t0;
    if (res.chunk.length !== 100) throw new Error(`expected 100 events, got ${res.chunk.length}`);
    if (i >= 20) times.push(t);
  }
  return { median: median(times), p95: percentile(times, 95), cpu: (cpuMs(pid) - cpu0) / reads };
}

async function measure(backend: "sqlite" | "postgres", o: Options): Promise<Figures> {
  const dataDir = freshDataDir();
  let db: FreshDatabase | undefined;
  let server: RunningServer | undefined;
  try {
    if (backend === "postgres") db = await freshPostgresDatabase(o.postgres!);
    ({ server } = await startServer({ dataDir, database: db?.url, env: SERVER_ENV, nodeArgs: o.cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${o.cpuProf}`] : undefined }));
    const base = server.url;
    assertLoopback(base);
    log(`${backend}: registering ${CLIENTS} users`);
    const users: Session[] = [];
    for (let i = 0; i < CLIENTS; i++) users.push(await register(base, `bench${i}`, `bench-password-${i}`));
    const one = users[0]!;

    const pid = server.pid;
    /** Runs a phase and returns its result with the server's CPU ms per `ops` operations. */
    const withCpu = async <T>(ops: number, f: () => Promise<T>): Promise<[T, number]> => {
      const c0 = cpuMs(pid);
      const r = await f();
      return [r, (cpuMs(pid) - c0) / ops];
    };
    log(`${backend}: ${o.warmup} warm-up sends, then ${o.sends} sequential sends`);
    const [sequentialSendsPerS, sequentialCpuMsPerSend] = await sequential(base, one, o.sends, o.warmup, pid);

    log(`${backend}: ${CLIENTS} clients × ${o.perClient} sends, one room each`);
    const own = await Promise.all(users.map((u) => createRoom(base, u).then((r) => r.room_id)));
    await concurrent(base, users, (i) => own[i]!, 5);
    const [concurrentRoomsSendsPerS, concurrentRoomsCpuMsPerSend] = await withCpu(CLIENTS * o.perClient, () => concurrent(base, users, (i) => own[i]!, o.perClient));

    log(`${backend}: ${CLIENTS} clients × ${o.perClient} sends, one shared room`);
    const { room_id: shared } = await createRoom(base, one);
    for (const u of users.slice(1)) await join(base, u, shared);
    // Untimed, as for the 64 rooms: the first sends of a 64-member room run code paths not yet
    // optimised (push evaluation for its members).
    await concurrent(base, users, () => shared, 5);
    const [concurrentOneRoomSendsPerS, concurrentOneRoomCpuMsPerSend] = await withCpu(CLIENTS * o.perClient, () => concurrent(base, users, () => shared, o.perClient));

    log(`${backend}: ${o.reads} × /messages?limit=100`);
    const m = await messagesLatency(base, one, o.reads, pid);
    return {
      backend,
      sequentialSendsPerS,
      concurrentRoomsSendsPerS,
      concurrentOneRoomSendsPerS,
      messages100MedianMs: m.median,
      messages100P95Ms: m.p95,
      sequentialCpuMsPerSend,
      concurrentRoomsCpuMsPerSend,
      concurrentOneRoomCpuMsPerSend,
      messages100CpuMs: m.cpu,
      loadAverage: loadavg()[0]!,
    };
  } finally {
    for (const c of connections.values()) c.close();
    connections.clear();
    await server?.stop();
    removeDataDir(dataDir);
    await db?.drop();
  }
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  try {
    const results: Figures[] = [await measure("sqlite", o)];
    if (o.postgres) results.push(await measure("postgres", o));
    const rows = [["figure", ...results.map((r) => r.backend), "target"]];
    const seqTarget = results.map((r) => (r.backend === "sqlite" ? TARGETS.sequentialSqlite : TARGETS.sequentialPostgres));
    rows.push(["sequential sends/s, 1 client", ...results.map((r) => fmt(r.sequentialSendsPerS)), `≥ ${seqTarget.map((t) => fmt(t)).join(" / ")}`]);
    rows.push([`sends/s, ${CLIENTS} clients, ${CLIENTS} rooms`, ...results.map((r) => fmt(r.concurrentRoomsSendsPerS)), `≥ ${fmt(TARGETS.concurrent)}`]);
    rows.push([`sends/s, ${CLIENTS} clients, 1 room`, ...results.map((r) => fmt(r.concurrentOneRoomSendsPerS)), `≥ ${fmt(TARGETS.concurrent)}`]);
    rows.push(["/messages 100 events, median ms", ...results.map((r) => fmt(r.messages100MedianMs, 2)), `≤ ${TARGETS.messagesMedianMs}`]);
    rows.push(["/messages 100 events, p95 ms", ...results.map((r) => fmt(r.messages100P95Ms, 2)), ""]);
    rows.push(["server CPU ms per send, sequential", ...results.map((r) => fmt(r.sequentialCpuMsPerSend, 3)), ""]);
    rows.push([`server CPU ms per send, ${CLIENTS} rooms`, ...results.map((r) => fmt(r.concurrentRoomsCpuMsPerSend, 3)), ""]);
    rows.push([`server CPU ms per send, 1 room`, ...results.map((r) => fmt(r.concurrentOneRoomCpuMsPerSend, 3)), ""]);
    rows.push(["server CPU ms per /messages of 100", ...results.map((r) => fmt(r.messages100CpuMs, 3)), ""]);
    rows.push(["load average (1 min) at the end", ...results.map((r) => fmt(r.loadAverage, 1)), `${cpus().length} cores`]);
    console.log(table(rows));
    const json = results.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === "number" ? round(v, 2) : v])));
    console.log(`BENCH_JSON ${JSON.stringify({ bench: "rooms", options: o.postgres ? { ...o, postgres: "(given)" } : o, results: json, targets: TARGETS })}`);
  } finally {
    await stopAll();
    await dropAllDatabases();
  }
}

main().then(
  () => process.exit(0),
  async (e: unknown) => {
    console.error(e instanceof Error ? e.stack : e);
    await stopAll();
    await dropAllDatabases();
    process.exit(1);
  },
);
