// A ClamAV client speaking clamd's INSTREAM command (clamd(8), "INSTREAM"): the file is sent as
// chunks each prefixed by its length as a 4-byte big-endian integer, ended by a zero-length chunk;
// clamd answers "stream: OK" or "stream: <signature> FOUND", NUL-terminated with the z prefix.
// Streaming means a file is never held in memory; the socket applies backpressure.
import { connect, type Socket } from "node:net";
import type { Readable } from "node:stream";

export type ScanVerdict = { infected: false } | { infected: true; signature: string };

/** clamd could not give a verdict (down, timed out, refused the stream): the caller decides. */
export class ScannerUnavailableError extends Error {}

export interface Scanner {
  scan(source: Readable): Promise<ScanVerdict>;
}

export interface ClamdOptions {
  socket: string;
  host?: string;
  port: number;
  timeoutMs: number;
}

const CHUNK = 64 * 1024;

export class ClamdScanner implements Scanner {
  constructor(private readonly opts: ClamdOptions) {}

  private connect(): Socket {
    return this.opts.host ? connect({ host: this.opts.host, port: this.opts.port }) : connect({ path: this.opts.socket });
  }

  /** PING → PONG: for health checks and the operators' "is clamd there" question. */
  async ping(): Promise<boolean> {
    try {
      return (await this.exchange(async (s) => void s.write("zPING\0"))) === "PONG";
    } catch {
      return false;
    }
  }

  async scan(source: Readable): Promise<ScanVerdict> {
    const reply = await this.exchange(async (sock, failed) => {
      sock.write("zINSTREAM\0");
      const header = Buffer.alloc(4);
      for await (const data of source) {
        const buf = data as Buffer;
        for (let off = 0; off < buf.length; off += CHUNK) {
          if (failed()) return;
          const piece = buf.subarray(off, off + CHUNK);
          header.writeUInt32BE(piece.length);
          sock.write(Buffer.from(header));
          if (!sock.write(piece)) await waitDrain(sock, failed);
        }
      }
      sock.write(Buffer.alloc(4));
    }).finally(() => source.destroy());
    const m = /^stream: (.+) FOUND$/.exec(reply);
    if (m) return { infected: true, signature: m[1]! };
    if (reply === "stream: OK") return { infected: false };
    // "INSTREAM size limit exceeded. ERROR" (StreamMaxLength too small), or anything unexpected.
    throw new ScannerUnavailableError(`clamd: ${reply.slice(0, 200)}`);
  }

  /** One connection: sends with `send`, returns clamd's reply without the trailing NUL. */
  private exchange(send: (s: Socket, failed: () => boolean) => Promise<void>): Promise<string> {
    return new Promise((resolve, reject) => {
      const sock = this.connect();
      const chunks: Buffer[] = [];
      let done = false;
      const finish = (err: Error | undefined, value?: string) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        sock.destroy();
        if (err) reject(err instanceof ScannerUnavailableError ? err : new ScannerUnavailableError(`clamd: ${err.message}`));
        else resolve(value!);
      };
      const timer = setTimeout(() => finish(new ScannerUnavailableError(`clamd: no answer within ${this.opts.timeoutMs} ms`)), this.opts.timeoutMs);
      sock.on("error", (e) => finish(e));
      sock.on("data", (c: Buffer) => {
        chunks.push(c);
        const all = Buffer.concat(chunks);
        const nul = all.indexOf(0);
        if (nul >= 0) finish(undefined, all.subarray(0, nul).toString("utf8").trim());
      });
      sock.on("end", () => finish(undefined, Buffer.concat(chunks).toString("utf8").replace(/\0+$/, "").trim()));
      sock.once("connect", () => {
        send(sock, () => done).catch((e: Error) => finish(e));
      });
    });
  }
}

function waitDrain(sock: Socket, failed: () => boolean): Promise<void> {
  if (failed()) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      sock.off("drain", done);
      sock.off("close", done);
      resolve();
    };
    sock.on("drain", done);
    sock.on("close", done);
  });
}
