// Starts the real server (`node bin/rempart.js start`) as a child process on 127.0.0.1, the way an
// operator would, and measures it from the outside: time to first answer, RSS, clean stop.
import { spawn, type ChildProcess } from "node:child_process";
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { track, stopChild } from "./children.js";
import { freePort, LOOPBACK, assertLoopback } from "./loopback.js";

/** The repository root (this file is compiled to dist/bench/lib/server.js). */
export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const REMPART_BIN = fileURLToPath(new URL("../../../bin/rempart.js", import.meta.url));

export interface ServerOptions {
  /** data_dir of the server (signing key, SQLite database). */
  dataDir: string;
  /** A postgres:// URL; SQLite under data_dir when omitted. */
  database?: string;
  /** Extra settings as environment variables (`REMPART_…`), applied last. */
  env?: Record<string, string>;
  /** Extra node flags, e.g. ["--cpu-prof", "--cpu-prof-dir=/tmp/prof"]. */
  nodeArgs?: string[];
  /** Port on 127.0.0.1; a free one is picked when omitted. */
  port?: number;
  /** Another executable/script instead of bin/rempart.js (used for the bare-node baseline). */
  script?: string;
  args?: string[];
}

export interface RunningServer {
  child: ChildProcess;
  pid: number;
  port: number;
  url: string;
  /** performance.now() taken immediately before spawn(). */
  spawnedAt: number;
  /** Last 64 KiB of the child's stdout and stderr, for error messages. */
  output(): string;
  stop(): Promise<void>;
}

/** The environment of a server: ours, minus any REMPART_* / DATABASE_URL inherited from the shell. */
export function serverEnv(opts: ServerOptions, port: number): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("REMPART_") || k === "DATABASE_URL" || k === "NODE_OPTIONS") continue;
    env[k] = v;
  }
  Object.assign(env, {
    REMPART_SERVER_NAME: "bench.local",
    REMPART_LISTEN: `${LOOPBACK}:${port}`,
    REMPART_DATA_DIR: opts.dataDir,
    REMPART_LOG_LEVEL: "warn",
    ...(opts.database ? { REMPART_DATABASE: opts.database } : {}),
    ...opts.env,
  });
  return env;
}

export async function spawnServer(opts: ServerOptions): Promise<RunningServer> {
  if (opts.database && /^postgres/i.test(opts.database)) assertLoopback(opts.database, "database");
  const port = opts.port ?? (await freePort());
  const args = [...(opts.nodeArgs ?? []), opts.script ?? REMPART_BIN, ...(opts.args ?? ["start"])];
  let out = "";
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env: serverEnv(opts, port), stdio: ["ignore", "pipe", "pipe"] });
  track(child);
  const keep = (b: Buffer) => {
    out += b.toString("utf8");
    if (out.length > 65536) out = out.slice(-65536);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  if (child.pid === undefined) throw new Error("could not spawn the server");
  return {
    child,
    pid: child.pid,
    port,
    url: `http://${LOOPBACK}:${port}`,
    spawnedAt,
    output: () => out,
    stop: () => stopChild(child),
  };
}

/** One GET on a fresh connection; resolves with the status, or null when nothing answers yet. */
function probe(url: string, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode ?? null));
      res.on("error", () => resolve(null));
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => resolve(null));
    req.end();
  });
}

/**
 * Polls `path` every `intervalMs` until it answers 200; returns milliseconds since spawn.
 * Fails as soon as the child exits, or after `timeoutMs`.
 */
export async function waitForReady(
  server: RunningServer,
  { path = "/_matrix/client/versions", intervalMs = 5, timeoutMs = 60_000 } = {},
): Promise<number> {
  const target = server.url + path;
  const deadline = server.spawnedAt + timeoutMs;
  for (;;) {
    const { exitCode, signalCode } = server.child;
    if (exitCode !== null || signalCode !== null) {
      throw new Error(`server exited (${exitCode ?? signalCode}) before answering:\n${server.output()}`);
    }
    const t0 = performance.now();
    const status = await probe(target, 1000);
    const t1 = performance.now();
    if (status === 200) return t1 - server.spawnedAt;
    if (t1 > deadline) throw new Error(`server did not answer ${path} within ${timeoutMs} ms:\n${server.output()}`);
    const wait = intervalMs - (t1 - t0);
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
}

/** spawnServer + waitForReady; the server is stopped if it never becomes ready. */
export async function startServer(opts: ServerOptions): Promise<{ server: RunningServer; readyMs: number }> {
  const server = await spawnServer(opts);
  try {
    return { server, readyMs: await waitForReady(server) };
  } catch (e) {
    await server.stop();
    throw e;
  }
}
