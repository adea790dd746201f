// Device management (client-server API "Device management").
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { optionalBody, parseBody, text } from "../body.js";
import { authenticate } from "../auth.js";
import { reauthFlows } from "../../accounts/uia-stages.js";

export function registerDeviceRoutes(http: FastifyInstance, app: App): void {
  http.get("/_matrix/client/v3/devices", async (req) => {
    const who = await authenticate(app, req);
    return { devices: await app.devices.list(who.userId) };
  });

  http.get<{ Params: { deviceId: string } }>("/_matrix/client/v3/devices/:deviceId", async (req) => {
    const who = await authenticate(app, req);
    return app.devices.get(who.userId, req.params.deviceId);
  });

  http.put<{ Params: { deviceId: string } }>("/_matrix/client/v3/devices/:deviceId", async (req) => {
    const who = await authenticate(app, req);
    const body = optionalBody(z.object({ display_name: text().max(255).optional() }), req.body);
    if (body.display_name !== undefined) await app.devices.rename(who.userId, req.params.deviceId, body.display_name);
    else await app.devices.get(who.userId, req.params.deviceId);
    return {};
  });

  http.delete<{ Params: { deviceId: string } }>("/_matrix/client/v3/devices/:deviceId", async (req) => {
    const who = await authenticate(app, req);
    const body = optionalBody(z.object({ auth: z.unknown().optional() }), req.body);
    await app.devices.get(who.userId, req.params.deviceId);
    await app.uia.check({ purpose: `delete devices ${req.params.deviceId}`, flows: await reauthFlows(app, who.userId), userId: who.userId }, body.auth);
    await app.devices.delete(who.userId, [req.params.deviceId]);
    return {};
  });

  http.post("/_matrix/client/v3/delete_devices", async (req) => {
    const who = await authenticate(app, req);
    const body = parseBody(z.object({ devices: z.array(text()).max(1000), auth: z.unknown().optional() }), req.body);
    const ids = [...new Set(body.devices)].sort();
    await app.uia.check({ purpose: `delete devices ${ids.join(",")}`, flows: await reauthFlows(app, who.userId), userId: who.userId }, body.auth);
    await app.devices.delete(who.userId, ids);
    return {};
  });
}
