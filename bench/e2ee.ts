// End-to-end encryption benchmark: the three fan-out paths a big room leans on.
//   - POST /keys/claim for 100 devices in one request (10 users × 10 devices, one-time keys)
//   - PUT /sendToDevice fanned out to 1,000 devices (100 users × "*" over 10 devices each),
//     and one recipient's /sync that delivers it
//   - POST /keys/query for 500 users (each with a device and cross-signing keys)
// The real server runs in-process on 127.0.0.1 (test server settings: cheap password hashing,
// no rate limits), on SQLite, or on PostgreSQL with --postgres URL.
//
//   npm run bench:e2ee
//   npm run bench:e2ee -- --postgres postgres://postgres@127.0.0.1:5432/postgres --runs 20
//
// Prints a table and one line `BENCH_JSON {...}`. Figures, never assertions.
import { performance } from "node:perf_hooks";
import { cpus } from "node:os";
import { startTestServer, type TestServer } from "../test/helpers/server.js";
import { call } from "../test/helpers/http.js";
import { Ed25519, crossSigningKey, deviceIdentity, oneTimeKeys } from "../test/helpers/e2ee-keys.js";
import { median, percentile, round, fmt, table } from "./lib/stats.js";

const C = "/_matrix/client/v3";
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

interface Options {
  postgres?: string;
  runs: number;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { runs: 10 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--postgres") o.postgres = argv[++i];
    else if (a === "--runs") o.runs = Number(argv[++i]);
    else if (a === "--help" || a === "-h") {
      console.log("usage: node dist/bench/e2ee.js [--postgres URL] [--runs N]");
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return o;
}

interface Device {
  userId: string;
  deviceId: string;
  token: string;
}

/** `users` accounts with `perUser` devices each, created through the services (setup, not measured). */
async function population(s: TestServer, prefix: string, users: number, perUser: number, keys: { otks: number; crossSigning?: boolean }): Promise<Device[]> {
  const out: Device[] = [];
  for (let u = 0; u < users; u++) {
    const userId = await s.app.accounts.createUser(`${prefix}${u}`, null);
    for (let d = 0; d < perUser; d++) {
      const session = await s.app.accounts.startSession(userId, { deviceId: `D${d}` });
      const id = deviceIdentity(userId, session.device_id);
      await s.app.e2ee.deviceKeys.upload(userId, session.device_id, { device_keys: id.deviceKeys, one_time_keys: oneTimeKeys(id.ed, userId, session.device_id, keys.otks) });
      out.push({ userId, deviceId: session.device_id, token: session.access_token });
    }
    if (keys.crossSigning) {
      const master = new Ed25519();
      const ssk = new Ed25519();
      await s.app.e2ee.crossSigning.upload(userId, {
        master_key: crossSigningKey(master, userId, "master"),
        self_signing_key: master.sign(crossSigningKey(ssk, userId, "self_signing"), userId, `ed25519:${master.pub}`),
      });
    }
  }
  return out;
}

async function timed(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return performance.now() - t;
}

function check(status: number, what: string, body: unknown): void {
  if (status !== 200) throw new Error(`${what}: ${status} ${JSON.stringify(body).slice(0, 300)}`);
}

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  if (o.postgres) process.env.REMPART_TEST_DATABASE_URL = o.postgres;
  const s = await startTestServer();
  const db = o.postgres ? "PostgreSQL" : "SQLite";
  try {
    log(`server on ${s.url} (${db}); setting up…`);
    const requester = await s.user("bench");

    // /keys/claim for 100 devices: each run takes one of each device's one-time keys.
    const claimDevices = await population(s, "claim", 10, 10, { otks: o.runs });
    const claimBody = { one_time_keys: {} as Record<string, Record<string, string>> };
    for (const d of claimDevices) (claimBody.one_time_keys[d.userId] ??= {})[d.deviceId] = "signed_curve25519";
    const claimMs: number[] = [];
    for (let i = 0; i < o.runs; i++) {
      claimMs.push(
        await timed(async () => {
          const r = await call(s.url, "POST", `${C}/keys/claim`, { token: requester.accessToken, body: claimBody });
          check(r.status, "claim", r.body);
          const n = Object.values(r.body.one_time_keys as Record<string, object>).reduce((a, u) => a + Object.keys(u).length, 0);
          if (n !== 100) throw new Error(`claim returned ${n} keys`);
        }),
      );
    }
    log("keys/claim done");

    // To-device fan-out to 1,000 devices.
    const fanDevices = await population(s, "fan", 100, 10, { otks: 0 });
    const messages: Record<string, Record<string, object>> = {};
    for (const d of fanDevices) messages[d.userId] = { "*": { algorithm: "m.olm.v1.curve25519-aes-sha2", ciphertext: { x: { type: 0, body: "A".repeat(400) } } } };
    const fanMs: number[] = [];
    const deliverMs: number[] = [];
    const probe = fanDevices[0]!;
    let since = (await call(s.url, "GET", `${C}/sync?timeout=0`, { token: probe.token })).body.next_batch as string;
    for (let i = 0; i < o.runs; i++) {
      fanMs.push(
        await timed(async () => {
          const r = await call(s.url, "PUT", `${C}/sendToDevice/m.room.encrypted/fan${i}`, { token: requester.accessToken, body: { messages } });
          check(r.status, "sendToDevice", r.body);
        }),
      );
      deliverMs.push(
        await timed(async () => {
          const r = await call(s.url, "GET", `${C}/sync?timeout=0&since=${encodeURIComponent(since)}`, { token: probe.token });
          check(r.status, "sync", r.body);
          if ((r.body.to_device as { events: unknown[] }).events.length !== 1) throw new Error("message not delivered");
          since = r.body.next_batch as string;
        }),
      );
    }
    log("to-device done");

    // /keys/query for 500 users.
    const queryDevices = await population(s, "query", 500, 1, { otks: 0, crossSigning: true });
    const queryBody = { device_keys: Object.fromEntries(queryDevices.map((d) => [d.userId, [] as string[]])) };
    const queryMs: number[] = [];
    let bytes = 0;
    for (let i = 0; i < o.runs; i++) {
      queryMs.push(
        await timed(async () => {
          const res = await fetch(`${s.url}${C}/keys/query`, { method: "POST", headers: { authorization: `Bearer ${requester.accessToken}` }, body: JSON.stringify(queryBody) });
          const text = await res.text();
          check(res.status, "query", text);
          bytes = text.length;
        }),
      );
    }
    log("keys/query done");

    const row = (name: string, xs: number[], note: string) => [name, fmt(median(xs), 1), fmt(percentile(xs, 95), 1), fmt(Math.min(...xs), 1), note];
    console.log(`\nRempart e2ee benchmark — ${db}, ${o.runs} runs each, ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"})\n`);
    console.log(
      table([
        ["operation", "median ms", "p95 ms", "min ms", "notes"],
        row("POST /keys/claim, 100 devices", claimMs, "10 users × 10 devices, one-time keys"),
        row("PUT /sendToDevice, 1,000 devices", fanMs, "100 users × '*' (10 devices), ~500 B each"),
        row("GET /sync delivering it (1 device)", deliverMs, "incremental, timeout=0"),
        row("POST /keys/query, 500 users", queryMs, `1 device + master/self-signing each, ${fmt(bytes / 1024, 0)} KiB`),
      ]),
    );
    console.log(
      `BENCH_JSON ${JSON.stringify({
        database: db,
        runs: o.runs,
        keys_claim_100_devices_ms: round(median(claimMs), 1),
        to_device_fanout_1000_ms: round(median(fanMs), 1),
        to_device_sync_delivery_ms: round(median(deliverMs), 1),
        keys_query_500_users_ms: round(median(queryMs), 1),
        keys_query_500_users_bytes: bytes,
      })}`,
    );
  } finally {
    await s.close();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
