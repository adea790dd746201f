// Benchmarks only ever talk to this machine: every target URL is checked here.
import { createServer } from "node:net";

export const LOOPBACK = "127.0.0.1";

/** Throws unless `url` points at the loopback interface (or, for PostgreSQL, a local socket). */
export function assertLoopback(url: string, what = "target"): void {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, "");
  const socketHost = u.searchParams.get("host");
  const ok = host === LOOPBACK || host === "localhost" || host === "::1" || (host === "" && socketHost?.startsWith("/"));
  if (!ok) throw new Error(`${what} must be on 127.0.0.1 (got ${u.host || socketHost || url})`);
}

/** A TCP port free on 127.0.0.1 right now (bind to 0, read it, release it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.unref();
    s.once("error", reject);
    s.listen(0, LOOPBACK, () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => (port ? resolve(port) : reject(new Error("no port"))));
    });
  });
}
