// Admin API benchmark: response times of the listings and actions an operator uses during an
// incident, on a server seeded with many users and rooms (in-process server on 127.0.0.1).
//
//   npm run bench:admin                                   # SQLite, 5000 users, 300 rooms
//   node dist/bench/admin.js --users 20000 --rooms 1000 [--postgres URL] [--requests 30]
//
// Prints a table (median and p95 in ms per request) and one line `BENCH_JSON {...}`. Figures only.
import { performance } from "node:perf_hooks";
import { resolveConfig } from "../src/config/load.js";
import { createApp } from "../src/app.js";
import { buildServer } from "../src/http/server.js";
import { createLogger } from "../src/log.js";
import { freshDataDir, removeDataDir } from "./lib/datadir.js";
import { freshPostgresDatabase, dropAllDatabases } from "./lib/postgres.js";
import { median, percentile, round, fmt, table } from "./lib/stats.js";

interface Options {
  users: number;
  rooms: number;
  requests: number;
  postgres?: string;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { users: 5000, rooms: 300, requests: 30 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = () => argv[++i] ?? "";
    if (a === "--users") o.users = Number(next());
    else if (a === "--rooms") o.rooms = Number(next());
    else if (a === "--requests") o.requests = Number(next());
    else if (a === "--postgres") o.postgres = next();
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const dataDir = freshDataDir();
  const pgDb = o.postgres ? await freshPostgresDatabase(o.postgres) : undefined;
  const config = resolveConfig({
    server_name: "bench.test",
    listen: "127.0.0.1:0",
    data_dir: dataDir,
    log_level: "silent",
    ...(pgDb ? { database: pgDb.url } : {}),
    password_hashing: { memory_kib: 1024, time_cost: 1, parallelism: 1 },
    rate_limiting: { enabled: false },
  });
  const app = await createApp(config, createLogger("silent"));
  const http = await buildServer(app);
  await http.listen({ host: "127.0.0.1", port: 0 });
  const addr = http.server.address();
  if (!addr || typeof addr === "string") throw new Error("no address");
  const url = `http://127.0.0.1:${addr.port}`;
  try {
    log(`seeding ${o.users} users and ${o.rooms} rooms (${pgDb ? "PostgreSQL" : "SQLite"})`);
    const t0 = performance.now();
    const db = app.storage.db;
    const batch = 500;
    for (let i = 0; i < o.users; i += batch) {
      const rows = [];
      for (let j = i; j < Math.min(o.users, i + batch); j++) {
        rows.push({ user_id: `@user${j}:bench.test`, localpart: `user${j}`, password_hash: null, admin: 0, deactivated: j % 50 === 0 ? 1 : 0, locked: 0, user_type: null, displayname: `Agent ${j}`, avatar_url: null, created_ts: j });
      }
      await db.insertInto("users").values(rows).execute();
    }
    await app.accounts.createUser("operator", "operator-password", { admin: true });
    const login = await fetch(`${url}/_matrix/client/v3/login`, {
      method: "POST",
      body: JSON.stringify({ type: "m.login.password", identifier: { type: "m.id.user", user: "operator" }, password: "operator-password" }),
    });
    const token = ((await login.json()) as { access_token: string }).access_token;
    const roomIds: string[] = [];
    for (let r = 0; r < o.rooms; r++) {
      const creator = `@user${((r * 7) % (o.users - 1)) + 1}:bench.test`;
      const { room_id } = await app.rooms.create({ userId: creator, deviceId: "" }, { preset: "public_chat", name: `Salon ${r}` });
      for (let m = 1; m <= r % 5; m++) await app.membership.join(`@user${((r * 7 + m) % (o.users - 1)) + 1}:bench.test`, room_id).catch(() => undefined);
      roomIds.push(room_id);
    }
    const doomed = roomIds[0]!;
    for (let k = 0; k < 200; k++) await app.roomWriter.send(doomed, { type: "m.room.message", sender: "@user1:bench.test", content: { msgtype: "m.text", body: `message ${k}` } });
    log(`seeded in ${round((performance.now() - t0) / 1000, 1)} s`);

    const get = async (path: string) => {
      const t = performance.now();
      const res = await fetch(url + path, { headers: { authorization: `Bearer ${token}` } });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
      return performance.now() - t;
    };
    const cases: [string, string][] = [
      ["GET /v2/users?limit=100", "/_synapse/admin/v2/users?limit=100"],
      ["GET /v2/users?limit=100&from=N/2", `/_synapse/admin/v2/users?limit=100&from=${Math.floor(o.users / 2)}`],
      ["GET /v2/users?name=agent 42", "/_synapse/admin/v2/users?name=agent%2042"],
      ["GET /v2/users?order_by=last_seen_ts", "/_synapse/admin/v2/users?limit=100&order_by=last_seen_ts&dir=b"],
      ["GET /v2/users/{id}", "/_synapse/admin/v2/users/@user42:bench.test"],
      ["GET /v1/whois/{id}", "/_synapse/admin/v1/whois/@operator:bench.test"],
      ["GET /v1/rooms?limit=100", "/_synapse/admin/v1/rooms?limit=100"],
      ["GET /v1/rooms?order_by=joined_members", "/_synapse/admin/v1/rooms?limit=100&order_by=joined_members"],
      ["GET /v1/rooms/{id}", `/_synapse/admin/v1/rooms/${roomIds[1]}`],
    ];
    const rows = [["request", "median ms", "p95 ms"]];
    const figures: Record<string, { median_ms: number; p95_ms: number }> = {};
    for (const [label, path] of cases) {
      await get(path);
      const times: number[] = [];
      for (let i = 0; i < o.requests; i++) times.push(await get(path));
      figures[label] = { median_ms: round(median(times), 1), p95_ms: round(percentile(times, 95), 1) };
      rows.push([label, fmt(median(times), 1), fmt(percentile(times, 95), 1)]);
    }
    const t = performance.now();
    const del = await fetch(`${url}/_synapse/admin/v1/rooms/${doomed}`, { method: "DELETE", headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ block: true }) });
    await del.arrayBuffer();
    if (del.status !== 200) throw new Error(`delete: ${del.status}`);
    const deleteMs = performance.now() - t;
    rows.push(["DELETE /v1/rooms/{id} (purge, ~210 events)", fmt(deleteMs, 1), "—"]);
    console.log(`Admin API, ${o.users} users, ${o.rooms} rooms, ${pgDb ? "PostgreSQL" : "SQLite"}, ${o.requests} sequential requests each`);
    console.log(table(rows));
    console.log(`BENCH_JSON ${JSON.stringify({ database: pgDb ? "postgres" : "sqlite", users: o.users, rooms: o.rooms, figures, delete_room_ms: round(deleteMs, 1) })}`);
  } finally {
    await http.close();
    await app.close();
    await dropAllDatabases();
    removeDataDir(dataDir);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
