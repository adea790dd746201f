// Dehydrated devices (MSC3814) under the unstable prefix matrix-js-sdk 37 calls.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { optionalBody, parseBody, text } from "../body.js";
import { authenticate } from "../auth.js";

export const MSC3814_PREFIX = "/_matrix/client/unstable/org.matrix.msc3814.v1";
const obj = () => z.record(text(), z.unknown());

const putBody = z.looseObject({
  device_id: text().min(1).max(255),
  device_data: obj(),
  initial_device_display_name: text().max(255).optional(),
  device_keys: obj(),
  one_time_keys: obj().optional(),
  fallback_keys: obj().optional(),
});

export function registerDehydratedDeviceRoutes(http: FastifyInstance, app: App): void {
  const d = app.e2ee.dehydrated;

  http.put(`${MSC3814_PREFIX}/dehydrated_device`, async (req) => {
    const who = await authenticate(app, req);
    return d.put(who.userId, parseBody(putBody, req.body));
  });
  http.get(`${MSC3814_PREFIX}/dehydrated_device`, async (req) => {
    const who = await authenticate(app, req);
    return d.get(who.userId);
  });
  http.delete(`${MSC3814_PREFIX}/dehydrated_device`, async (req) => {
    const who = await authenticate(app, req);
    return d.delete(who.userId);
  });
  http.post<{ Params: { deviceId: string } }>(`${MSC3814_PREFIX}/dehydrated_device/:deviceId/events`, async (req) => {
    const who = await authenticate(app, req);
    const b = optionalBody(z.looseObject({ next_batch: text().optional() }), req.body);
    return d.events(who.userId, req.params.deviceId, b.next_batch);
  });
}
