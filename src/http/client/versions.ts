// Discovery: /versions, /.well-known, /capabilities.
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import { authenticate } from "../auth.js";

/**
 * Spec versions advertised. A version is listed only once what it requires of a server is served;
 * clients switch behaviour on these (e.g. authenticated media from v1.11).
 */
export const SUPPORTED_SPEC_VERSIONS = ["r0.6.1", "v1.1", "v1.2", "v1.3", "v1.4", "v1.5", "v1.6"];

export function registerVersionRoutes(http: FastifyInstance, app: App): void {
  // org.matrix.msc3814: dehydrated devices (src/e2ee/dehydrated-devices.ts).
  const versions = JSON.stringify({ versions: SUPPORTED_SPEC_VERSIONS, unstable_features: { "org.matrix.msc3814": true } });
  http.get("/_matrix/client/versions", async (_req, reply) => reply.type("application/json").send(versions));

  const base = app.config.public_baseurl.replace(/\/$/, "");
  http.get("/.well-known/matrix/client", async () => ({ "m.homeserver": { base_url: base } }));
  http.get("/.well-known/matrix/server", async () => {
    const u = new URL(app.config.public_baseurl);
    return { "m.server": `${u.hostname}:${u.port || (u.protocol === "https:" ? "443" : "80")}` };
  });

  http.get("/_matrix/client/v3/capabilities", async (req) => {
    await authenticate(app, req);
    return {
      capabilities: {
        "m.change_password": { enabled: true },
        "m.room_versions": {
          default: app.config.default_room_version,
          available: { "10": "stable", "11": "stable", "12": "stable" },
        },
        "m.set_displayname": { enabled: true },
        "m.set_avatar_url": { enabled: true },
        "m.3pid_changes": { enabled: false },
        "m.get_login_token": { enabled: false },
      },
    };
  });
}
