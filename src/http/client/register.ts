// Account registration (client-server API "Account registration").
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { optionalBody, text } from "../body.js";
import { MatrixError, forbidden, missingParam } from "../errors.js";

const registerBody = z.object({
  auth: z.unknown().optional(),
  username: text().max(255).optional(),
  password: z.string().optional(),
  device_id: text().min(1).max(255).optional(),
  initial_device_display_name: text().max(255).optional(),
  inhibit_login: z.boolean().optional(),
  refresh_token: z.boolean().optional(),
});

export function registerRegisterRoutes(http: FastifyInstance, app: App): void {
  const rl = app.config.rate_limiting;
  const limit = (ip: string) => app.rateLimiter.take("register", ip, rl.register_per_second, rl.register_burst);
  // Government model: an email proven by a mailed code (src/policy); the localpart comes from it.
  const emailMode = () => app.policy.enabled && app.config.policy.email_registration;
  const flows = () =>
    emailMode()
      ? [app.config.registration_requires_token ? ["m.login.email.identity", "m.login.registration_token"] : ["m.login.email.identity"]]
      : app.config.registration_requires_token
        ? [["m.login.registration_token"]]
        : [["m.login.dummy"]];

  http.post("/_matrix/client/v3/register", async (req) => {
    const kind = (req.query as Record<string, string>).kind ?? "user";
    if (kind === "guest") throw new MatrixError(403, "M_GUEST_ACCESS_FORBIDDEN", "Guest access is disabled");
    if (kind !== "user") throw new MatrixError(400, "M_INVALID_PARAM", "kind must be user or guest");
    if (!app.config.enable_registration) throw forbidden("Registration is disabled");
    const body = optionalBody(registerBody, req.body);
    // Name problems are reported before any auth stage, so clients can ask for another name early.
    if (!emailMode() && body.username !== undefined && !(await app.accounts.isAvailable(body.username.toLowerCase()))) {
      throw new MatrixError(400, "M_USER_IN_USE", "User ID already taken");
    }
    if (body.auth === undefined) limit(req.ip);
    const results = await app.uia.check({ purpose: "register", flows: flows() }, body.auth);
    if (body.password === undefined) throw missingParam("password is required");
    app.passwords.checkNew(body.password);
    app.passwordPolicy.check(body.password, { localpart: body.username?.toLowerCase(), mfa: app.config.login_security.mfa === "required" });
    const tokenUsed = results["m.login.registration_token"]?.token;
    if (typeof tokenUsed === "string" && !(await app.registrationTokens.consume(tokenUsed))) {
      throw forbidden("Registration token is no longer valid");
    }
    const proven = results["m.login.email.identity"] as { email: string; external: boolean } | undefined;
    const identity = proven ? app.policy.identityFor(proven.email) : undefined;
    const localpart = proven ? (identity!.localpart ?? (await app.accounts.generateLocalpart())) : (body.username?.toLowerCase() ?? (await app.accounts.generateLocalpart()));
    const userId = await app.accounts.createUser(localpart, body.password, { displayname: identity?.displayname });
    if (proven) await app.policy.registered(userId, proven.email, proven.external);
    await app.accountValidity.start(userId);
    req.log.info({ user_id: userId }, "registered");
    if (body.inhibit_login) return { user_id: userId };
    return app.accounts.startSession(userId, {
      deviceId: body.device_id,
      displayName: body.initial_device_display_name,
      withRefresh: body.refresh_token,
      ip: req.ip,
      userAgent: req.headers["user-agent"] ?? null,
    });
  });

  http.get("/_matrix/client/v3/register/available", async (req) => {
    limit(req.ip);
    // With registration closed, answering would let anyone probe which accounts exist.
    if (!app.config.enable_registration) throw forbidden("Registration is disabled");
    const username = (req.query as Record<string, unknown>).username;
    if (typeof username !== "string" || username === "") throw missingParam("username is required");
    if (!(await app.accounts.isAvailable(username.toLowerCase()))) throw new MatrixError(400, "M_USER_IN_USE", "User ID already taken");
    return { available: true };
  });

  http.get("/_matrix/client/v1/register/m.login.registration_token/validity", async (req) => {
    limit(req.ip);
    if (!app.config.enable_registration || !app.config.registration_requires_token) throw forbidden("Registration tokens are not in use");
    const token = (req.query as Record<string, unknown>).token;
    if (typeof token !== "string") throw missingParam("token is required");
    return { valid: await app.registrationTokens.isValid(token) };
  });
}
