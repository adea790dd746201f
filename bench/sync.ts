// Sync benchmark: long-poll wake-up latency (a message is sent → another client's pending /sync
// returns) with 1, 100 and 1,000 concurrent long-pollers in one room; the initial sync of a user in
// many large rooms with lazy-loaded members; and an incremental sync with nothing new.
//
//   npm run bench:sync                                  # SQLite, 300 rooms × 300 members
//   node dist/bench/sync.js --rooms 300 --members 300 --events 20 [--postgres URL]
//   node dist/bench/sync.js --pollers 0 --keep /tmp/rempart-sync-data   # build once, reuse after
//
// The initial-sync dataset (300 × 300 is 90,000 joins) is built with many rooms in flight at once
// (--parallel, 16 by default): each room's joins go through its writer in order, and the writer's
// group commit shares transactions across rooms. With --keep DIR (SQLite) the data directory is
// kept and a later run with the same sizes reuses it instead of building it again.
// The server runs in this process (the app and fastify on 127.0.0.1), so the load generator shares
// its event loop: latencies include the client's side. Data is built through the services (room
// writer, membership), never raw SQL. Prints figures, asserts nothing.
import { freshPostgresDatabase } from "./lib/postgres.js";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { randomBytes } from "node:crypto";
import { resolveConfig } from "../src/config/load.js";
import { createApp, type App } from "../src/app.js";
import { buildServer } from "../src/http/server.js";
import { createLogger } from "../src/log.js";
import { median, percentile, fmt, table } from "./lib/stats.js";

interface Options {
  rooms: number;
  members: number;
  events: number;
  pollers: number[];
  rounds: number;
  parallel: number;
  keep?: string;
  postgres?: string;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { rooms: 300, members: 300, events: 20, pollers: [1, 100, 1000], rounds: 20, parallel: 16 };
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
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const log = (msg: string) => process.stderr.write(`[bench:sync] ${msg}\n`);
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

async function syncOnce(url: string, token: string, query: string, attempt = 0): Promise<{ body: { next_batch: string }; ms: number }> {
  const t0 = performance.now();
  let res: Response;
  try {
    res = await fetch(`${url}/_matrix/client/v3/sync?${query}`, { headers: { authorization: `Bearer ${token}` } });
  } catch (e) {
    // A pooled keep-alive connection the server closed meanwhile: once more on a fresh one.
    if (attempt < 3) return syncOnce(url, token, query, attempt + 1);
    throw e;
  }
  const body = (await res.json()) as { next_batch: string };
  if (res.status !== 200) throw new Error(`sync ${res.status} ${JSON.stringify(body)}`);
  return { body, ms: performance.now() - t0 };
}

/** Wake-up latency: `n` members long-poll; a sender writes; each poller's return time is measured. */
async function wakeUp(app: App, url: string, sender: Member, pollers: Member[], roomId: string, rounds: number): Promise<number[]> {
  const tokens: string[] = [];
  for (let i = 0; i < pollers.length; i += 50) {
    const batch = pollers.slice(i, i + 50);
    tokens.push(...(await Promise.all(batch.map(async (p) => (await syncOnce(url, p.token, "timeout=0&filter=" + encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 1 } } })))).body.next_batch))));
  }
  const latencies: number[] = [];
  let failures = 0;
  let sentAt = 0;
  // Servers before the long-poll registry held one notifier listener per parked long-poll.
  const listeners = () => (app.notifier as unknown as { emitter: { listenerCount(e: string): number } }).emitter.listenerCount("room");
  const baseListeners = listeners();
  const sync = app.sync as { parkedLongPolls?: () => number };
  const filter = encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 5 }, state: { lazy_load_members: true } } }));
  for (let r = 0; r < rounds; r++) {
    const returned: Promise<void>[] = [];
    // Open the long-polls in batches (1,000 simultaneous connects overflow the listen backlog).
    for (let i = 0; i < pollers.length; i++) {
      const p = pollers[i]!;
      returned.push(
        (async () => {
          // A refused connection (an overloaded machine) is retried, and counted.
          for (let attempt = 0; attempt < 5; attempt++) {
            try {
              const res = await fetch(`${url}/_matrix/client/v3/sync?timeout=60000&since=${tokens[i]}&filter=${filter}`, { headers: { authorization: `Bearer ${p.token}` } });
              const body = (await res.json()) as { next_batch: string };
              latencies.push(performance.now() - sentAt);
              tokens[i] = body.next_batch;
              return;
            } catch {
              failures++;
              await sleep(100);
            }
          }
        })(),
      );
      if (i % 50 === 49) await sleep(20);
    }
    // Send only once every long-poll is parked on the server.
    const parked = () => (sync.parkedLongPolls ? sync.parkedLongPolls() : listeners() - baseListeners);
    for (let i = 0; i < 600 && parked() < pollers.length; i++) await sleep(50);
    await sleep(50);
    sentAt = performance.now();
    await app.rooms.send({ userId: sender.userId, deviceId: "BENCH" }, roomId, "m.room.message", { msgtype: "m.text", body: `round ${r}` }, `w${pollers.length}-${r}-${randomBytes(3).toString("hex")}`);
    await Promise.all(returned);
  }
  if (failures) log(`  ${failures} long-poll connections failed and were retried`);
  return latencies;
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
  if (o.keep && o.postgres) throw new Error("--keep works with SQLite only");
  if (o.keep) mkdirSync(o.keep, { recursive: true });
  const dataDir = o.keep ?? mkdtempSync(join(tmpdir(), "rempart-bench-sync-"));
  const datasetFile = join(dataDir, "bench-dataset.json");
  const datasetKey = `${o.rooms}x${o.members}x${o.events}`;
  const kept = o.keep && existsSync(datasetFile) ? (JSON.parse(readFileSync(datasetFile, "utf8")) as { key: string; subject: string }) : undefined;
  if (kept && kept.key !== datasetKey) throw new Error(`${dataDir} holds a ${kept.key} dataset; use another --keep directory`);
  const pgDb = o.postgres ? await freshPostgresDatabase(o.postgres, "rempart_bench_sync") : undefined;
  const config = resolveConfig({
    server_name: "bench.test",
    listen: "127.0.0.1:0",
    data_dir: dataDir,
    log_level: "silent",
    ...(pgDb ? { database: pgDb.url } : {}),
    rate_limiting: { enabled: false },
  });
  const app = await createApp(config, createLogger("silent"));
  const http = await buildServer(app);
  await http.listen({ host: "127.0.0.1", port: 0, backlog: 4096 });
  const addr = http.server.address();
  const url = `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
  const rows: string[][] = [["measure", "scale", "p50 ms", "p99 ms", "target"]];
  const figures: Record<string, unknown> = { database: pgDb ? "postgres" : "sqlite" };
  try {
    // --- wake-up latency ---
    const maxPollers = Math.max(0, ...o.pollers);
    log(`creating ${maxPollers + 1} users for the long-poll room`);
    const runId = randomBytes(3).toString("hex");
    const pollUsers = await makeUsers(app, `poller${runId}_`, maxPollers);
    const [sender] = await makeUsers(app, `sender${runId}_`, 1);
    const room = (await app.rooms.create({ userId: sender!.userId, deviceId: "BENCH" }, { preset: "public_chat" })).room_id;
    for (const u of pollUsers) await app.membership.join(u.userId, room);
    await settle(app);
    for (const n of o.pollers.filter((x) => x > 0)) {
      const rounds = n >= 1000 ? Math.max(3, Math.round(o.rounds / 2)) : o.rounds;
      log(`wake-up: ${n} pollers × ${rounds} rounds`);
      const cpu0 = process.cpuUsage();
      const lat = await wakeUp(app, url, sender!, pollUsers.slice(0, n), room, rounds);
      const cpu = process.cpuUsage(cpu0);
      // CPU time per woken sync (server and client sides together): less sensitive than wall
      // time to other processes sharing the machine.
      figures[`wake_cpu_ms_per_sync_${n}`] = (cpu.user + cpu.system) / 1000 / (n * rounds);
      log(`  CPU ${fmt((cpu.user + cpu.system) / 1000 / (n * rounds), 2)} ms per woken sync (incl. the 2 syncs per round trip and the client)`);
      rows.push([`wake-up latency`, `${n} pollers, ${rounds} sends`, fmt(median(lat), 1), fmt(percentile(lat, 99), 1), n === 1000 ? "p99 ≤ 50" : ""]);
      log(`  p50 ${fmt(median(lat), 1)} ms, p99 ${fmt(percentile(lat, 99), 1)} ms`);
      figures[`wake_p50_${n}`] = median(lat);
      figures[`wake_p99_${n}`] = percentile(lat, 99);
    }

    // --- initial sync of a user in many large rooms (--rooms 0 skips it) ---
    if (o.rooms > 0) {
    let subject: Member;
    if (kept) {
      log(`reusing the ${datasetKey} dataset kept in ${dataDir}`);
      subject = { userId: kept.subject, token: (await app.accounts.startSession(kept.subject, {})).access_token };
    } else {
      subject = await buildDataset(app, o);
      if (o.keep) writeFileSync(datasetFile, JSON.stringify({ key: datasetKey, subject: subject.userId }));
    }
    const lazy = "filter=" + encodeURIComponent(JSON.stringify({ room: { timeline: { limit: 10 }, state: { lazy_load_members: true } } }));
    const initial: number[] = [];
    let next = "";
    const cpuI = process.cpuUsage();
    for (let i = 0; i < 5; i++) {
      const r = await syncOnce(url, subject.token, `timeout=0&${lazy}`);
      initial.push(r.ms);
      next = r.body.next_batch;
    }
    rows.push(["initial sync, lazy members", `${o.rooms} rooms × ${o.members} members × ${o.events} events`, fmt(median(initial), 0), fmt(Math.max(...initial), 0) + " (max)", "≤ 1500"]);
    figures.initial_ms = median(initial);
    const ci = process.cpuUsage(cpuI);
    figures.initial_cpu_ms = (ci.user + ci.system) / 1000 / 5;
    log(`  initial sync ${fmt(median(initial), 0)} ms`);

    // --- incremental sync with nothing new ---
    const empty: number[] = [];
    const cpuE = process.cpuUsage();
    for (let i = 0; i < 200; i++) empty.push((await syncOnce(url, subject.token, `timeout=0&since=${next}&${lazy}`)).ms);
    const ce = process.cpuUsage(cpuE);
    figures.empty_incremental_cpu_ms = (ce.user + ce.system) / 1000 / 200;
    rows.push(["incremental sync, nothing new", `${o.rooms} rooms`, fmt(median(empty), 2), fmt(percentile(empty, 99), 2), "≤ 2"]);
    rows.push(["CPU per initial / empty incremental sync", "", fmt(figures.initial_cpu_ms as number, 1), fmt(figures.empty_incremental_cpu_ms as number, 2), ""]);
    figures.empty_incremental_p50_ms = median(empty);
    }
  } finally {
    await http.close();
    await app.close();
    await pgDb?.drop();
    if (!o.keep) rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(table(rows));
  console.log(`BENCH_JSON ${JSON.stringify(figures)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
