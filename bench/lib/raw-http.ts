// The leanest load generator we can write in Node: one keep-alive TCP connection per client, the
// HTTP/1.1 request written as one string, the response read by its Content-Length. Requests on a
// connection go one after the other (no pipelining), as a real client's sequence of sends would.
//
// Why: a sequential benchmark measures the client as much as the server (each round trip is the
// client's work plus the server's). node:http costs the client ~0.27 ms of CPU per request here
// (http-json.ts; fetch ~0.9 ms), as much as a third of what the server spends on a message send.
// This connection costs a few tens of µs, like wrk's C client would, so the figure is the server's.
// Loopback only; answers without Content-Length (chunked) are refused: our server never sends them
// for JSON.
import { connect, type Socket } from "node:net";
import { assertLoopback } from "./loopback.js";

interface Waiter {
  resolve: (r: { status: number; body: string }) => void;
  reject: (e: Error) => void;
  onFirstByte?: () => void;
}

export interface RawRequestOptions {
  /** Called once the request has been handed to the kernel (the server can read it). */
  onSent?: () => void;
  /** Called when the answer's first bytes arrive, before it is read whole: a latency taken here is
   * the server's and the network's, not the client's own reading. */
  onFirstByte?: () => void;
}

export class RawConnection {
  private socket: Socket;
  private buf: Buffer = Buffer.alloc(0);
  private waiter: Waiter | undefined;
  private readonly host: string;
  private ready: Promise<void>;

  constructor(base: string) {
    assertLoopback(base);
    const u = new URL(base);
    this.host = u.host;
    this.socket = connect({ host: u.hostname, port: Number(u.port), noDelay: true });
    this.ready = new Promise((resolve, reject) => {
      this.socket.once("connect", () => resolve());
      this.socket.once("error", reject);
    });
    this.socket.on("data", (d: Buffer) => this.onData(d));
    this.socket.on("error", (e) => this.fail(e));
    this.socket.on("close", () => this.fail(new Error("connection closed by the server")));
  }

  /** One request; resolves with the status and the raw body once the whole answer is read. */
  async request(method: string, path: string, token?: string, body?: unknown, opts: RawRequestOptions = {}): Promise<{ status: number; body: string }> {
    await this.ready;
    if (this.waiter) throw new Error("RawConnection: one request at a time");
    const payload = body === undefined ? "" : JSON.stringify(body);
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${this.host}\r\n`;
    if (token) head += `authorization: Bearer ${token}\r\n`;
    if (body !== undefined) head += `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(payload)}\r\n`;
    const done = new Promise<{ status: number; body: string }>((resolve, reject) => (this.waiter = { resolve, reject, onFirstByte: opts.onFirstByte }));
    this.socket.write(head + "\r\n" + payload, opts.onSent);
    return done;
  }

  /** As request(), parsed as JSON; throws unless the status is 2xx. */
  async json<T>(method: string, path: string, token?: string, body?: unknown): Promise<T> {
    const r = await this.request(method, path, token, body);
    if (r.status < 200 || r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.body.slice(0, 300)}`);
    return JSON.parse(r.body) as T;
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(d: Buffer): void {
    if (this.buf.length === 0 && this.waiter?.onFirstByte) {
      this.waiter.onFirstByte();
      this.waiter.onFirstByte = undefined;
    }
    this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
    const end = this.buf.indexOf("\r\n\r\n");
    if (end < 0 || !this.waiter) return;
    const head = this.buf.subarray(0, end).toString("latin1");
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!m) return this.fail(new Error(`answer without content-length: ${head.slice(0, 200)}`));
    const length = Number(m[1]);
    if (this.buf.length < end + 4 + length) return;
    const body = this.buf.subarray(end + 4, end + 4 + length).toString("utf8");
    this.buf = this.buf.subarray(end + 4 + length);
    const w = this.waiter;
    this.waiter = undefined;
    w.resolve({ status, body });
  }

  private fail(e: Error): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(e);
  }
}
