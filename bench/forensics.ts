// Forensic report benchmark: time to report one account over a synthetic trail at the scale of the
// June 2026 breach (docs/read-gate.md "Forensic report"): ~650k events read as /messages ranges of
// 100 from 876 rooms, 60k media downloads, over 12 months, among other users' reads (noise). The
// events exist in the events table (inserted in bulk, since only their ids, types and senders
// matter here); the trail is written through AuditTrail.append, as the read gate writes it.
//
//   npm run bench:forensics
//   node dist/bench/forensics.js [--events 650000] [--media 60000] [--rooms 876] [--noise 100000] [--postgres URL]
//
// Prints figures and one line `BENCH_JSON {...}` (target: report ≤ 60 s).
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { freshDataDir, removeDataDir } from "./lib/datadir.js";
import { freshPostgresDatabase, dropAllDatabases } from "./lib/postgres.js";
import { resolveConfig } from "../src/config/load.js";
import { createApp, type App } from "../src/app.js";
import { createLogger } from "../src/log.js";

const TARGET_S = 60;
const PAGE = 100;
const YEAR_MS = 365 * 86_400_000;

interface Options {
  events: number;
  media: number;
  rooms: number;
  noise: number;
  postgres?: string;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { events: 650_000, media: 60_000, rooms: 876, noise: 100_000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => Number(argv[++i]);
    if (a === "--events") o.events = next();
    else if (a === "--media") o.media = next();
    else if (a === "--rooms") o.rooms = next();
    else if (a === "--noise") o.noise = next();
    else if (a === "--postgres") o.postgres = argv[++i];
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const roomId = (r: number) => `!room${r}:bench.local`;
const eventId = (r: number, i: number) => `$e${r}_${i}`;

/** The rooms' events: messages from 200 senders, numbered per room, in stream order. */
async function insertEvents(app: App, o: Options): Promise<void> {
  const perRoom = Math.ceil(o.events / o.rooms);
  let so = 1;
  let batch: Record<string, unknown>[] = [];
  const flush = async () => {
    if (batch.length) await app.storage.db.insertInto("events").values(batch as never).execute();
    batch = [];
  };
  for (let r = 0; r < o.rooms; r++) {
    for (let i = 0; i < perRoom; i++) {
      batch.push({ stream_ordering: so++, event_id: eventId(r, i), room_id: roomId(r), type: "m.room.message", state_key: null, sender: `@user${(r * 7 + i) % 200}:bench.local`, origin_server_ts: i, depth: i, membership: null, rel_type: null, relates_to: null, thread_root: null, redacted_by: null, device_id: null, txn_id: null, json: "{}" });
      if (batch.length >= 500) await flush();
    }
  }
  await flush();
}

/** The trail: the intruder's session, joins, /messages pages and downloads spread over 12 months,
 * interleaved with other users' /sync reads. */
async function writeTrail(app: App, o: Options, t0: number): Promise<number> {
  const perRoom = Math.ceil(o.events / o.rooms);
  const pages = o.rooms * Math.ceil(perRoom / PAGE);
  const total = pages + o.media + o.noise + o.rooms;
  const step = YEAR_MS / total;
  let k = 0;
  const ts = () => Math.floor(t0 + step * k++);
  const s = app.audit.append("session", { u: "@intruder:bench.local", d: "INTRUDER", sid: 1, ip: "203.0.113.9", ua: "python-requests/2.31" }, t0);
  const others = Array.from({ length: 50 }, (_, i) => app.audit.append("session", { u: `@user${i}:bench.local`, d: `D${i}`, sid: 100 + i, ip: `10.0.0.${i}`, ua: "Element" }, t0));
  let written = 0;
  let page = 0;
  let noise = 0;
  let media = 0;
  const tick = async () => {
    if (++written % 20_000 === 0) await app.audit.flush();
  };
  for (let r = 0; r < o.rooms; r++) {
    app.audit.append("read", { s, e: "join", r: roomId(r) }, ts());
    await tick();
    for (let hi = perRoom - 1; hi >= 0; hi -= PAGE) {
      const lo = Math.max(0, hi - PAGE + 1);
      // As the gate records /messages: tokens (stream positions) bound the page; the last page of a
      // room has no end token and keeps its first and last event ids.
      const so = (i: number) => r * perRoom + i + 1;
      const rec = lo > 0 ? { t: `t${so(lo) - 1}` } : { a: eventId(r, hi), z: eventId(r, lo) };
      app.audit.append("read", { s, e: "messages", r: roomId(r), n: hi - lo + 1, f: `t${so(hi)}`, ...rec, h: hi - lo + 1 }, ts());
      await tick();
      page++;
      // Other users' reads and the intruder's downloads, spread evenly among the pages.
      for (; noise < Math.floor((o.noise * page) / pages); noise++) {
        app.audit.append("read", { s: others[noise % others.length]!, e: "sync", n: 3, rs: { [roomId(noise % o.rooms)]: [2], [roomId((noise + 1) % o.rooms)]: [1] } }, ts());
        await tick();
      }
      for (; media < Math.floor((o.media * page) / pages); media++) {
        app.audit.append("read", { s, e: "download", mx: `m${media}`, b: 50_000 + (media % 1000) }, ts());
        await tick();
      }
    }
  }
  for (; media < o.media; media++) app.audit.append("read", { s, e: "download", mx: `m${media}`, b: 50_000 + (media % 1000) }, ts());
  for (; noise < o.noise; noise++) app.audit.append("read", { s: others[noise % others.length]!, e: "sync", n: 1, rs: { [roomId(0)]: [1] } }, ts());
  await app.audit.flush();
  return app.audit.lastSeq;
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const dataDir = freshDataDir("rempart-forensics-bench-");
  const db = o.postgres ? await freshPostgresDatabase(o.postgres) : undefined;
  const t0 = Date.now() - YEAR_MS - 86_400_000;
  const config = resolveConfig({ server_name: "bench.local", data_dir: dataDir, log_level: "silent", ...(db ? { database: db.url } : { database: join(dataDir, "rempart.db") }) });
  const app = await createApp(config, createLogger("silent"));
  try {
    let t = performance.now();
    await insertEvents(app, o);
    log(`${o.events} events inserted in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
    const records = await writeTrail(app, o, t0);
    log(`${records} trail records appended in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    t = performance.now();
    const report = await app.forensics.userReport("@intruder:bench.local", { since: t0 });
    const reportS = (performance.now() - t) / 1000;
    t = performance.now();
    const totals = await app.forensics.totals("@intruder:bench.local", t0);
    const totalsS = (performance.now() - t) / 1000;
    t = performance.now();
    const readers = await app.forensics.readersReport(roomId(0), undefined, { since: t0 });
    const roomS = (performance.now() - t) / 1000;
    const figures = {
      database: o.postgres ? "postgres" : "sqlite",
      trail_records: records,
      verified: report.trail.verified,
      report_s: Number(reportS.toFixed(2)),
      totals_s: Number(totalsS.toFixed(2)),
      room_readers_s: Number(roomS.toFixed(2)),
      messages: totals.messages,
      rooms: totals.rooms,
      media: totals.media,
      media_bytes: totals.mediaBytes,
      people: totals.people,
      room0_readers: readers.readers.length,
      target_s: TARGET_S,
    };
    process.stdout.write(
      `forensic report of one account over ${records} trail records (${figures.database}):\n` +
        `  full report (chain verified: ${report.trail.verified}): ${figures.report_s} s (target ≤ ${TARGET_S} s)\n` +
        `  totals only: ${figures.totals_s} s; who read one room: ${figures.room_readers_s} s\n` +
        `  found: ${totals.messages} messages, ${totals.rooms} rooms, ${totals.people} people, ${totals.media} files, ${totals.mediaBytes} bytes\n`,
    );
    process.stdout.write(`BENCH_JSON ${JSON.stringify(figures)}\n`);
  } finally {
    await app.close();
    await dropAllDatabases();
    removeDataDir(dataDir);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
