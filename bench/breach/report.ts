// The breach replay's report: per intruder variant, what it obtained before containment (absolute
// and as a share of what the account could reach), how fast it was detected and contained, every
// action taken against legitimate users, and the forensic report's totals against ground truth.
import type { IntruderResult } from "./intruder.js";
import type { LegitResult } from "./legit.js";
import type { Truth } from "./load.js";
import { fmtDuration } from "./chart.js";
import type { ResolvedConfig } from "../../src/config/schema.js";

export type GateSettings = ResolvedConfig["read_gate"];

/** One issue-8 target checked on one variant. */
export interface TargetCheck {
  target: string;
  value: number;
  bound: number;
  /** How the bound was set: the share of reachable data (scale 1.0), or thresholds (smaller scales). */
  basis: string;
  pass: boolean;
}

/** The intruder's page size (`/messages?limit=100`): the slack on a bound derived from thresholds. */
const PAGE = 100;

export interface ForensicCheck {
  /** Totals the server's forensic report gives for the intruder's account. */
  reported?: { messages: number; rooms: number; media: number; mediaBytes: number; people: number };
  /** What the intruder actually received (ground truth of the harness). */
  truth: { messages: number; rooms: number; media: number; mediaBytes: number; people: number };
  equal?: boolean;
  note?: string;
}

export interface VariantReport {
  variant: string;
  gate: boolean;
  user: string;
  messages: number;
  messagesShare: number;
  rooms: number;
  roomsShare: number;
  media: number;
  mediaShare: number;
  mediaBytes: number;
  usersEnumerated: number;
  memberLists: number;
  requests: number;
  detectedAfterMs: number | null;
  containedAfterMs: number | null;
  containedBy: string | null;
  endedBy: string;
  attackerMs: number;
  privateLeaks: number;
  statuses: Record<string, number>;
  legit: { users: number; requests: number; throttles: number; stepUps: number; locks: number; refused: number; scenarios: Record<string, string>; examples: string[] } | null;
  forensics: ForensicCheck | null;
  targets?: TargetCheck[];
}

export function variantReport(r: IntruderResult, truth: Truth, legit: LegitResult | null, forensics: ForensicCheck | null): VariantReport {
  const reachableMessages = truth.messagesPerForum.reduce((a, b) => a + b, 0);
  const reachableMedia = truth.media.length;
  const n = (k: string) => legit?.actions.filter((a) => a.kind === k).length ?? 0;
  return {
    variant: r.variant,
    gate: r.gate !== false,
    user: r.user,
    messages: r.messages,
    messagesShare: reachableMessages ? r.messages / reachableMessages : 0,
    rooms: r.rooms.size,
    roomsShare: truth.forumIds.length ? r.rooms.size / truth.forumIds.length : 0,
    media: r.media,
    mediaShare: reachableMedia ? r.media / reachableMedia : 0,
    mediaBytes: r.mediaBytes,
    usersEnumerated: r.usersEnumerated,
    memberLists: r.memberLists,
    requests: r.requests,
    detectedAfterMs: r.detectedAtMs ?? null,
    containedAfterMs: r.containedAtMs ?? null,
    containedBy: r.containedBy ?? null,
    endedBy: r.endedBy,
    attackerMs: r.attackerMs,
    privateLeaks: r.privateLeaks,
    statuses: r.statuses,
    legit: legit && { users: legit.users, requests: legit.requests, throttles: n("throttle"), stepUps: n("step-up"), locks: n("lock"), refused: n("refused"), scenarios: legit.scenarios, examples: legit.actions.slice(0, 5).map((a) => `${a.kind} ${a.status} ${a.errcode ?? ""} (${a.scenario}: ${a.path.split("?")[0]})`) },
    forensics,
  };
}

const pct = (x: number) => `${(100 * x).toFixed(2)} %`;
const ms = (x: number | null) => (x === null ? "never" : fmtDuration(x));

export function table(reports: VariantReport[]): string {
  const rows: string[][] = [
    ["variant", "messages", "share", "rooms", "media (files)", "share", "detected", "contained", "ended by", "legit: throttle/step-up/lock", "forensics = truth", "private leaks"],
  ];
  for (const r of reports) {
    rows.push([
      r.variant + (r.gate ? "" : " (gate off)"),
      r.messages.toLocaleString("en"),
      pct(r.messagesShare),
      String(r.rooms),
      r.media.toLocaleString("en"),
      pct(r.mediaShare),
      ms(r.detectedAfterMs),
      ms(r.containedAfterMs),
      r.endedBy + (r.containedBy ? ` (${r.containedBy})` : ""),
      r.legit ? `${r.legit.throttles}/${r.legit.stepUps}/${r.legit.locks}` : "-",
      r.forensics?.equal === undefined ? (r.forensics?.note ?? "-") : r.forensics.equal ? "yes" : "NO",
      String(r.privateLeaks),
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows.map((row, i) => row.map((cell, c) => cell.padEnd(widths[c]!)).join("  ") + (i === 0 ? "\n" + widths.map((w) => "-".repeat(w)).join("  ") : "")).join("\n");
}

/** The issue-8 targets for one variant. At scale 1.0 the bounds are the shares (0.5 % of
 * reachable messages and media for fast intruders, 2 % of messages for the slow one); at smaller
 * scales those shares are less than a page, so the bounds follow from the thresholds instead: a
 * bulk reader gets at most one threshold before its step-up and one more before the lock (the
 * read that crosses a threshold is refused), plus a page per device of slack. */
export function checkTargets(r: VariantReport, gate: GateSettings, scale: number, devices: number, reachable: { messages: number; media: number }): TargetCheck[] {
  const slow = r.variant === "slow";
  const full = scale >= 1;
  const reachableMessages = reachable.messages;
  const reachableMedia = reachable.media;
  const out: TargetCheck[] = [];
  const add = (target: string, value: number, bound: number, basis: string) => out.push({ target, value, bound: Math.floor(bound), basis, pass: value <= bound });
  add("contained (account locked)", r.containedBy === "account locked" ? 0 : 1, 0, "lock");
  if (slow) {
    if (full) add("messages before containment", r.messages, 0.02 * reachableMessages, "2 % of reachable");
    else add("messages before containment", r.messages, 2 * gate.long_thresholds.history_events + PAGE, "2 × long history_events + a page");
  } else {
    if (full) {
      add("messages before containment", r.messages, 0.005 * reachableMessages, "0.5 % of reachable");
      add("media before containment", r.media, 0.005 * reachableMedia, "0.5 % of reachable");
      add("contained within 30 s (attacker time, ms)", r.containedAfterMs ?? Infinity, 30_000, "issue 8");
    } else {
      add("messages before containment", r.messages, 2 * gate.thresholds.history_events + devices * PAGE, "2 × history_events + a page per device");
      add("media before containment", r.media, 2 * gate.thresholds.media_files + devices, "2 × media_files + one per device");
    }
  }
  if (r.legit) {
    add("legit throttles", r.legit.throttles, 0, "none at human rates");
    add("legit step-ups", r.legit.stepUps, 0, "≤ 1 per 1,000 user-days");
    add("legit locks", r.legit.locks, 0, "none");
  }
  add("private leaks", r.privateLeaks, 0, "none");
  if (r.forensics?.equal !== undefined) add("forensic totals = truth", r.forensics.equal ? 0 : 1, 0, "exact");
  return out;
}

/** PASS/FAIL lines, one per target and variant. */
export function targetLines(reports: VariantReport[]): string {
  const lines: string[] = [];
  for (const r of reports) {
    for (const t of r.targets ?? []) {
      const shown = t.target.startsWith("contained (") || t.target.startsWith("forensic") ? "" : `: ${Number.isFinite(t.value) ? t.value.toLocaleString("en") : "never"} ≤ ${t.bound.toLocaleString("en")} (${t.basis})`;
      lines.push(`${t.pass ? "PASS" : "FAIL"}  ${r.variant}: ${t.target}${shown}`);
    }
    for (const e of r.legit?.examples ?? []) lines.push(`      legit action: ${e}`);
  }
  return lines.join("\n");
}
