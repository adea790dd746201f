// Pushers (client-server API "GET /pushers", "POST /pushers/set").
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { authenticate } from "../auth.js";
import { parseBody, text } from "../body.js";

const pusherBody = z.looseObject({
  pushkey: text().min(1).max(1024),
  kind: z.union([text().max(64), z.null()]),
  app_id: text().min(1).max(255),
  app_display_name: text().max(255).optional(),
  device_display_name: text().max(255).optional(),
  profile_tag: text().max(255).optional(),
  lang: text().max(64).optional(),
  data: z.looseObject({ url: text().max(2048).optional(), format: text().max(64).optional() }).optional(),
  append: z.boolean().optional(),
});

export function registerPusherRoutes(http: FastifyInstance, app: App): void {
  const v3 = "/_matrix/client/v3";

  http.get(`${v3}/pushers`, async (req) => {
    const who = await authenticate(app, req);
    return { pushers: await app.pushers.list(who.userId) };
  });

  http.post(`${v3}/pushers/set`, async (req) => {
    const who = await authenticate(app, req);
    const body = parseBody(pusherBody, req.body);
    await app.pushers.set(who.userId, who.deviceId, body);
    return {};
  });
}
