// Synapse-compatible event reports admin API (/_synapse/admin/v1/event_reports).
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import { requireAdmin } from "./guard.js";
import { dirParam, intParam, strParam, type Query } from "../client/params.js";

const BASE = "/_synapse/admin/v1/event_reports";

type P = { Params: { reportId: string } };

export function registerReportAdminRoutes(http: FastifyInstance, app: App): void {
  http.get(BASE, async (req) => {
    const who = await requireAdmin(app, req);
    const q = req.query as Query;
    const res = await app.adminReports.list({
      from: intParam(q, "from", 0),
      limit: intParam(q, "limit", 100, 0, 1000),
      // Newest first by default, as in Synapse.
      dir: dirParam(q, "b"),
      roomId: strParam(q, "room_id"),
      userId: strParam(q, "user_id"),
      eventSender: strParam(q, "event_sender_user_id"),
    });
    app.adminActions.record({ admin: who.userId, action: "event_report.list" });
    return res;
  });

  http.get<P>(`${BASE}/:reportId`, async (req) => {
    const who = await requireAdmin(app, req);
    const res = await app.adminReports.get(req.params.reportId);
    app.adminActions.record({ admin: who.userId, action: "event_report.get", target: req.params.reportId });
    return res;
  });

  http.delete<P>(`${BASE}/:reportId`, async (req) => {
    const who = await requireAdmin(app, req);
    await app.adminReports.delete(req.params.reportId);
    app.adminActions.record({ admin: who.userId, action: "event_report.delete", target: req.params.reportId });
    return {};
  });
}
