// GET /_synapse/admin/v1/server_version (Synapse admin API "Server Version"): admin tools such as
// synadm check it first.
import type { FastifyInstance } from "fastify";
import { readFileSync } from "node:fs";
import type { App } from "../../app.js";
import { requireAdmin } from "./guard.js";

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../../../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

export function registerVersionAdminRoutes(http: FastifyInstance, app: App): void {
  const version = `Rempart ${packageVersion()}`;
  http.get("/_synapse/admin/v1/server_version", async (req) => {
    // Synapse serves this without authentication; here it needs an admin, like the rest of the admin API.
    await requireAdmin(app, req);
    return { server_version: version };
  });
}
