// Password change and deactivation (client-server API "Account management"), both behind
// user-interactive auth.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { optionalBody, parseBody } from "../body.js";
import { authenticate } from "../auth.js";
import { reauthFlows } from "../../accounts/uia-stages.js";

/** Kept for other modules; sensitive operations should call reauthFlows(app, userId) (second factor). */
export const REAUTH_FLOWS = [["m.login.password"]];

export function registerAccountRoutes(http: FastifyInstance, app: App): void {
  http.post("/_matrix/client/v3/account/password", async (req) => {
    const who = await authenticate(app, req);
    const body = parseBody(z.object({ new_password: z.string(), logout_devices: z.boolean().optional(), auth: z.unknown().optional() }), req.body);
    app.passwords.checkNew(body.new_password);
    const me = await app.accounts.getUser(who.userId);
    app.passwordPolicy.check(body.new_password, { localpart: me?.localpart, displayname: me?.displayname, mfa: await app.mfa.requiredFor(who.userId) });
    await app.uia.check({ purpose: "change password", flows: await reauthFlows(app, who.userId), userId: who.userId }, body.auth);
    await app.accounts.changePassword(who, body.new_password, body.logout_devices ?? true);
    await app.loginGuard.clearAccount(who.userId);
    app.securityEvents.emit({ type: "password.changed", userId: who.userId, ip: req.ip });
    await app.loginAlerts.notify(who.userId, "password_changed", { ip: req.ip });
    req.log.info({ user_id: who.userId }, "password changed");
    return {};
  });

  http.post("/_matrix/client/v3/account/deactivate", async (req) => {
    const who = await authenticate(app, req);
    const body = optionalBody(z.object({ auth: z.unknown().optional(), erase: z.boolean().optional(), id_server: z.string().optional() }), req.body);
    await app.uia.check({ purpose: "deactivate", flows: await reauthFlows(app, who.userId), userId: who.userId }, body.auth);
    await app.accounts.deactivate(who.userId, body.erase ?? false);
    req.log.info({ user_id: who.userId }, "account deactivated");
    return { id_server_unbind_result: "no-support" };
  });

  // The email proven at registration or through /account/3pid/add (src/policy), if any.
  http.get("/_matrix/client/v3/account/3pid", async (req) => {
    const who = await authenticate(app, req);
    return { threepids: await app.policy.threepids(who.userId) };
  });
}
