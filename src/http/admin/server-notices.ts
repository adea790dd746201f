// Synapse-compatible server notices admin API (POST /_synapse/admin/v1/send_server_notice).
// One user per call: to notify everyone, loop over the user list (synadm notice send --regex '.*').
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { parseBody, text } from "../body.js";
import { requireAdmin } from "./guard.js";

const body = z.object({
  user_id: text().min(1).max(255),
  content: z.record(z.string(), z.unknown()),
  type: text().min(1).max(255).optional(),
  state_key: text().max(255).optional(),
});

export function registerServerNoticeAdminRoutes(http: FastifyInstance, app: App): void {
  http.post("/_synapse/admin/v1/send_server_notice", async (req) => {
    const who = await requireAdmin(app, req);
    const b = parseBody(body, req.body);
    const eventId = await app.serverNotices.send(b);
    // The notice's text is not recorded: only who sent what kind of event to whom.
    app.adminActions.record({ admin: who.userId, action: "server_notice.send", target: b.user_id, details: { type: b.type ?? "m.room.message", event_id: eventId } });
    return { event_id: eventId };
  });
}
