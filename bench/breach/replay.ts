// The breach replay: builds a server, loads the incident-shaped dataset through it, then runs each
// intruder variant against it (with the legitimate workload alongside for the real-time variants),
// and, for comparison, the fast intruder with the read gate switched off. Used by the CLI
// (bench/breach/run.ts) and by the CI test at a tiny scale (test/integration/breach-replay.test.ts).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { resolveConfig } from "../../src/config/load.js";
import { configSchema } from "../../src/config/schema.js";
import { createApp, type App } from "../../src/app.js";
import { buildServer } from "../../src/http/server.js";
import { createLogger } from "../../src/log.js";
import { makePlan, type Plan } from "./plan.js";
import { loadPlan, PASSWORD, localpart, SimClock, type Truth } from "./load.js";
import { runIntruder, type IntruderResult, type Variant } from "./intruder.js";
import { runLegit, type LegitResult } from "./legit.js";
import { checkTargets, variantReport, type ForensicCheck, type GateSettings, type VariantReport } from "./report.js";
import { TotpFactor } from "../../src/security/mfa/totp.js";

export interface ReplayOptions {
  scale: number;
  variants: Variant[];
  /** Also run the fast intruder with the read gate off. */
  compareGateOff: boolean;
  /** A postgres:// URL of a fresh database; SQLite in a temp dir otherwise. */
  database?: string;
  /** Real-time budget of each fast variant (ms). */
  budgetMs: number;
  /** read_gate.thresholds overrides (e.g. { history_events: 300 }) to try containment at small scales;
   * a key "long.<metric>" overrides read_gate.long_thresholds. */
  thresholds?: Record<string, number>;
  /** Other read_gate settings (e.g. { history_days: 3650 }: at tiny scales a forum's last pages are
   * months old, where at the incident's scale they are days old; see the CI test). */
  gate?: Record<string, unknown>;
  log: (s: string) => void;
}

export interface ReplayResult {
  scale: number;
  plan: { users: number; forums: number; messages: number; media: number; privateRooms: number };
  truth: { reachableMessages: number; reachableMedia: number; reachableMediaBytes: number; forums: number; loadSeconds: number; eventsWritten: number };
  reports: VariantReport[];
  runs: IntruderResult[];
  /** The read gate settings the run used (targets at small scales are derived from them). */
  gate: GateSettings;
}

/** The settings the harness needs from the read gate, if this build has one. */
function gateSettings(enabled: boolean, allowlist: string[], overrides?: Record<string, number>, extra?: Record<string, unknown>): Record<string, unknown> {
  const shape = (configSchema as unknown as { shape: Record<string, unknown> }).shape;
  if (!("read_gate" in shape)) return {};
  const thresholds: Record<string, number> = {};
  const long: Record<string, number> = {};
  for (const [k, v] of Object.entries(overrides ?? {})) {
    if (k.startsWith("long.")) long[k.slice(5)] = v;
    else thresholds[k] = v;
  }
  return { read_gate: { ...extra, enabled, allowlist, thresholds, long_thresholds: long } };
}

interface Running {
  app: App;
  http: FastifyInstance;
  url: string;
}

async function start(dataDir: string, database: string | undefined, clock: SimClock, gate: boolean, bot: string, thresholds?: Record<string, number>, extra?: Record<string, unknown>): Promise<Running> {
  const config = resolveConfig({
    server_name: "breach.local",
    data_dir: dataDir,
    ...(database ? { database } : {}),
    log_level: "warn",
    // Accounts are created by the thousand: cheap hashes (the login benchmark measures the real cost).
    password_hashing: { memory_kib: 1024, time_cost: 1 },
    // No clamd in the benchmark; the antivirus gate has its own tests and figures.
    ...("antivirus" in (configSchema as unknown as { shape: object }).shape ? { antivirus: { enabled: false } } : {}),
    ...gateSettings(gate, [bot], thresholds, extra),
  });
  const app = await createApp(config, createLogger("warn"), { now: clock.now });
  const http = await buildServer(app);
  await http.listen({ host: "127.0.0.1", port: 0 });
  const addr = http.server.address() as { port: number };
  return { app, http, url: `http://127.0.0.1:${addr.port}` };
}

async function stop(r: Running): Promise<void> {
  await r.http.close();
  await r.app.close();
}

/** The server's forensic totals for one account, when this build can produce them. */
async function forensicCheck(app: App, run: IntruderResult, since: number): Promise<ForensicCheck> {
  const truth = { messages: run.messages, rooms: run.rooms.size, media: run.media, mediaBytes: run.mediaBytes, people: run.senders.size };
  const f = (app as unknown as { forensics?: { totals(userId: string, since: number): Promise<ForensicCheck["reported"]> } }).forensics;
  if (!f) return { truth, note: "no forensic report in this build" };
  const reported = await f.totals(run.user, since);
  const equal = !!reported && reported.messages === truth.messages && reported.rooms === truth.rooms && reported.media === truth.media && reported.mediaBytes === truth.mediaBytes && reported.people === truth.people;
  return { truth, reported, equal };
}

export async function runBreach(o: ReplayOptions): Promise<ReplayResult> {
  const plan: Plan = makePlan(o.scale);
  const dataDir = mkdtempSync(join(tmpdir(), "rempart-breach-"));
  const clock = new SimClock();
  const uid = (i: number) => `@${localpart(i)}:breach.local`;
  const botIndex = plan.legit[plan.legit.length - 1]!;
  let server = await start(dataDir, o.database, clock, true, uid(botIndex), o.thresholds, o.gate);
  const gateConfig = server.app.config.read_gate;
  try {
    o.log(`plan: ${plan.users} users, ${plan.forums} forums, ${plan.messages.length} messages and files, ${plan.privateRooms} private rooms, ${plan.dms} DMs`);
    const truth: Truth = await loadPlan(server.app, plan, clock, server.url, o.log);
    // Every victim has a second factor (TOTP), and its intruder has the seed too: a full takeover.
    const seeds = new Map<number, { secret: string; usedAt: number }>();
    for (const v of plan.victims) {
      const { secret } = server.app.mfa.totp.newSecret(uid(v));
      const usedAt = clock.now();
      if (!(await server.app.mfa.totp.enrol(uid(v), secret, TotpFactor.codeFor(secret, usedAt)))) throw new Error(`TOTP enrolment failed for ${uid(v)}`);
      seeds.set(v, { secret, usedAt });
    }
    const runs: IntruderResult[] = [];
    const reports: VariantReport[] = [];
    const victims = [...plan.victims];

    const one = async (variant: Variant, gate: boolean): Promise<void> => {
      const victim = victims.shift();
      if (victim === undefined) throw new Error("not enough victim accounts in the plan");
      const user = uid(victim);
      const realTime = variant !== "slow";
      let done = false;
      const since = clock.now();
      const legit: Promise<LegitResult> | null = realTime
        ? runLegit({ baseUrl: server.url, plan, truth, uid, localpart, password: PASSWORD, bot: botIndex, stop: () => done })
        : null;
      const ipBase = 10 + runs.length * 10;
      const run = await runIntruder({
        baseUrl: server.url,
        user: localpart(victim),
        password: PASSWORD,
        variant,
        clock,
        ips: variant === "parallel" ? [1, 2, 3, 4].map((k) => `127.0.${ipBase}.${k}`) : [`127.0.${ipBase}.1`],
        budgetMs: realTime ? o.budgetMs : 30 * 86_400_000,
        privateMarkers: truth.privateMarkers,
        totp: seeds.get(victim),
        log: o.log,
      }).finally(() => (done = true));
      run.user = user;
      run.gate = gate;
      const legitResult = legit ? await legit : null;
      runs.push(run);
      const report = variantReport(run, truth, legitResult, gate ? await forensicCheck(server.app, run, since) : null);
      if (gate) report.targets = checkTargets(report, gateConfig, o.scale, variant === "parallel" ? 4 : 1, { messages: truth.messagesPerForum.reduce((a, b) => a + b, 0), media: truth.media.length });
      reports.push(report);
      o.log(`${variant}${gate ? "" : " (gate off)"}: ${report.messages} messages (${(100 * report.messagesShare).toFixed(2)} %), ${report.media} files, ended by ${report.endedBy}${report.containedBy ? ` (${report.containedBy})` : ""}`);
      // The next variant starts two hours later (simulated): the same legitimate users replay their
      // day, and their hourly meters must not carry the previous run's reads (an artefact of
      // replaying them, not something a person does). Time only moves forward, as meters expect.
      clock.advance(2 * 3_600_000);
    };

    for (const v of o.variants) await one(v, true);
    if (o.compareGateOff) {
      await stop(server);
      server = await start(dataDir, o.database, clock, false, uid(botIndex));
      await one("fast", false);
    }
    return {
      scale: o.scale,
      plan: { users: plan.users, forums: plan.forums, messages: plan.messages.filter((m) => m.kind !== "media").length, media: plan.messages.filter((m) => m.kind === "media").length, privateRooms: plan.privateRooms + plan.dms },
      truth: {
        reachableMessages: truth.messagesPerForum.reduce((a, b) => a + b, 0),
        reachableMedia: truth.media.length,
        reachableMediaBytes: truth.media.reduce((a, m) => a + m.bytes, 0),
        forums: truth.forumIds.length,
        loadSeconds: truth.loadSeconds,
        eventsWritten: truth.eventsWritten,
      },
      reports,
      runs,
      gate: gateConfig,
    };
  } finally {
    await stop(server).catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
