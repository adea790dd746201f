// Login benchmark (issue 9): password logins per second with the argon2id parameters in use, and
// what the login guard adds to each attempt. In-process (service layer, SQLite in a temporary
// data_dir): the HTTP cost is measured by bench/foundation.ts.
//
//   npm run bench:login                       # production argon2 defaults (19 MiB, t=2, p=1)
//   node dist/bench/login.js --seconds 5 --concurrency 2 --memory-kib 19456 --time-cost 2
//
// Prints figures, never assertions.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { resolveConfig } from "../src/config/load.js";
import { createApp } from "../src/app.js";
import { createLogger } from "../src/log.js";

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
}

const seconds = arg("seconds", 5);
const concurrency = arg("concurrency", 2);
const dataDir = mkdtempSync(join(tmpdir(), "rempart-bench-login-"));
const defaults = resolveConfig({ data_dir: dataDir }).password_hashing;
const hashing = { memory_kib: arg("memory-kib", defaults.memory_kib), time_cost: arg("time-cost", defaults.time_cost), parallelism: arg("parallelism", defaults.parallelism) };
const config = resolveConfig({ data_dir: dataDir, server_name: "bench.local", password_hashing: hashing });
const app = await createApp(config, createLogger("silent"));

const USERS = 50;
const password = "correct horse battery staple 2026";
for (let i = 0; i < USERS; i++) await app.accounts.createUser(`bench${i}`, password);

async function rate(label: string, fn: (i: number) => Promise<unknown>): Promise<number> {
  let n = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (performance.now() < end) {
        await fn(n * concurrency + w).catch(() => undefined);
        n++;
      }
    }),
  );
  const perS = n / seconds;
  console.log(`${label.padEnd(52)} ${perS.toFixed(1).padStart(8)} /s`);
  return perS;
}

console.log(`argon2id: memory ${hashing.memory_kib} KiB, time cost ${hashing.time_cost}, parallelism ${hashing.parallelism}; ${cpus().length} CPUs, concurrency ${concurrency}, ${seconds} s per figure`);
const bare = await rate("password check alone (accounts.checkPassword)", (i) => app.accounts.checkPassword(`@bench${i % USERS}:bench.local`, password));
const guarded = await rate("guarded login (passwordLogin.attempt: guard + check)", (i) => app.passwordLogin.attempt(`bench${i % USERS}`, password, `10.0.${i % 200}.1`));
await rate("failed guarded login (wrong password, unknown users)", (i) => app.passwordLogin.attempt(`nobody${i}`, "wrong wrong wrong", `10.1.${i % 250}.${i % 7}`));

// The guard's own cost, without argon2: check + outcome, many times.
const N = 200_000;
let t0 = performance.now();
for (let i = 0; i < N; i++) {
  await app.loginGuard.check(`@u${i % 1000}:bench.local`, `192.168.${i % 250}.1`);
  await app.loginGuard.succeeded(`@u${i % 1000}:bench.local`, `192.168.${i % 250}.1`);
}
const okUs = ((performance.now() - t0) * 1000) / N;
t0 = performance.now();
const M = 20_000;
for (let i = 0; i < M; i++) {
  await app.loginGuard.check(`@v${i}:bench.local`, `172.16.${i % 250}.${i % 200}`).catch(() => undefined);
  await app.loginGuard.failed(`@v${i}:bench.local`, `172.16.${i % 250}.${i % 200}`);
}
const failUs = ((performance.now() - t0) * 1000) / M;
// A refused attempt (blocked source) costs no hashing at all.
t0 = performance.now();
let refused = 0;
for (let i = 0; i < M; i++) await app.loginGuard.check(`@w${i}:bench.local`, "172.16.0.0").catch(() => refused++);
const refusedUs = ((performance.now() - t0) * 1000) / M;

console.log(`guard per successful attempt (check + succeeded)         ${okUs.toFixed(2).padStart(8)} µs`);
console.log(`guard per failed attempt (check + failed, stuffing maps) ${failUs.toFixed(2).padStart(8)} µs`);
console.log(`refused attempt (blocked source, no argon2)              ${refusedUs.toFixed(2).padStart(8)} µs (${refused} refused)`);
// The rates above share 2 cores with whatever else runs: compare the guard's own cost to one check.
const checkMs = 1000 / Math.max(bare, guarded);
console.log(`guard adds ${okUs.toFixed(1)} µs to a successful login, ${failUs.toFixed(1)} µs to a failed one: ${((okUs / 1000 / checkMs) * 100).toFixed(2)} % / ${((failUs / 1000 / checkMs) * 100).toFixed(2)} % of one argon2 check (~${checkMs.toFixed(1)} ms)`);
await app.close();
rmSync(dataDir, { recursive: true, force: true });
