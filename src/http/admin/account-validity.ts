// Synapse-compatible admin API: POST /_synapse/admin/v1/account_validity/validity.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { parseBody } from "../body.js";
import { authenticateAdmin } from "../auth.js";
import { forbidden, notFound } from "../errors.js";

const body = z.object({
  user_id: z.string().min(1).max(255),
  expiration_ts: z.number().int().min(0).optional(),
  enable_renewal_emails: z.boolean().optional(),
});

export function registerAccountValidityAdminRoutes(http: FastifyInstance, app: App): void {
  http.post("/_synapse/admin/v1/account_validity/validity", async (req) => {
    await authenticateAdmin(app, req);
    const b = parseBody(body, req.body);
    if (!app.accountValidity.enabled) throw forbidden("Account validity is not enabled");
    if (!(await app.accounts.getUser(b.user_id))) throw notFound("Unknown user");
    // Synapse: without expiration_ts, now + the validity period; enable_renewal_emails false marks
    // the mail as sent so that no renewal mail goes out for this period.
    const exp = b.expiration_ts ?? app.now() + app.config.policy.account_validity.period_ms;
    return { expiration_ts: await app.accountValidity.set(b.user_id, exp, b.enable_renewal_emails === false) };
  });
}
