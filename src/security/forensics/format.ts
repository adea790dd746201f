// The forensic report as JSON, Markdown (for people) or CSV (one line per finding, for a
// spreadsheet or a SIEM import: section, then the section's columns).
import type { Report, ReverseReport, UserReport } from "./model.js";

export type ReportFormat = "json" | "md" | "csv";
export const REPORT_FORMATS: readonly ReportFormat[] = ["json", "md", "csv"];
export const CONTENT_TYPES: Record<ReportFormat, string> = { json: "application/json", md: "text/markdown; charset=utf-8", csv: "text/csv; charset=utf-8" };

const iso = (ms: number | undefined) => (ms === undefined || !Number.isFinite(ms) ? "" : new Date(ms).toISOString());
// Markdown table cells: user-chosen strings (queries, user agents) must not break the table.
const cell = (v: unknown) => String(v ?? "").replace(/[|\\`*_[\]<>]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, " ");
const table = (head: string[], rows: unknown[][]) =>
  rows.length === 0 ? "_none_\n" : `| ${head.join(" | ")} |\n|${head.map(() => "---").join("|")}|\n${rows.map((r) => `| ${r.map(cell).join(" | ")} |`).join("\n")}\n`;

export function formatReport(r: Report, f: ReportFormat): string {
  if (f === "json") return JSON.stringify(r, null, 2);
  if (f === "csv") return r.kind === "user" ? userCsv(r) : reverseCsv(r);
  return r.kind === "user" ? userMd(r) : reverseMd(r);
}

function trailLine(r: Report): string {
  return r.trail.verified
    ? `Audit trail verified: ${r.trail.records} records, ${r.trail.checkpoints} signed checkpoints.`
    : `**Audit trail did NOT verify**: ${r.trail.problem ?? "unknown problem"}. The figures below come from a trail that may have been altered.`;
}

function userMd(r: UserReport): string {
  const t = r.totals;
  return [
    `# Forensic report: ${r.user_id}\n`,
    `Period: ${iso(r.since)} to ${iso(r.until)}\n`,
    `${trailLine(r)}\n`,
    `## Totals\n`,
    table(["messages", "rooms read", "people exposed", "media files", "media bytes"], [[t.messages, t.rooms, t.people, t.media, t.mediaBytes]]),
    r.inexact_ranges ? `\n${r.inexact_ranges} recorded read ranges held events that were not returned (filters or hidden history): their events were counted from the whole range, an upper bound.\n` : "",
    `\nRefused reads: ${r.refused_reads.throttled} throttled, ${r.refused_reads.denied} denied.\n`,
    `\n## Containment actions\n`,
    table(["time", "action", "metric", "scope", "value", "limit"], r.containment.map((c) => [iso(c.ts), c.action, c.metric, c.scope, c.value, c.limit])),
    `\n## Rooms read\n`,
    table(["room", "reads", "events", "messages", "events via /sync", "first", "last"], r.rooms.map((l) => [l.room_id, l.reads, l.events, l.messages, l.sync_events, iso(l.first_ts), iso(l.last_ts)])),
    `\n## People whose messages were exposed\n`,
    table(["sender", "messages"], r.people.map((p) => [p.user_id, p.messages])),
    `\n## Media\n`,
    table(["media id", "downloads", "bytes", "first", "last"], r.media.map((m) => [m.media_id, m.downloads, m.bytes, iso(m.first_ts), iso(m.last_ts)])),
    `\n## Directory queries\n`,
    `User directory results returned: ${r.users_enumerated_max} (an upper bound on the users enumerated).\n\n`,
    table(["time", "endpoint", "query", "results"], r.directory.map((d) => [iso(d.ts), d.endpoint, d.query, d.results])),
    `\n## Sessions\n`,
    table(["session", "device", "ip", "user agent", "reads", "first", "last"], r.sessions.map((s) => [s.session_id, s.device_id, s.ip, s.user_agent, s.reads, iso(s.first_ts), iso(s.last_ts)])),
    `\n## IP addresses\n`,
    table(["ip", "reads"], r.ips.map((i) => [i.ip, i.reads])),
    `\n## Sign-ins and session events\n`,
    table(["time", "event", "decision", "ip", "device"], r.logins.map((l) => [iso(l.ts), l.event, l.decision, l.ip, l.device_id])),
  ].join("");
}

function reverseMd(r: ReverseReport): string {
  return [
    `# Forensic report: who read ${r.event_id !== undefined ? `event ${r.event_id} in ` : ""}${r.room_id}\n`,
    `Period: ${iso(r.since)} to ${iso(r.until)}\n`,
    `${trailLine(r)}\n\n`,
    table(["user", "reads", "events", "first", "last", "ips"], r.readers.map((l) => [l.user_id, l.reads, l.events, iso(l.first_ts), iso(l.last_ts), l.ips.join(" ")])),
  ].join("");
}

// CSV (RFC 4180): quoted when needed; a leading =,+,-,@ is prefixed with ' so a spreadsheet does
// not run a user-chosen query as a formula (Matrix user ids, which cannot hold a formula's
// parentheses, stay as they are).
const USER_ID = /^@[a-z0-9._=\-/+]+:[A-Za-z0-9.\-:[\]]+$/;
const csvCell = (v: unknown) => {
  let s = String(v ?? "");
  if (/^[=+\-@\t\r]/.test(s) && !USER_ID.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const csv = (rows: unknown[][]) => rows.map((r) => r.map(csvCell).join(",")).join("\r\n") + "\r\n";

function userCsv(r: UserReport): string {
  const t = r.totals;
  return csv([
    ["section", "key", "a", "b", "c", "d", "e"],
    ["report", r.user_id, iso(r.since), iso(r.until), r.trail.verified ? "verified" : "NOT verified", r.trail.problem ?? "", ""],
    ["totals", "messages", t.messages, "", "", "", ""],
    ["totals", "rooms", t.rooms, "", "", "", ""],
    ["totals", "people", t.people, "", "", "", ""],
    ["totals", "media", t.media, "", "", "", ""],
    ["totals", "media_bytes", t.mediaBytes, "", "", "", ""],
    ["totals", "inexact_ranges", r.inexact_ranges, "", "", "", ""],
    ...r.containment.map((c) => ["containment", iso(c.ts), c.action, c.metric, c.scope, c.value, c.limit]),
    ...r.rooms.map((l) => ["room", l.room_id, l.reads, l.events, l.messages, iso(l.first_ts), iso(l.last_ts)]),
    ...r.people.map((p) => ["person", p.user_id, p.messages, "", "", "", ""]),
    ...r.media.map((m) => ["media", m.media_id, m.downloads, m.bytes, iso(m.first_ts), iso(m.last_ts), ""]),
    ...r.directory.map((d) => ["directory", iso(d.ts), d.endpoint, d.query, d.results, "", ""]),
    ...r.sessions.map((s) => ["session", s.session_id, s.device_id, s.ip, s.user_agent, s.reads, iso(s.last_ts)]),
    ...r.logins.map((l) => ["login", iso(l.ts), l.event, l.decision, l.ip, l.device_id, ""]),
  ]);
}

function reverseCsv(r: ReverseReport): string {
  return csv([
    ["user", "reads", "events", "first", "last", "ips"],
    ...r.readers.map((l) => [l.user_id, l.reads, l.events, iso(l.first_ts), iso(l.last_ts), l.ips.join(" ")]),
  ]);
}
