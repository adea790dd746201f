// Send-to-device messaging (client-server API "Send-to-Device messaging").
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { parseBody, text } from "../body.js";
import { authenticate } from "../auth.js";

const body = z.looseObject({
  messages: z.record(text(), z.record(text(), z.record(text(), z.unknown()))),
});

export function registerToDeviceRoutes(http: FastifyInstance, app: App): void {
  http.put<{ Params: { eventType: string; txnId: string } }>("/_matrix/client/v3/sendToDevice/:eventType/:txnId", async (req) => {
    const who = await authenticate(app, req);
    const b = parseBody(body, req.body);
    await app.e2ee.toDevice.send(who, req.params.eventType, req.params.txnId, b.messages);
    return {};
  });
}
