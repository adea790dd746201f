// The breach replay's report: per intruder variant, what it obtained before containment (absolute
// and as a share of what the account could reach), how fast it was detected and contained, every
// action taken against legitimate users, and the forensic report's totals against ground truth.
import type { IntruderResult } from "./intruder.js";
import type { LegitResult } from "./legit.js";
import type { Truth } from "./load.js";
import { fmtDuration } from "./chart.js";

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
  legit: { users: number; requests: number; throttles: number; stepUps: number; locks: number; refused: number; scenarios: Record<string, string> } | null;
  forensics: ForensicCheck | null;
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
    legit: legit && { users: legit.users, requests: legit.requests, throttles: n("throttle"), stepUps: n("step-up"), locks: n("lock"), refused: n("refused"), scenarios: legit.scenarios },
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
