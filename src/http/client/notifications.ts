// GET /notifications (client-server API "Listing Notifications").
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import { authenticate } from "../auth.js";
import { intParam, strParam, type Query } from "./params.js";
import { invalidParam } from "../errors.js";

export function registerNotificationRoutes(http: FastifyInstance, app: App): void {
  http.get("/_matrix/client/v3/notifications", async (req) => {
    const who = await authenticate(app, req);
    const q = req.query as Query;
    const only = strParam(q, "only");
    if (only !== undefined && only !== "highlight") throw invalidParam("only must be highlight");
    return app.notifications.list(who.userId, { from: strParam(q, "from"), limit: Math.max(1, intParam(q, "limit", 50, 1, 100)), only });
  });
}
