// GET /notifications (client-server API "Listing Notifications").
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import type { ClientEvent } from "../../rooms/serialize.js";
import { authenticate } from "../auth.js";
import { intParam, strParam, type Query } from "./params.js";
import { invalidParam } from "../errors.js";
import { gate, roomRead } from "../gate.js";

export function registerNotificationRoutes(http: FastifyInstance, app: App): void {
  http.get("/_matrix/client/v3/notifications", async (req) => {
    const who = await authenticate(app, req);
    const q = req.query as Query;
    const only = strParam(q, "only");
    if (only !== undefined && only !== "highlight") throw invalidParam("only must be highlight");
    const res = await app.notifications.list(who.userId, { from: strParam(q, "from"), limit: Math.max(1, intParam(q, "limit", 50, 1, 100)), only });
    // Each notification carries its event: room content, read through the gate per room.
    const byRoom = new Map<string, ClientEvent[]>();
    for (const n of res.notifications as { room_id: string; event: ClientEvent }[]) byRoom.set(n.room_id, [...(byRoom.get(n.room_id) ?? []), n.event]);
    await gate(app, req, who, "notifications", { rooms: [...byRoom].map(([roomId, events]) => roomRead(roomId, events)) });
    return res;
  });
}
