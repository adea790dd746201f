// The media routes share one fastify scope: its content-type parser passes request bodies through
// as streams (uploads are files, not JSON), and every answer, errors included, carries the media
// security headers (sandboxing CSP, nosniff).
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import { MEDIA_SECURITY_HEADERS } from "../../media/policy.js";
import { registerUploadRoutes } from "./upload.js";
import { registerDownloadRoutes } from "./download.js";
import { registerMediaConfigRoutes } from "./config.js";

/** Bodies up to this size are drained after a refusal; larger or unannounced ones end the connection. */
const DRAIN_LIMIT = 1024 * 1024;

export function registerMediaRoutes(http: FastifyInstance, app: App): void {
  void http.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_req, payload, done) => done(null, payload));
    scope.addHook("onRequest", async (_req, reply) => {
      reply.headers(MEDIA_SECURITY_HEADERS);
    });
    // A refused upload (401, 403, 413…) leaves the rest of its body unread; Node would then stop
    // reading the connection and the client's next request would hang until the keep-alive timeout.
    // Discard what is left so the connection stays usable; very large leftovers close it instead.
    scope.addHook("onSend", async (req, reply) => {
      const raw = req.raw;
      const hasBody = req.headers["transfer-encoding"] !== undefined || (req.headers["content-length"] ?? "0") !== "0";
      if (!hasBody || raw.readableEnded || raw.destroyed) return;
      const announced = Number(req.headers["content-length"] ?? NaN);
      if (!(announced <= DRAIN_LIMIT)) reply.header("connection", "close");
      raw.resume();
    });
    registerUploadRoutes(scope, app);
    registerDownloadRoutes(scope, app);
    registerMediaConfigRoutes(scope, app);
  });
}
