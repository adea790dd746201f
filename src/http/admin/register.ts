// GET/POST /_synapse/admin/v1/register: shared-secret registration, as Synapse serves it.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { parseBody, text } from "../body.js";
import { MatrixError, forbidden } from "../errors.js";
import { SharedSecretNonces, macMatches, sharedSecretMac } from "../../accounts/shared-secret.js";

const body = z.object({
  nonce: z.string(),
  username: text().min(1),
  password: z.string().min(1),
  displayname: text().max(256).optional(),
  admin: z.boolean().optional(),
  user_type: text().nullable().optional(),
  mac: z.string(),
});

export function registerSharedSecretRoutes(http: FastifyInstance, app: App): void {
  const nonces = new SharedSecretNonces(app.now);
  const rl = app.config.rate_limiting;
  const disabled = () => new MatrixError(400, "M_UNKNOWN", "Shared secret registration is not enabled");

  http.get("/_synapse/admin/v1/register", async (req) => {
    if (!app.config.registration_shared_secret) throw disabled();
    app.rateLimiter.take("register", req.ip, rl.register_per_second, rl.register_burst);
    return { nonce: nonces.issue() };
  });

  http.post("/_synapse/admin/v1/register", async (req) => {
    const secret = app.config.registration_shared_secret;
    if (!secret) throw disabled();
    const b = parseBody(body, req.body);
    if (!nonces.consume(b.nonce)) throw new MatrixError(400, "M_UNKNOWN", "Unrecognised nonce");
    const expected = sharedSecretMac(secret, b.nonce, b.username, b.password, b.admin ?? false, b.user_type);
    if (!macMatches(expected, b.mac)) throw forbidden("HMAC incorrect");
    const localpart = b.username.toLowerCase();
    const userId = await app.accounts.createUser(localpart, b.password, { admin: b.admin, displayname: b.displayname, userType: b.user_type });
    req.log.info({ user_id: userId, admin: b.admin ?? false }, "registered with shared secret");
    const session = await app.accounts.startSession(userId, { ip: req.ip, userAgent: req.headers["user-agent"] ?? null });
    return { access_token: session.access_token, user_id: userId, home_server: app.config.server_name, device_id: session.device_id };
  });
}
