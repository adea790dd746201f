// Media benchmark: upload and download throughput for 1 MB and 20 MB files through the real server
// (child process, 127.0.0.1, SQLite) with the antivirus gate on a private clamd, thumbnail time, and
// the server's peak RSS while a 20 MB upload streams in.
//
//   npm run bench:media                          # with clamd (the default configuration)
//   node dist/bench/media.js --no-antivirus --runs 5
//
// Prints figures, never assertions. Client and server share the machine: compare runs made here.
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import sharp from "sharp";
import { spawnServer, waitForReady } from "./lib/server.js";
import { freshDataDir, removeDataDir } from "./lib/datadir.js";
import { readMemory } from "./lib/rss.js";
import { register } from "./lib/matrix.js";
import { median, fmt, table } from "./lib/stats.js";
import { stopAll } from "./lib/children.js";
import { startClamd, type Clamd } from "../test/helpers/clamd.js";
import { Thumbnailer } from "../src/media/thumbnails.js";

const MB = 1_000_000;
const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

function parseOptions(argv: string[]): { runs: number; antivirus: boolean } {
  const o = { runs: 5, antivirus: true };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--runs") o.runs = Number(argv[++i]);
    else if (argv[i] === "--no-antivirus") o.antivirus = false;
    else throw new Error(`unknown option ${argv[i]} (use --runs N, --no-antivirus)`);
  }
  return o;
}

async function uploadOnce(base: string, token: string, data: Buffer, type = "application/octet-stream"): Promise<{ ms: number; mxc: string }> {
  const t0 = performance.now();
  const res = await fetch(`${base}/_matrix/media/v3/upload?filename=bench.bin`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": type },
    body: data as unknown as BodyInit,
  });
  const body = (await res.json()) as { content_uri?: string };
  const ms = performance.now() - t0;
  if (res.status !== 200 || !body.content_uri) throw new Error(`upload: ${res.status} ${JSON.stringify(body)}`);
  return { ms, mxc: body.content_uri };
}

async function fetchAll(url: string, token: string): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const buf = await res.arrayBuffer();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  return { ms, bytes: buf.byteLength };
}

const path = (mxc: string) => mxc.slice("mxc://".length);

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const dataDir = freshDataDir();
  let clamd: Clamd | undefined;
  const rows: string[][] = [["measure", "median", "unit"]];
  const json: Record<string, number> = {};
  try {
    const env: Record<string, string> = { REMPART_ENABLE_REGISTRATION: "true", REMPART_RATE_LIMITING__ENABLED: "false" };
    if (o.antivirus) {
      clamd = await startClamd();
      env.REMPART_ANTIVIRUS__SOCKET = clamd.socket;
    } else env.REMPART_ANTIVIRUS__ENABLED = "false";
    const server = await spawnServer({ dataDir, env });
    await waitForReady(server);
    const me = await register(server.url, "bench", "bench-password-1");
    const idle = readMemory(server.pid).rssMb;
    rows.push(["server RSS after start (idle)", fmt(idle, 1), "MB"]);
    json.rss_idle_mb = idle;
    log(`server pid ${server.pid}, antivirus ${o.antivirus ? "on (private clamd)" : "off"}`);

    for (const size of [1 * MB, 20 * MB]) {
      const data = randomBytes(size);
      const up: number[] = [];
      const down: number[] = [];
      const runs = size > MB ? Math.max(2, Math.ceil(o.runs / 2)) : o.runs;
      for (let i = 0; i < runs; i++) {
        const u = await uploadOnce(server.url, me.access_token, data);
        up.push(size / MB / (u.ms / 1000));
        const d = await fetchAll(`${server.url}/_matrix/client/v1/media/download/${path(u.mxc)}`, me.access_token);
        if (d.bytes !== size) throw new Error("short download");
        down.push(size / MB / (d.ms / 1000));
      }
      const label = `${size / MB} MB`;
      rows.push([`upload ${label}${o.antivirus ? " (incl. clamd scan)" : ""}`, fmt(median(up), 1), "MB/s"]);
      rows.push([`download ${label}`, fmt(median(down), 1), "MB/s"]);
      json[`upload_${size / MB}mb_mbps`] = median(up);
      json[`download_${size / MB}mb_mbps`] = median(down);
    }

    // Peak RSS of the server while a 20 MB upload streams in (sampled every 5 ms).
    const before = readMemory(server.pid).rssMb;
    let peak = before;
    const timer = setInterval(() => {
      try {
        peak = Math.max(peak, readMemory(server.pid).rssMb);
      } catch {
        /* process gone */
      }
    }, 5);
    await uploadOnce(server.url, me.access_token, randomBytes(20 * MB));
    clearInterval(timer);
    peak = Math.max(peak, readMemory(server.pid).rssMb);
    rows.push(["server RSS before the 20 MB upload (after the runs above)", fmt(before, 1), "MB"]);
    rows.push(["server peak RSS during the 20 MB upload", fmt(peak, 1), "MB"]);
    json.rss_before_mb = before;
    json.rss_peak_20mb_upload_mb = peak;

    // Thumbnails: a 12-megapixel photo-like JPEG.
    const photo = await sharp(randomBytes(4000 * 3000 * 3), { raw: { width: 4000, height: 3000, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
    const u = await uploadOnce(server.url, me.access_token, photo, "image/jpeg");
    // First request right after the upload (rendered now, or by the precomputation racing it), then cached.
    const first = await fetchAll(`${server.url}/_matrix/client/v1/media/thumbnail/${path(u.mxc)}?width=320&height=240&method=scale`, me.access_token);
    const warm: number[] = [];
    for (let i = 0; i < o.runs; i++) {
      warm.push((await fetchAll(`${server.url}/_matrix/client/v1/media/thumbnail/${path(u.mxc)}?width=96&height=96&method=crop`, me.access_token)).ms);
    }
    // sharp alone, in this process: the cost of one size from a 12 MP JPEG.
    const file = `${dataDir}/bench-photo.jpg`;
    await sharp(photo).toFile(file);
    const t = new Thumbnailer(32_000_000);
    const render: number[] = [];
    for (let i = 0; i < o.runs; i++) {
      const t0 = performance.now();
      await t.render(file, "image/jpeg", { width: 320, height: 240, method: "scale" });
      render.push(performance.now() - t0);
    }
    rows.push([`thumbnail 320x240 from a ${(photo.length / MB).toFixed(1)} MB 4000x3000 JPEG (sharp, in-process)`, fmt(median(render), 0), "ms"]);
    rows.push(["thumbnail first HTTP request after upload", fmt(first.ms, 0), "ms"]);
    rows.push(["thumbnail HTTP request, cached", fmt(median(warm), 1), "ms"]);
    json.thumbnail_render_ms = median(render);
    json.thumbnail_first_http_ms = first.ms;
    json.thumbnail_cached_http_ms = median(warm);
    await server.stop();
  } finally {
    await stopAll();
    await clamd?.stop();
    removeDataDir(dataDir);
  }
  console.log(table(rows));
  console.log(`BENCH_JSON ${JSON.stringify(json)}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
