// Sync benchmark: long-poll wake-up latency (a message is sent → another client's pending /sync
// returns) with 1, 100 and 1,000 concurrent long-pollers in one room; the initial sync of a user in
// many large rooms with lazy-loaded members; and an incremental sync with nothing new.
//
//   npm run bench:sync                                  # SQLite, 300 rooms × 300 members
//   node dist/bench/sync.js --rooms 300 --members 300 --events 20 [--postgres URL] [--cpu-prof DIR]
//   node dist/bench/sync.js --rooms 0 --pollers 1,100,1000 --rounds 6   # wake-up only
//   node dist/bench/sync.js --rooms 0 --pollers 1000 --rounds 6 --floor 1044 [--floor-workers 2]   # its floor
//   node dist/bench/sync.js --pollers 0 --keep /tmp/rempart-sync-data   # build once, reuse after
//   node dist/bench/sync.js --pollers 0 --keep /tmp/rempart-sync-pg --postgres URL   # same, database kept too
//
// The data (users, the long-poll room and its joins, the initial-sync dataset) is built in this
// process through the services (room writer, membership), never raw SQL; the app is then closed and
// every measurement is taken against the real server (`node bin/rempart.js start`, a child process
// on the same data directory or PostgreSQL database) over HTTP: keep-alive node:http for the setup
// (lib/http-json.ts), and for the long-polls the leanest client we have (lib/raw-http.ts, one socket
// per long-poller). The load generator still shares the machine's two
// cores with the server, so the server's own CPU time per operation (from /proc) is printed too.
//
// A long-poll's latency is taken when its response's first bytes reach the client (before the
// client reads the body): the client's reading of 1,000 responses is left out, its event loop is not.
// Before each send the bench waits until every long-poll has been written to its socket and the
// server's CPU has gone quiet (lib/idle.ts): the server has then read them all and parked them; it
// is asked nothing (there is no benchmark backdoor).
//
// The initial-sync dataset (300 × 300 is 90,000 joins) is built with many rooms in flight at once
// (--parallel, 16 by default): each room's joins go through its writer in order, and the writer's
// group commit shares transactions across rooms. With --keep DIR the data directory is kept (with
// --postgres, the database too, named after DIR) and a later run with the same sizes reuses it
// instead of building it again.
// Prints figures, asserts nothing.
import { analyze, freshPostgresDatabase, keptPostgresDatabase } from "./lib/postgres.js";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { createHash, randomBytes } from "node:crypto";
import { resolveConfig } from "../src/config/load.js";
import { createApp, type App } from "../src/app.js";
import { createLogger } from "../src/log.js";
import { median, percentile, fmt, table } from "./lib/stats.js";
import { startServer, type RunningServer } from "./lib/server.js";
import { stopAll } from "./lib/children.js";
import { cpuMs, treeCpuMs } from "./lib/cpu.js";
import { waitForIdle } from "./lib/idle.js";
import { callJson, requestJson } from "./lib/http-json.js";
import { RawConnection } from "./lib/raw-http.js";
import { fileURLToPath } from "node:url";

const FLOOR_SCRIPT = fileURLToPath(new URL("./lib/longpoll-floor.js", import.meta.url));

interface Options {
  rooms: number;
  members: number;
  events: number;
  pollers: number[];
  rounds: number;
  parallel: number;
  keep?: string;
  postgres?: string;
  /** Directory for the server's V8 CPU profile (node --cpu-prof), written when it stops. */
  cpuProf?: string;
  /** Wake-up against bench/lib/longpoll-floor.ts instead of the server: bare node:http answering
   * every parked long-poll with a prebuilt body of this many bytes (the floor of the measurement). */
  floor?: number;
  /** With --floor: serve from this many processes (node:cluster). */
  floorWorkers: number;
  /** Extra node flags for the server child (e.g. "--max-semi-space-size=64"), space-separated. */
  nodeArgs: string[];
}

function parseOptions(argv: string[]): Options {
  const o: Options = { rooms: 300, members: 300, events: 20, pollers: [1, 100, 1000], rounds: 20, parallel: 16, nodeArgs: [], floorWorkers: 1 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => argv[++i] ?? "";
    if (a === "--rooms") o.rooms = Number(next());
    else if (a === "--members") o.members = Number(next());
    else if (a === "--events") o.events = Number(next());
    else if (a === "--pollers") o.pollers = next().split(",").map(Number);
    else if (a === "--rounds") o.rounds = Number(next());
    else if (a === "--postgres") o.postgres = next();
    else if (a === "--parallel") o.parallel = Number(next());
    else if (a === "--keep") o.keep = next();
    else if (a === "--cpu-prof") o.cpuProf = next();
    else if (a === "--floor") o.floor = Number(next());
    else if (a === "--floor-workers") o.floorWorkers = Number(next());
    else if (a === "--node-args") o.nodeArgs.push(...next().split(" ").filter(Boolean));
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const log = (msg: string) => process.stderr.write(`[bench:sync] ${msg}\n`);
/** CLOCK_MONOTONIC in µs: the clock of the timestamps in a V8 CPU profile (node --cpu-prof). */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
const WARMUP_ROUNDS = 1;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Member {
  userId: string;
  token: string;
}

async function makeUsers(app: App, prefix: string, n: number): Promise<Member[]> {
  const out: Member[] = [];
  for (let i = 0; i < n; i++) {
    const userId = await app.accounts.createUser(`${prefix}${i}`, null);
    const s = await app.accounts.startSession(userId, {});
    out.push({ userId, token: s.access_token });
  }
  return out;
}

/** Incremental syncs measured with one new message each (each waits for the server to go quiet first). */
const ONE_NEW_SYNCS = 60;

async function syncOnce(url: string, token: string, query: string): Promise<{ body: { next_batch: string }; ms: number }> {
  const t0 = performance.now();
  const res = await requestJson<{ next_batch: string }>(`${url}/_matrix/client/v3/sync?${query}`, "GET", { token });
  if (res.status !== 200) throw new Error(`sync ${res.status} ${JSON.stringify(res.body)}`);
  return { body: res.body, ms: performance.now() - t0 };
}

interface WakeFigures {
  latencies: number[];
  /** Each round's wake-up, from just before the send until the last poller has its answer. */
  windows: Array<[number, number]>;
  /** Server CPU ms from just before each send until every poller has its answer, per woken poller. */
  cpuPerWoken: number;
  /** Size of the first poller's woken response (JSON text), averaged over the rounds. */
  bytes: number;
}

/** The next_batch of a /sync answer, without parsing the whole body while other answers wait. */
function nextBatch(body: string): string {
  const m = /"next_batch":"([^"]+)"/.exec(body);
  if (!m) throw new Error(`no next_batch in ${body.slice(0, 200)}`);
  return m[1]!;
}

/** Wake-up latency: `n` members long-poll; a sender writes; each poller's return time is measured. */
async function wakeUp(server: RunningServer, sender: Member, pollers: Member[], roomId: string, rounds: number): Promise<WakeFigures> {
  const url = server.url;
  // Each poller starts as a client would: an initial sync (with lazy-loaded members, so that it
  // does not carry the room's 1,000 member events), then long-polls with the same filter.
  const filter = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 5 }, state: { lazy_load_members: true } } }));
  const tokens: string[] = [];
  for (let i = 0; i < pollers.length; i += 50) {
    const batch = pollers.slice(i, i + 50);
    tokens.push(...(await Promise.all(batch.map(async (p) => (await syncOnce(url, p.token, `timeout=0&filter=${filter}`)).body.next_batch))));
  }
  const latencies: number[] = [];
  let early = 0;
  let notIdle = 0;
  let sentAt = 0;
  let wakeCpu = 0;
  let bytes = 0;
  const windows: Array<[number, number]> = [];
  // The long-polls go over lib/raw-http.ts, one connection per poller: node:http's client cost the
  // load generator more per response than the floor server spent answering it, so the last of
  // 1,000 answers waited mostly on the load generator's own event loop.
  const connections: RawConnection[] = [];
  for (let i = 0; i < pollers.length; i++) {
    connections.push(new RawConnection(url));
    // 1,000 simultaneous connects would overflow the listen backlog.
    if (i % 50 === 49) await sleep(20);
  }
  const path = (i: number) => `/_matrix/client/v3/sync?timeout=60000&since=${tokens[i]}&filter=${filter}`;
  // One unmeasured round first: the server has just started (and V8 has not optimised its send
  // and sync paths yet); the first rounds would measure the JIT compiler.
  for (let r = -WARMUP_ROUNDS; r < rounds; r++) {
    const measured = r >= 0;
    sentAt = 0;
    const returned: Promise<void>[] = [];
    let written = 0;
    let allWritten!: () => void;
    const everyWritten = new Promise<void>((resolve) => (allWritten = resolve));
    const onSent = () => {
      if (++written === pollers.length) allWritten();
    };
    for (let i = 0; i < pollers.length; i++) {
      const p = pollers[i]!;
      returned.push(
        (async () => {
          for (let first = true; ; first = false) {
            let at = 0;
            const res = await connections[i]!.request("GET", path(i), p.token, undefined, { onSent: first ? onSent : undefined, onFirstByte: () => (at = performance.now()) });
            if (res.status !== 200) throw new Error(`sync ${res.status} ${res.body.slice(0, 300)}`);
            tokens[i] = nextBatch(res.body);
            if (sentAt === 0) {
              // Woken by something else before the send (none expected): counted, and polled again.
              early++;
              continue;
            }
            if (measured) latencies.push(at - sentAt);
            if (measured && i === 0) bytes += res.body.length / rounds;
            return;
          }
        })(),
      );
    }
    // Send only once every long-poll is parked on the server: all written, and the server quiet.
    await everyWritten;
    if (!(await waitForIdle(server.pid))) notIdle++;
    const cpu0 = treeCpuMs(server.pid);
    const startedUs = monotonicUs();
    sentAt = performance.now();
    await callJson(`${url}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/w${pollers.length}-${r}-${randomBytes(3).toString("hex")}`, "PUT", {
      token: sender.token,
      body: { msgtype: "m.text", body: `round ${r}` },
    });
    await Promise.all(returned);
    if (!measured) continue;
    wakeCpu += treeCpuMs(server.pid) - cpu0;
    windows.push([startedUs, monotonicUs()]);
  }
  for (const c of connections) c.close();
  if (early) log(`  ${early} long-polls returned before the send and were made again`);
  if (notIdle) log(`  ${notIdle} rounds: the server did not go quiet within 30 s before the send`);
  return { latencies, windows, bytes, cpuPerWoken: wakeCpu / (pollers.length * rounds) };
}

/** Joins queue device-list updates that are written after the join returns: wait for them, so
 * that they do not run during the measurements. */
async function settle(app: App): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const q = app.e2ee.deviceLists.settled();
    await q;
    if (app.e2ee.deviceLists.settled() === q) return;
  }
}

/**
 * The initial-sync dataset: `rooms` rooms of `members` members (one of them the subject) with
 * `events` messages each, built through the services with `parallel` rooms in flight at once.
 */
async function buildDataset(app: App, o: Options): Promise<Member> {
  log(`building ${o.rooms} rooms × ${o.members} members × ${o.events} events through the services, ${o.parallel} rooms at a time`);
  const t0 = performance.now();
  const members = await makeUsers(app, "m", o.members - 1);
  const [subject] = await makeUsers(app, "subject", 1);
  let nextRoom = 0;
  let done = 0;
  const buildRoom = async (r: number) => {
    const creator = members[r % members.length]!;
    const roomId = (await app.rooms.create({ userId: creator.userId, deviceId: "BENCH" }, { preset: "public_chat", name: `Room ${r}` })).room_id;
    await app.membership.join(subject!.userId, roomId);
    for (const m of members) if (m !== creator) await app.membership.join(m.userId, roomId);
    for (let e = 0; e < o.events; e++) {
      const who = members[(r + e) % members.length]!;
      await app.rooms.send({ userId: who.userId, deviceId: "BENCH" }, roomId, "m.room.message", { msgtype: "m.text", body: `message ${e} in room ${r}` }, `i${r}-${e}`);
    }
    if (++done % 25 === 0) log(`  ${done} rooms (${Math.round((performance.now() - t0) / 1000)} s)`);
  };
  await Promise.all(
    Array.from({ length: Math.min(o.parallel, o.rooms) }, async () => {
      while (nextRoom < o.rooms) await buildRoom(nextRoom++);
    }),
  );
  await settle(app);
  log(`  built in ${Math.round((performance.now() - t0) / 1000)} s (device-list updates included)`);
  return subject!;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (o.keep) mkdirSync(o.keep, { recursive: true });
  const dataDir = o.keep ?? mkdtempSync(join(tmpdir(), "rempart-bench-sync-"));
  const datasetFile = join(dataDir, "bench-dataset.json");
  const datasetKey = `${o.rooms}x${o.members}x${o.events}${o.postgres ? "-postgres" : ""}`;
  const kept = o.keep && existsSync(datasetFile) ? (JSON.parse(readFileSync(datasetFile, "utf8")) as { key: string; subject: string }) : undefined;
  if (kept && kept.key !== datasetKey) throw new Error(`${dataDir} holds a ${kept.key} dataset; use another --keep directory`);
  const keptDbName = `rempart_bench_sync_kept_${createHash("sha256").update(resolve(dataDir)).digest("hex").slice(0, 12)}`;
  const pgDb = !o.postgres
    ? undefined
    : o.keep
      ? { ...(await keptPostgresDatabase(o.postgres, keptDbName, kept !== undefined)), drop: async () => undefined }
      : await freshPostgresDatabase(o.postgres, "rempart_bench_sync");
  const serverName = "bench.test";
  const config = resolveConfig({
    server_name: serverName,
    listen: "127.0.0.1:0",
    data_dir: dataDir,
    log_level: "silent",
    ...(pgDb ? { database: pgDb.url } : {}),
    rate_limiting: { enabled: false },
  });
  const rows: string[][] = [["measure", "scale", "p50 ms", "p99 ms", "server CPU ms", "target"]];
  const figures: Record<string, unknown> = { database: pgDb ? "postgres" : "sqlite" };
  let server: RunningServer | undefined;
  try {
    const maxPollers = Math.max(0, ...o.pollers);
    let pollUsers: Member[];
    let sender: Member;
    let room: string;
    let subject: Member | undefined;
    if (o.floor !== undefined) {
      // The floor server checks nothing: placeholder users and room.
      pollUsers = Array.from({ length: maxPollers }, (_, i) => ({ userId: `@p${i}:floor`, token: `t${i}` }));
      sender = { userId: "@sender:floor", token: "sender" };
      room = "!floor:floor";
    } else {
    // --- the data, through the services in this process ---
    const app = await createApp(config, createLogger("silent"));
    try {
      log(`creating ${maxPollers + 1} users for the long-poll room`);
      const runId = randomBytes(3).toString("hex");
      pollUsers = await makeUsers(app, `poller${runId}_`, maxPollers);
      [sender] = (await makeUsers(app, `sender${runId}_`, 1)) as [Member];
      room = (await app.rooms.create({ userId: sender.userId, deviceId: "BENCH" }, { preset: "public_chat" })).room_id;
      for (const u of pollUsers) await app.membership.join(u.userId, room);
      if (o.rooms > 0) {
        if (kept) {
          log(`reusing the ${datasetKey} dataset kept in ${dataDir}`);
          subject = { userId: kept.subject, token: (await app.accounts.startSession(kept.subject, {})).access_token };
        } else {
          subject = await buildDataset(app, o);
          if (o.keep) writeFileSync(datasetFile, JSON.stringify({ key: datasetKey, subject: subject.userId }));
        }
      }
      await settle(app);
    } finally {
      await app.close();
    }
    if (pgDb) await analyze(pgDb.url);
    }

    // --- the real server, on the same data ---
    ({ server } = await startServer({
      dataDir,
      database: pgDb?.url,
      env: { REMPART_SERVER_NAME: serverName, REMPART_RATE_LIMITING__ENABLED: "false" },
      nodeArgs: [...o.nodeArgs, ...(o.cpuProf ? ["--cpu-prof", `--cpu-prof-dir=${o.cpuProf}`] : [])],
      ...(o.floor !== undefined ? { script: FLOOR_SCRIPT, args: [], env: { FLOOR_BODY_BYTES: String(o.floor), FLOOR_WORKERS: String(o.floorWorkers) } } : {}),
    }));
    if (o.floor !== undefined) log(`FLOOR: bare node:http answering with ${o.floor}-byte bodies from ${o.floorWorkers} process(es), not the server`);
    const url = server.url;
    const pid = server.pid;

    // --- wake-up latency ---
    for (const n of o.pollers.filter((x) => x > 0)) {
      const rounds = n >= 1000 ? Math.max(3, Math.round(o.rounds / 2)) : o.rounds;
      log(`wake-up: ${n} pollers × ${rounds} rounds`);
      const { latencies: lat, cpuPerWoken, windows, bytes } = await wakeUp(server, sender, pollUsers.slice(0, n), room, rounds);
      rows.push([o.floor !== undefined ? `wake-up FLOOR (bare node:http, ${o.floorWorkers} process${o.floorWorkers > 1 ? "es" : ""})` : `wake-up latency`, `${n} pollers, ${rounds} sends`, fmt(median(lat), 1), fmt(percentile(lat, 99), 1), `${fmt(cpuPerWoken, 2)} per woken poll`, n === 1000 ? "p99 ≤ 50" : ""]);
      log(`  p50 ${fmt(median(lat), 1)} ms, p99 ${fmt(percentile(lat, 99), 1)} ms, server CPU ${fmt(cpuPerWoken, 2)} ms per woken poller (the send included)`);
      figures[`wake_p50_${n}`] = median(lat);
      figures[`wake_p99_${n}`] = percentile(lat, 99);
      figures[`wake_server_cpu_ms_per_woken_${n}`] = cpuPerWoken;
      figures[`wake_response_bytes_${n}`] = Math.round(bytes);
      log(`  a woken response is ~${Math.round(bytes)} bytes of JSON`);
      // With --cpu-prof: when each wake-up ran, so that the server's profile can be cut to them.
      if (o.cpuProf) writeFileSync(join(o.cpuProf, `wake-windows-${n}.json`), JSON.stringify(windows));
    }

    // --- initial sync of a user in many large rooms (--rooms 0 skips it) ---
    if (subject) {
      const lazy = "filter=" + encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 10 }, state: { lazy_load_members: true } } }));
      const initial: number[] = [];
      let next = "";
      const cpuI = cpuMs(pid);
      const initialWindows: Array<[number, number]> = [];
      let joinedRooms: string[] = [];
      for (let i = 0; i < 5; i++) {
        const at = monotonicUs();
        const r = await syncOnce(url, subject.token, `timeout=0&${lazy}`);
        initialWindows.push([at, monotonicUs()]);
        initial.push(r.ms);
        next = r.body.next_batch;
        joinedRooms = Object.keys((r.body as unknown as { rooms: { join: Record<string, unknown> } }).rooms.join);
      }
      // With --cpu-prof: the first sync after the start, and the later ones, to cut the profile to.
      if (o.cpuProf) {
        writeFileSync(join(o.cpuProf, "initial-first-window.json"), JSON.stringify(initialWindows.slice(0, 1)));
        writeFileSync(join(o.cpuProf, "initial-later-windows.json"), JSON.stringify(initialWindows.slice(1)));
      }
      figures.initial_ms = median(initial);
      figures.initial_cpu_ms = (cpuMs(pid) - cpuI) / 5;
      rows.push(["initial sync, lazy members", `${o.rooms} rooms × ${o.members} members × ${o.events} events`, fmt(median(initial), 0), fmt(Math.max(...initial), 0) + " (max)", fmt(figures.initial_cpu_ms as number, 1), "≤ 1500"]);
      log(`  initial sync ${fmt(median(initial), 0)} ms`);

      // --- incremental sync with nothing new ---
      const empty: number[] = [];
      const cpuE = cpuMs(pid);
      const emptyFrom = monotonicUs();
      for (let i = 0; i < 200; i++) empty.push((await syncOnce(url, subject.token, `timeout=0&since=${next}&${lazy}`)).ms);
      if (o.cpuProf) writeFileSync(join(o.cpuProf, "empty-window.json"), JSON.stringify([[emptyFrom, monotonicUs()]]));
      figures.empty_incremental_cpu_ms = (cpuMs(pid) - cpuE) / 200;
      figures.empty_incremental_p50_ms = median(empty);
      rows.push(["incremental sync, nothing new", `${o.rooms} rooms`, fmt(median(empty), 2), fmt(percentile(empty, 99), 2), fmt(figures.empty_incremental_cpu_ms as number, 2), "≤ 2"]);

      // --- incremental sync with one new message (the user's own, in one of its rooms): what a
      // woken long-poll of a user in many rooms builds. The send and its aftermath are left out:
      // the server is let go quiet, then the sync alone is timed and its CPU counted. ---
      const one: number[] = [];
      let cpuOne = 0;
      const oneWindows: Array<[number, number]> = [];
      const rand = randomBytes(3).toString("hex");
      let since = next;
      for (let i = 0; i < ONE_NEW_SYNCS; i++) {
        const roomId = joinedRooms[(i * 37) % joinedRooms.length]!;
        await callJson(`${url}/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/one-${rand}-${i}`, "PUT", { token: subject.token, body: { msgtype: "m.text", body: `one new ${i}` } });
        await waitForIdle(pid);
        const c0 = cpuMs(pid);
        const at = monotonicUs();
        const r = await syncOnce(url, subject.token, `timeout=0&since=${since}&${lazy}`);
        oneWindows.push([at, monotonicUs()]);
        cpuOne += cpuMs(pid) - c0;
        one.push(r.ms);
        since = r.body.next_batch;
      }
      if (o.cpuProf) writeFileSync(join(o.cpuProf, "one-new-windows.json"), JSON.stringify(oneWindows));
      // /proc counts CPU in 10 ms ticks: summed over many syncs the ticks average out.
      figures.one_new_incremental_cpu_ms = cpuOne / ONE_NEW_SYNCS;
      figures.one_new_incremental_p50_ms = median(one);
      rows.push(["incremental sync, one new message", `${o.rooms} rooms`, fmt(median(one), 2), fmt(percentile(one, 99), 2), fmt(figures.one_new_incremental_cpu_ms as number, 2), ""]);
    }
    figures.load_average = loadavg()[0];
  } finally {
    await server?.stop();
    await stopAll();
    await pgDb?.drop();
    if (!o.keep) rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(table(rows));
  console.log(`load average (1 min) at the end: ${fmt(figures.load_average as number, 2)}`);
  console.log(`BENCH_JSON ${JSON.stringify(figures)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
