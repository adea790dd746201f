// The trail off the box and over time: OCSF export to a file and to an HTTP collector (retried
// until it accepts, nothing duplicated or lost), checkpoints at least every minute of activity,
// retention that prunes up to a signed anchor and keeps verify passing, and learned baselines.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { join as pathJoin } from "node:path";
import { startTestServer } from "../helpers/server.js";
import { call } from "../helpers/http.js";
import { records, verifyCli } from "../helpers/audit.js";
import { join, messages, publicRoom, sendMany } from "../helpers/rooms.js";
import { verifyTrail } from "../../src/security/audit/verify.js";
import { pruneTrail } from "../../src/security/audit/retention.js";

const C = "/_matrix/client/v3";

test("OCSF export to a file and an HTTP collector that fails twice before accepting", async () => {
  const batches: Record<string, unknown>[][] = [];
  let failures = 2;
  const collector = createServer((req, res) => {
    let body = "";
    req.on("data", (c: Buffer) => (body += c.toString()));
    req.on("end", () => {
      if (failures-- > 0) return res.writeHead(503).end();
      batches.push(JSON.parse(body) as Record<string, unknown>[]);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => collector.listen(0, "127.0.0.1", r));
  const port = (collector.address() as { port: number }).port;
  const dir = (await import("node:os")).tmpdir();
  const file = pathJoin(dir, `rempart-ocsf-${process.pid}-${Date.now()}.jsonl`);
  const s = await startTestServer({
    read_gate: { thresholds: { rooms_read: 1 }, audit: { export_file: file, export_url: `http://127.0.0.1:${port}/ocsf`, export_interval_ms: 3_600_000 } },
  });
  try {
    const alice = await s.user("alice");
    const reg = await call(s.url, "POST", `${C}/register`, { body: { username: "newbie", password: "a-long-password-1", auth: { type: "m.login.dummy" } } });
    assert.equal(reg.status, 200, JSON.stringify(reg.body));
    const r1 = await publicRoom(s, alice, "a");
    const r2 = await publicRoom(s, alice, "b");
    await sendMany(s, alice, r1, 3);
    assert.equal((await messages(s, alice, r1)).status, 200);
    assert.equal((await messages(s, alice, r2)).status, 429);
    const who = await s.app.sessions.authenticate(alice.accessToken);
    await s.app.readGate.release({ who, ip: "198.51.100.7", endpoint: "download" }, { media: { mediaId: "abc", bytes: 1234 } }).catch(() => undefined);
    await s.app.audit.flush();
    for (let i = 0; i < 3; i++) await s.app.auditExporter.runOnce();
    const lines = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    const classes = new Set(lines.map((l) => l.class_uid));
    for (const c of [3001, 3002, 6003, 6006, 2004]) assert.ok(classes.has(c), `class ${c} exported`);
    const read = lines.find((l) => l.class_uid === 6003 && (l.api as { operation: string }).operation === "messages")!;
    assert.equal(read.activity_id, 2);
    assert.equal(read.type_uid, 600302);
    assert.equal((read.actor as { user: { uid: string } }).user.uid, alice.userId);
    assert.equal((read.src_endpoint as { ip: string }).ip, "127.0.0.1");
    assert.deepEqual((read.resources as { uid: string }[]).map((r) => r.uid), [r1]);
    const finding = lines.find((l) => l.class_uid === 2004)!;
    assert.match((finding.finding_info as { title: string }).title, /rooms_read/);
    const login = lines.find((l) => l.class_uid === 3002)!;
    assert.equal(login.activity_id, 1);
    // The collector got every line exactly once, after its two failures.
    const posted = batches.flat();
    assert.equal(posted.length, lines.length);
    assert.deepEqual(posted.map((l) => (l.metadata as { uid: string }).uid), lines.map((l) => (l.metadata as { uid: string }).uid));
    // Nothing new: another round sends nothing.
    await s.app.auditExporter.runOnce();
    assert.equal(batches.flat().length, posted.length);
  } finally {
    await s.close();
    await new Promise((r) => collector.close(r));
  }
});

test("a signed checkpoint at least every minute of activity", async () => {
  let t = Date.now();
  const s = await startTestServer({ now: () => t });
  try {
    const alice = await s.user("alice");
    const room = await publicRoom(s, alice, "a");
    const count = async () => (await s.app.storage.db.selectFrom("audit_checkpoints").selectAll().execute()).length;
    assert.equal((await messages(s, alice, room)).status, 200);
    await s.app.audit.flush();
    const n0 = await count();
    for (let minute = 1; minute <= 3; minute++) {
      t += 61_000;
      assert.equal((await messages(s, alice, room)).status, 200);
      await s.app.audit.flush();
      assert.equal(await count(), n0 + minute, `checkpoint after minute ${minute}`);
    }
  } finally {
    await s.close();
  }
});

test("retention prunes up to a signed checkpoint, which stays as the anchor: verify still passes", async () => {
  let t = Date.now() - 500 * 86_400_000;
  const s = await startTestServer({ now: () => t });
  try {
    const alice = await s.user("alice");
    const room = await publicRoom(s, alice, "a");
    for (let i = 0; i < 5; i++) assert.equal((await messages(s, alice, room)).status, 200);
    await s.app.audit.flush();
    await s.app.audit.maybeCheckpoint(true);
    const anchor = s.app.audit.lastSeq;
    t += 450 * 86_400_000;
    for (let i = 0; i < 3; i++) assert.equal((await messages(s, alice, room)).status, 200);
    await s.app.audit.flush();
    await s.app.audit.maybeCheckpoint(true);
    const before = (await records(s)).length;
    const pruned = await pruneTrail(s.app.storage, s.config.read_gate.audit.retention_days, t);
    assert.equal(pruned.anchor, anchor);
    assert.equal(pruned.records, anchor);
    const left = await records(s);
    assert.equal(left.length, before - anchor);
    assert.equal(left[0]!.seq, anchor + 1);
    const v = await verifyTrail(s.app.storage, s.app.signingKey.publicKey, s.config.server_name);
    assert.equal(v.ok, true, JSON.stringify(v));
    const cli = verifyCli(s);
    assert.equal(cli.code, 0, cli.out);
    // Without its anchor the pruned trail no longer verifies.
    await s.app.storage.db.deleteFrom("audit_checkpoints").where("seq", "=", anchor).execute();
    const broken = await verifyTrail(s.app.storage, s.app.signingKey.publicKey, s.config.server_name);
    assert.equal(broken.ok, false);
    assert.equal(broken.bad!.seq, anchor);
  } finally {
    await s.close();
  }
});

test("a user's learned baseline raises their own thresholds, from windows that are over", async () => {
  let t = Date.now();
  const s = await startTestServer({ now: () => t, read_gate: { window_ms: 60_000, baseline_factor: 2, thresholds: { rooms_read: 3 } } });
  try {
    const alice = await s.user("alice");
    const heavy = await s.user("heavy");
    const fresh = await s.user("fresh");
    const rooms: string[] = [];
    for (let i = 0; i < 8; i++) {
      const r = await publicRoom(s, alice, `r${i}`);
      await join(s, heavy, r);
      await join(s, fresh, r);
      rooms.push(r);
    }
    // Window 1: "heavy" reads up to the threshold.
    for (let i = 0; i < 3; i++) assert.equal((await messages(s, heavy, rooms[i]!)).status, 200);
    t += 61_000;
    // Window 2: that peak (3) now allows 2 × 3 = 6 distinct rooms for "heavy" alone.
    for (let i = 0; i < 6; i++) assert.equal((await messages(s, heavy, rooms[i]!)).status, 200, `heavy room ${i}`);
    assert.equal((await messages(s, heavy, rooms[6]!)).status, 429);
    for (let i = 0; i < 3; i++) assert.equal((await messages(s, fresh, rooms[i]!)).status, 200);
    assert.equal((await messages(s, fresh, rooms[3]!)).status, 429, "no baseline: the configured threshold");
    // The peak is stored in the background (containment.ts learn(): a read never waits for it).
    const peaks = async () => (await s.app.storage.db.selectFrom("read_baselines").selectAll().where("user_id", "=", heavy.userId).where("metric", "=", "rooms_read").execute()).map((r) => Number(r.peak));
    for (let i = 0; i < 100 && (await peaks()).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(await peaks(), [3]);
  } finally {
    await s.close();
  }
});
