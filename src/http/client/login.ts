// Login, logout, token refresh and whoami (client-server API "Login", "Refreshing access tokens").
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { parseBody, text } from "../body.js";
import { authenticate } from "../auth.js";
import { MatrixError, invalidParam, missingParam, userDeactivated, userLocked } from "../errors.js";

const loginBody = z.object({
  type: z.string(),
  identifier: z.looseObject({ type: z.string(), user: text().optional() }).optional(),
  user: text().optional(),
  password: z.string().optional(),
  token: z.string().max(1000).optional(),
  device_id: text().min(1).max(255).optional(),
  initial_device_display_name: text().max(255).optional(),
  refresh_token: z.boolean().optional(),
});

export function registerLoginRoutes(http: FastifyInstance, app: App): void {
  const rl = app.config.rate_limiting;

  // Client-server API "Login": m.login.sso leads to Rempart's own web login (password, then the
  // second factor), which hands back an m.login.token. When a second factor is required for everyone,
  // m.login.password is neither offered nor accepted.
  http.get("/_matrix/client/v3/login", async () => {
    const flows: Record<string, unknown>[] = [];
    if (app.config.login_security.mfa !== "required") flows.push({ type: "m.login.password" });
    flows.push({ type: "m.login.sso", identity_providers: [] }, { type: "m.login.token", get_login_token: false });
    return { flows };
  });

  http.get("/_matrix/client/v3/login/sso/redirect", async (req, reply) => {
    const redirectUrl = (req.query as Record<string, unknown>).redirectUrl;
    if (typeof redirectUrl !== "string" || redirectUrl === "") throw missingParam("redirectUrl is required");
    if (!URL.canParse(redirectUrl)) throw invalidParam("redirectUrl must be an absolute URL");
    return reply.redirect(`/_rempart/login?redirect_url=${encodeURIComponent(redirectUrl)}`, 302);
  });

  http.post("/_matrix/client/v3/login", async (req) => {
    app.rateLimiter.take("login", req.ip, rl.login_per_second, rl.login_burst);
    const body = parseBody(loginBody, req.body);
    let userId: string;
    if (body.type === "m.login.token") {
      if (body.token === undefined || body.token === "") throw new MatrixError(400, "M_BAD_JSON", "token is required");
      const owner = await app.loginTokens.consume(body.token);
      if (owner === undefined) throw new MatrixError(403, "M_FORBIDDEN", "Invalid or expired login token");
      const user = await app.accounts.getUser(owner);
      if (!user || user.deactivated) throw userDeactivated();
      if (user.locked) throw userLocked();
      userId = owner;
    } else if (body.type === "m.login.password") {
      if (app.config.login_security.mfa === "required") throw new MatrixError(400, "M_UNKNOWN", "m.login.password is not offered: use m.login.sso");
      let user: string | undefined;
      if (body.identifier) {
        if (body.identifier.type !== "m.id.user") throw new MatrixError(400, "M_UNKNOWN", `Unsupported identifier type ${body.identifier.type}`);
        user = body.identifier.user;
      } else user = body.user;
      if (user === undefined || user === "") throw new MatrixError(400, "M_BAD_JSON", "identifier.user is required");
      if (body.password === undefined) throw new MatrixError(400, "M_BAD_JSON", "password is required");
      userId = await app.passwordLogin.attempt(user, body.password, req.ip);
      // Said only to someone who knew the password: the account needs its second factor.
      if (await app.mfa.requiredFor(userId)) {
        throw new MatrixError(403, "M_FORBIDDEN", "This account logs in with a second factor: use single sign-on (m.login.sso) in your client");
      }
      if (app.config.login_security.check_password_at_login) {
        const u = await app.accounts.getUser(userId);
        app.passwordPolicy.check(body.password, { localpart: u?.localpart, displayname: u?.displayname, mfa: false });
      }
    } else throw new MatrixError(400, "M_UNKNOWN", `Unsupported login type ${body.type}`);
    const result = await app.accounts.startSession(userId, {
      deviceId: body.device_id,
      displayName: body.initial_device_display_name,
      withRefresh: body.refresh_token,
      ip: req.ip,
      userAgent: req.headers["user-agent"] ?? null,
    });
    req.log.info({ user_id: userId, device_id: result.device_id, type: body.type }, "login");
    app.securityEvents.emit({ type: "login.succeeded", userId, ip: req.ip, detail: { device_id: result.device_id, login_type: body.type } });
    await app.loginHooks.loggedIn(userId, result.device_id, req.ip, req.headers["user-agent"] ?? null);
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
