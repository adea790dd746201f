// The forensic report over the admin API (docs/read-gate.md "Forensic report"), admins only:
//   GET /_rempart/admin/v1/forensics/users/{userId}?since=&until=&format=json|md|csv
//   GET /_rempart/admin/v1/forensics/rooms/{roomId}?event_id=&since=&until=&format=
// since/until are UTC milliseconds or ISO 8601 times. JSON by default; text/markdown or text/csv on
// request. The call itself is recorded in the audit trail as an admin action (src/http/gate.ts).
import type { FastifyInstance, FastifyReply } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { invalidParam } from "../errors.js";
// Bearer token, or the security console's web session (admin with a second factor).
import { securityAdmin } from "./security.js";
import { CONTENT_TYPES, formatReport, REPORT_FORMATS, type ReportFormat } from "../../security/forensics/format.js";
import type { Report } from "../../security/forensics/model.js";
import { parseTime } from "../../security/forensics/time.js";

const Query = z.object({
  since: z.string().max(64).optional(),
  until: z.string().max(64).optional(),
  format: z.string().max(8).optional(),
  event_id: z.string().max(255).optional(),
});

function parseQuery(q: unknown): { since?: number; until?: number; format: ReportFormat; eventId?: string } {
  const r = Query.safeParse(q ?? {});
  if (!r.success) throw invalidParam("Invalid query parameters");
  const format = (r.data.format ?? "json") as ReportFormat;
  if (!REPORT_FORMATS.includes(format)) throw invalidParam("format must be json, md or csv");
  const time = (name: string, v: string | undefined) => {
    if (v === undefined) return undefined;
    const t = parseTime(v);
    if (t === undefined) throw invalidParam(`${name} must be milliseconds since the epoch or an ISO 8601 time`);
    return t;
  };
  return { since: time("since", r.data.since), until: time("until", r.data.until), format, eventId: r.data.event_id };
}

function send(reply: FastifyReply, report: Report, format: ReportFormat): unknown {
  if (format === "json") return report;
  return reply.type(CONTENT_TYPES[format]).send(formatReport(report, format));
}

export function registerForensicsAdminRoutes(http: FastifyInstance, app: App): void {
  http.get<{ Params: { userId: string } }>("/_rempart/admin/v1/forensics/users/:userId", async (req, reply) => {
    await securityAdmin(app, req);
    const q = parseQuery(req.query);
    if (!/^@[^:]+:.+$/.test(req.params.userId)) throw invalidParam("Not a user id");
    return send(reply, await app.forensics.userReport(req.params.userId, q), q.format);
  });

  http.get<{ Params: { roomId: string } }>("/_rempart/admin/v1/forensics/rooms/:roomId", async (req, reply) => {
    await securityAdmin(app, req);
    const q = parseQuery(req.query);
    if (!/^![^:]+:.+$/.test(req.params.roomId)) throw invalidParam("Not a room id");
    return send(reply, await app.forensics.readersReport(req.params.roomId, q.eventId, q), q.format);
  });
}
