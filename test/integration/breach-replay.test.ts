// The June 2026 breach, replayed at a tiny scale (issue 8): the real server, the real dataset shape,
// the fast and parallel intruders (one taken-over account with its TOTP seed, several devices and
// addresses) beside the legitimate workload. Thresholds are scaled down for the tiny dataset through
// the harness's own override; the bounds follow from them (docs/read-gate.md, bench/breach/README.md).
// Counts only, never timings. On PostgreSQL when REMPART_TEST_DATABASE_URL is set.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runBreach } from "../../bench/breach/replay.js";
import { freshPostgresDatabase } from "../../bench/lib/postgres.js";

const SCALE = 0.003;
// At this scale a forum holds ~700 events over three years, so a legitimate reader's last pages are
// months old (history past 90 days), where at the incident's scale they are days old. A long
// history_days gives the tiny forums the incident's density: what a member reads of a room they
// were in is not history; everything before the intruder's join still is.
const GATE = { history_days: 3650 };
const HISTORY = 150;
const MEDIA = 10;

test("breach replay, tiny scale: fast and parallel intruders are locked within the bounds; legitimate users untouched", { timeout: 300_000 }, async () => {
  const admin = process.env.REMPART_TEST_DATABASE_URL;
  const db = admin ? await freshPostgresDatabase(admin, "rempart_t_breach") : undefined;
  try {
    const r = await runBreach({
      scale: SCALE,
      variants: ["fast", "parallel"],
      compareGateOff: false,
      database: db?.url,
      // Attacker time, a bound never reached: the intruders are locked well before (the parallel one
      // may wait 30 s of it for a fresh TOTP step).
      budgetMs: 180_000,
      thresholds: { history_events: HISTORY, media_files: MEDIA },
      gate: GATE,
      log: () => undefined,
    });
    assert.ok(r.truth.reachableMessages > 2 * HISTORY + 4 * 100, `the dataset is bigger than the bound (${r.truth.reachableMessages} messages)`);
    for (const v of r.reports) {
      const devices = v.variant === "parallel" ? 4 : 1;
      assert.equal(v.endedBy, "contained", `${v.variant}: ${v.endedBy}`);
      assert.equal(v.containedBy, "account locked", v.variant);
      assert.ok(v.messages <= 2 * HISTORY + devices * 100, `${v.variant}: ${v.messages} messages obtained`);
      assert.ok(v.media <= 2 * MEDIA + devices, `${v.variant}: ${v.media} files obtained`);
      assert.ok(v.messages < r.truth.reachableMessages / 2, `${v.variant}: most of the history stays unread`);
      assert.equal(v.privateLeaks, 0, `${v.variant}: private markers obtained`);
      assert.ok(v.legit, "the legitimate workload ran");
      assert.deepEqual([v.legit.throttles, v.legit.stepUps, v.legit.locks], [0, 0, 0], `${v.variant}: legitimate users contained: ${v.legit.examples.join("; ")}`);
      assert.ok(v.legit.users >= 30, `${v.variant}: ${v.legit.users} legitimate users`);
      assert.equal(v.forensics?.equal, true, `${v.variant}: forensic totals ${JSON.stringify(v.forensics)}`);
      assert.ok((v.targets ?? []).every((t) => t.pass || t.target.includes("30 s")), `${v.variant}: ${JSON.stringify(v.targets?.filter((t) => !t.pass))}`);
    }
  } finally {
    await db?.drop().catch(() => undefined);
  }
});
