// A lean JSON-over-HTTP client for the load generators: node:http with a keep-alive agent.
//
// Why not fetch: on Node 20, fetch (undici) costs the load generator ~0.9 ms of CPU per request,
// measured against GET /versions on this machine (1,100 sequential requests/s with fetch, 3,800
// with node:http). The load generator shares the 2 cores with the server, so with fetch a
// benchmark measures its own client as much as the server: a sequential client could never pass
// ~1,000 requests/s whatever the server did. Loopback only (assertLoopback).
import http from "node:http";
import { assertLoopback } from "./loopback.js";

// One agent for the process: a free keep-alive connection is reused, concurrent requests open
// more (no cap: 1,000 parked long-polls need 1,000 connections).
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 4096 });

export interface JsonResponse<T> {
  status: number;
  body: T;
}

/** One request; resolves with the status and the parsed JSON body (whatever the status). */
export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Called once the whole request has been handed to the socket (a load generator knows then that
   * the server can see it). */
  onSent?: () => void;
  /** Called when the response's headers arrive, before its body is read and parsed: a latency
   * measurement taken here leaves out the client's own parsing. */
  onResponse?: () => void;
}

export function requestJson<T = unknown>(url: string, method = "GET", opts: RequestOptions = {}): Promise<JsonResponse<T>> {
  assertLoopback(url);
  const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  const headers: Record<string, string | number> = {};
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (payload !== undefined) {
    headers["content-type"] = "application/json";
    headers["content-length"] = Buffer.byteLength(payload);
  }
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      opts.onResponse?.();
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        try {
          resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : {}) as T });
        } catch {
          reject(new Error(`${method} ${url}: ${res.statusCode} answered non-JSON: ${text.slice(0, 200)}`));
        }
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    if (opts.onSent) req.once("finish", opts.onSent);
    req.end(payload);
  });
}

/** As requestJson, but throws unless the status is 2xx; resolves with the body. */
export async function callJson<T = unknown>(url: string, method = "GET", opts: RequestOptions = {}): Promise<T> {
  const res = await requestJson<T>(url, method, opts);
  if (res.status < 200 || res.status >= 300) throw new Error(`${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}
