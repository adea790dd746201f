// Synapse-compatible admin API for registration tokens (/_synapse/admin/v1/registration_tokens).
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { optionalBody } from "../body.js";
import { authenticateAdmin } from "../auth.js";

const base = "/_synapse/admin/v1/registration_tokens";
const nullableCount = z.number().int().min(0).nullable().optional();
const nullableTs = z.number().int().min(0).nullable().optional();

export function registerRegistrationTokenAdminRoutes(http: FastifyInstance, app: App): void {
  http.get(base, async (req) => {
    await authenticateAdmin(app, req);
    const valid = (req.query as Record<string, string>).valid;
    let tokens = await app.registrationTokens.list();
    if (valid === "true" || valid === "false") {
      const checks = await Promise.all(tokens.map((t) => app.registrationTokens.isValid(t.token)));
      tokens = tokens.filter((_, i) => checks[i] === (valid === "true"));
    }
    return { registration_tokens: tokens };
  });

  http.post(`${base}/new`, async (req) => {
    await authenticateAdmin(app, req);
    const b = optionalBody(
      z.object({ token: z.string().optional(), length: z.number().int().min(1).max(64).optional(), uses_allowed: nullableCount, expiry_time: nullableTs }),
      req.body,
    );
    return app.registrationTokens.create(b);
  });

  http.get<{ Params: { token: string } }>(`${base}/:token`, async (req) => {
    await authenticateAdmin(app, req);
    return app.registrationTokens.get(req.params.token);
  });

  http.put<{ Params: { token: string } }>(`${base}/:token`, async (req) => {
    await authenticateAdmin(app, req);
    const b = optionalBody(z.object({ uses_allowed: nullableCount, expiry_time: nullableTs }), req.body);
    return app.registrationTokens.update(req.params.token, b);
  });

  http.delete<{ Params: { token: string } }>(`${base}/:token`, async (req) => {
    await authenticateAdmin(app, req);
    await app.registrationTokens.delete(req.params.token);
    return {};
  });
}
