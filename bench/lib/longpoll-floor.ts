// The floor for long-poll wake-up: bare Node (node:http, no framework, no database) that parks every
// GET /sync with a timeout and, when any PUT arrives, answers every parked one with the same
// prebuilt body of FLOOR_BODY_BYTES bytes. Not a Matrix server: what bench/sync.ts --floor measures
// against it is what the machine, the kernel, Node's HTTP stack and the load generator cost for
// 1,000 answers, before any server does any work of its own.
//
// FLOOR_WORKERS=N (N > 1) serves from N processes (node:cluster, connections shared out by the
// primary) and a PUT to any of them wakes the parked requests of all: the floor of a server that
// would spread its long-polls over several processes.
import cluster from "node:cluster";
import { createServer, type ServerResponse } from "node:http";

const listen = process.env.REMPART_LISTEN ?? "127.0.0.1:0";
const i = listen.lastIndexOf(":");
const workers = Number(process.env.FLOOR_WORKERS ?? 1);

if (workers > 1 && cluster.isPrimary) {
  const forked = Array.from({ length: workers }, () => cluster.fork());
  // A worker that was sent a PUT tells the primary, which tells every worker.
  for (const w of forked) w.on("message", (m) => m === "wake" && forked.forEach((o) => o.send("wake")));
  process.on("SIGTERM", () => {
    for (const w of forked) w.kill();
    process.exit(0);
  });
} else {
  const size = Number(process.env.FLOOR_BODY_BYTES ?? 2000);
  const pad = "x".repeat(Math.max(0, size - 40));
  const woken = JSON.stringify({ next_batch: "s1", pad });
  const wokenLength = Buffer.byteLength(woken);
  const parked: ServerResponse[] = [];
  const wake = () => {
    for (const p of parked.splice(0)) {
      // With its length, as the server answers (and as lib/raw-http.ts reads).
      p.writeHead(200, { "content-type": "application/json", "content-length": wokenLength });
      p.end(woken);
    }
  };
  process.on("message", (m) => m === "wake" && wake());

  const server = createServer((req, res) => {
    const url = req.url ?? "/";
    req.resume();
    req.on("end", () => {
      if (req.method === "PUT") {
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"event_id":"$floor"}');
        if (process.send) process.send("wake");
        else wake();
      } else if (url.startsWith("/_matrix/client/v3/sync") && !/[?&]timeout=0(&|$)/.test(url)) {
        parked.push(res);
      } else {
        res.writeHead(200, { "content-type": "application/json" });
        res.end('{"next_batch":"s0","versions":["v1.1"]}');
      }
    });
  });
  server.listen(Number(listen.slice(i + 1)), listen.slice(0, i), 4096);
  process.on("SIGTERM", () => server.close(() => process.exit(0)));
}
