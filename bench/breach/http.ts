// A small Matrix HTTP client for the harness: one keep-alive connection pool per simulated device,
// bound to a chosen loopback source address so that the server sees distinct IPs (127.0.0.x).
import { Agent, request } from "node:http";
import { assertLoopback } from "../lib/loopback.js";

export interface Reply {
  status: number;
  body: Record<string, unknown>;
  bytes: number;
  retryAfterMs?: number;
}

export class MatrixHttp {
  private readonly dispatcher: Agent;
  token?: string;

  constructor(
    readonly baseUrl: string,
    readonly ip = "127.0.0.1",
  ) {
    assertLoopback(baseUrl);
    if (!/^127\./.test(ip)) throw new Error(`source address must be on 127.0.0.0/8 (got ${ip})`);
    this.dispatcher = new Agent({ keepAlive: true, maxSockets: 8 });
  }

  call(method: string, path: string, body?: unknown, raw = false): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    const payload = body === undefined ? undefined : raw ? Buffer.from(body as Uint8Array) : Buffer.from(JSON.stringify(body));
    if (payload) {
      headers["content-type"] = raw ? "application/octet-stream" : "application/json";
      headers["content-length"] = String(payload.byteLength);
    }
    const u = new URL(this.baseUrl + path);
    return new Promise((resolve, reject) => {
      const req = request(
        { host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers, agent: this.dispatcher, localAddress: this.ip },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const buf = Buffer.concat(chunks);
            let parsed: Record<string, unknown> = {};
            if ((res.headers["content-type"] ?? "").includes("json")) {
              try {
                parsed = JSON.parse(buf.toString("utf8")) as Record<string, unknown>;
              } catch {
                parsed = {};
              }
            }
            const ra = parsed.retry_after_ms;
            resolve({ status: res.statusCode ?? 0, body: parsed, bytes: buf.byteLength, retryAfterMs: typeof ra === "number" ? ra : undefined });
          });
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
  }

  async login(user: string, password: string, deviceId?: string): Promise<Reply> {
    // A client signing in again sends no access token (the old one may be soft-logged-out).
    this.token = undefined;
    const r = await this.call("POST", "/_matrix/client/v3/login", {
      type: "m.login.password",
      identifier: { type: "m.id.user", user },
      password,
      ...(deviceId ? { device_id: deviceId } : {}),
    });
    if (r.status === 200) this.token = r.body.access_token as string;
    return r;
  }

  close(): void {
    this.dispatcher.destroy();
  }
}

export const enc = encodeURIComponent;
