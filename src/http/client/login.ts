// Login, logout, token refresh and whoami (client-server API "Login", "Refreshing access tokens").
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { parseBody, text } from "../body.js";
import { authenticate } from "../auth.js";
import { MatrixError } from "../errors.js";

const loginBody = z.object({
  type: z.string(),
  identifier: z.looseObject({ type: z.string(), user: text().optional() }).optional(),
  user: text().optional(),
  password: z.string().optional(),
  device_id: text().min(1).max(255).optional(),
  initial_device_display_name: text().max(255).optional(),
  refresh_token: z.boolean().optional(),
});

export function registerLoginRoutes(http: FastifyInstance, app: App): void {
  const rl = app.config.rate_limiting;

  http.get("/_matrix/client/v3/login", async () => ({ flows: [{ type: "m.login.password" }] }));

  http.post("/_matrix/client/v3/login", async (req) => {
    app.rateLimiter.take("login", req.ip, rl.login_per_second, rl.login_burst);
    const body = parseBody(loginBody, req.body);
    if (body.type !== "m.login.password") throw new MatrixError(400, "M_UNKNOWN", `Unsupported login type ${body.type}`);
    let user: string | undefined;
    if (body.identifier) {
      if (body.identifier.type !== "m.id.user") throw new MatrixError(400, "M_UNKNOWN", `Unsupported identifier type ${body.identifier.type}`);
      user = body.identifier.user;
    } else user = body.user;
    if (user === undefined || user === "") throw new MatrixError(400, "M_BAD_JSON", "identifier.user is required");
    if (body.password === undefined) throw new MatrixError(400, "M_BAD_JSON", "password is required");
    const userId = await app.accounts.checkPassword(app.accounts.resolveUserIdentifier(user), body.password);
    const result = await app.accounts.startSession(userId, {
      deviceId: body.device_id,
      displayName: body.initial_device_display_name,
      withRefresh: body.refresh_token,
      ip: req.ip,
      userAgent: req.headers["user-agent"] ?? null,
    });
    req.log.info({ user_id: userId, device_id: result.device_id }, "login");
    return {
      ...result,
      home_server: app.config.server_name,
      well_known: { "m.homeserver": { base_url: app.config.public_baseurl.replace(/\/$/, "") } },
    };
  });

  http.post("/_matrix/client/v3/logout", async (req) => {
    const who = await authenticate(app, req, { allowLocked: true });
    // The spec deletes the device along with its token (and, later, its keys).
    await app.devices.delete(who.userId, [who.deviceId]);
    return {};
  });

  http.post("/_matrix/client/v3/logout/all", async (req) => {
    const who = await authenticate(app, req, { allowLocked: true });
    const all = (await app.devices.list(who.userId)).map((d) => d.device_id);
    await app.sessions.revokeAll(who.userId);
    await app.devices.delete(who.userId, all);
    return {};
  });

  http.get("/_matrix/client/v3/account/whoami", async (req) => {
    const who = await authenticate(app, req);
    return { user_id: who.userId, device_id: who.deviceId, is_guest: false };
  });

  http.post("/_matrix/client/v3/refresh", async (req) => {
    const body = parseBody(z.object({ refresh_token: z.string().min(1) }), req.body);
    return app.sessions.refresh(body.refresh_token);
  });
}
