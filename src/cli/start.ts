// `rempart start`: open storage, build the HTTP server, listen, and stop cleanly on a signal.
import type { ResolvedConfig } from "../config/schema.js";
import { createLogger } from "../log.js";

export function parseListen(listen: string): { host: string; port: number } {
  const i = listen.lastIndexOf(":");
  return { host: listen.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(listen.slice(i + 1)) };
}

export async function startServer(config: ResolvedConfig): Promise<void> {
  const log = createLogger(config.log_level);
  // The services, then the routes, are imported one after the other rather than with this module:
  // in the bundle each is a chunk that V8 parses on its own, and the parser's working memory for
  // the first is reused for the second instead of both adding up (~10 MB of malloc'd memory that
  // stayed resident when the whole server was one top-level script; docs/architecture.md).
  const { createApp } = await import("../app.js");
  const app = await createApp(config, log);
  const { buildServer } = await import("../http/server.js");
  const http = await buildServer(app);
  const { host, port } = parseListen(config.listen);
  await http.listen({ host, port });
  log.info({ server_name: config.server_name, listen: config.listen, database: app.storage.dialect }, "rempart is listening");
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    await http.close();
    await app.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}
