// Policy benchmark: what the government model costs. In-process (createApp, SQLite in a temp dir):
//  - the room writer's policy check: messages and invites per second with the policy off and on;
//  - user directory search latency over a populated directory;
//  - email → server mapping throughput (the /info rule table).
//
//   npm run bench:policy            (node dist/bench/policy.js [--messages N] [--users N])
// Prints figures only; never asserts.
import { performance } from "node:perf_hooks";
import { resolveConfig } from "../src/config/load.js";
import { createApp, type App } from "../src/app.js";
import { createLogger } from "../src/log.js";
import { EmailMapper } from "../src/policy/domains.js";
import { freshDataDir, removeDataDir } from "./lib/datadir.js";
import { median, percentile, fmt, table } from "./lib/stats.js";

const args = process.argv.slice(2);
const opt = (name: string, def: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const MESSAGES = opt("--messages", 1000);
const USERS = opt("--users", 2000);

async function withApp<T>(policy: boolean, f: (app: App) => Promise<T>): Promise<T> {
  const dir = freshDataDir();
  const config = resolveConfig({
    server_name: "bench.test",
    data_dir: dir,
    log_level: "silent",
    password_hashing: { memory_kib: 1024, time_cost: 1, parallelism: 1 },
    policy: { enabled: policy, email_rules: [{ pattern: "gouv\\.fr$", server: "bench.test" }] },
  } as never);
  const app = await createApp(config, createLogger("silent"));
  try {
    return await f(app);
  } finally {
    await app.close();
    removeDataDir(dir);
  }
}

async function sendRate(policy: boolean): Promise<{ msgPerS: number; invitePerS: number }> {
  return withApp(policy, async (app) => {
    const alice = await app.accounts.createUser("alice", null);
    const who = { userId: alice, deviceId: "D" };
    const { room_id } = await app.rooms.create(who, { name: "bench" });
    for (let i = 0; i < 50; i++) await app.rooms.send(who, room_id, "m.room.message", { msgtype: "m.text", body: "warm" }, `w${i}`);
    let t = performance.now();
    for (let i = 0; i < MESSAGES; i++) await app.rooms.send(who, room_id, "m.room.message", { msgtype: "m.text", body: `m${i}` }, `t${i}`);
    const msgPerS = MESSAGES / ((performance.now() - t) / 1000);
    const invitees: string[] = [];
    for (let i = 0; i < 200; i++) invitees.push(await app.accounts.createUser(`u${i}`, null));
    t = performance.now();
    for (const u of invitees) await app.membership.invite(alice, room_id, u);
    return { msgPerS, invitePerS: invitees.length / ((performance.now() - t) / 1000) };
  });
}

async function directory(): Promise<{ p50: number; p95: number; all: number }> {
  return withApp(true, async (app) => {
    const users: string[] = [];
    for (let i = 0; i < USERS; i++) users.push(await app.accounts.createUser(`agent${i}`, null, { displayname: `Agent ${i} [Bench]` }));
    const me = users[0]!;
    // 20 rooms of 25 members each, the searcher in all of them.
    for (let r = 0; r < 20; r++) {
      const { room_id } = await app.rooms.create({ userId: me, deviceId: "D" }, { name: `r${r}` });
      for (let k = 1; k <= 25; k++) {
        const u = users[(r * 25 + k) % USERS]!;
        if (u === me) continue;
        await app.membership.invite(me, room_id, u).catch(() => {});
        await app.membership.join(u, room_id).catch(() => {});
      }
    }
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t = performance.now();
      await app.userDirectory.search(me, `agent ${(i * 7) % USERS}`, 10);
      times.push(performance.now() - t);
    }
    const t = performance.now();
    await app.userDirectory.search(me, "bench", 50);
    return { p50: median(times), p95: percentile(times, 95), all: performance.now() - t };
  });
}

function mapping(): number {
  const rules = Array.from({ length: 17 }, (_, i) => ({ pattern: `^(.+\\.)?ministere${i}\\.gouv\\.fr$`, server: `agent${i}.test` }));
  const m = new EmailMapper(rules, "externe.test");
  const n = 200_000;
  const t = performance.now();
  for (let i = 0; i < n; i++) m.map(`a${i}@ministere${i % 20}.gouv.fr`);
  return n / ((performance.now() - t) / 1000);
}

const off = await sendRate(false);
const on = await sendRate(true);
const dir = await directory();
const maps = mapping();
console.log(
  table([
    ["figure", "value"],
    [`messages/s, policy off (${MESSAGES} sends, SQLite)`, fmt(off.msgPerS)],
    [`messages/s, policy on`, fmt(on.msgPerS)],
    ["invites/s, policy off (200 invites)", fmt(off.invitePerS)],
    ["invites/s, policy on", fmt(on.invitePerS)],
    [`user search p50 ms (${USERS} users, 20 rooms)`, fmt(dir.p50, 2)],
    ["user search p95 ms", fmt(dir.p95, 2)],
    ["user search matching everyone, limit 50, ms", fmt(dir.all, 2)],
    ["email → server mappings/s (17 rules)", fmt(maps)],
  ]),
);
console.log(`BENCH_JSON ${JSON.stringify({ off, on, dir, maps })}`);
