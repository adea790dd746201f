// autocannon (programmatic API) with just the types we use. It runs in the benchmark's own process,
// so the load generator and the server share the machine's cores: compare ratios within one run.
import { createRequire } from "node:module";
import { assertLoopback } from "./loopback.js";

interface Histogram {
  average: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface AutocannonResult {
  requests: Histogram & { total: number };
  latency: Histogram;
  duration: number;
  errors: number;
  timeouts: number;
  non2xx: number;
  "2xx": number;
}

type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

export interface LoadOptions {
  url: string;
  connections?: number;
  pipelining?: number;
  durationS?: number;
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface LoadFigures {
  /** 2xx responses per second over the whole run. */
  rps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  ok: number;
  non2xx: number;
  errors: number;
  durationS: number;
}

export async function runLoad(o: LoadOptions): Promise<LoadFigures> {
  assertLoopback(o.url);
  const r = await autocannon({
    url: o.url,
    connections: o.connections ?? 50,
    pipelining: o.pipelining ?? 1,
    duration: o.durationS ?? 10,
    method: o.method ?? "GET",
    headers: o.headers,
    body: o.body,
  });
  return {
    rps: r["2xx"] / r.duration,
    p50Ms: r.latency.p50,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    ok: r["2xx"],
    non2xx: r.non2xx,
    errors: r.errors,
    durationS: r.duration,
  };
}
