// The media routes share one fastify scope: its content-type parser passes request bodies through
// as streams (uploads are files, not JSON), and every answer, errors included, carries the media
// security headers (sandboxing CSP, nosniff).
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import { MEDIA_SECURITY_HEADERS } from "../../media/policy.js";
import { registerUploadRoutes } from "./upload.js";
import { registerDownloadRoutes } from "./download.js";
import { registerMediaConfigRoutes } from "./config.js";

/** How much of a refused body is read and discarded before the connection is cut. */
const DRAIN_LIMIT = 64 * 1024 * 1024;
/** How long a refused body may stall after the answer was sent before the connection is cut. */
const STALLED_BODY_MS = 1000;

export function registerMediaRoutes(http: FastifyInstance, app: App): void {
  void http.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (_req, payload, done) => done(null, payload));
    scope.addHook("onRequest", async (_req, reply) => {
      reply.headers(MEDIA_SECURITY_HEADERS);
    });
    // A refused upload (401, 403, 413…) leaves the rest of its body unread; Node would then stop
    // reading the connection and the client's next request would hang until the keep-alive timeout,
    // and closing at once makes clients that are still sending see a reset instead of our answer.
    // So the rest is read and discarded, up to a cap past which the connection is cut.
    scope.addHook("onSend", async (req, reply) => {
      const raw = req.raw;
      const hasBody = req.headers["transfer-encoding"] !== undefined || (req.headers["content-length"] ?? "0") !== "0";
      if (!hasBody || raw.readableEnded || raw.destroyed) return;
      let drained = 0;
      raw.on("data", (chunk: Buffer) => {
        drained += chunk.length;
        if (drained > DRAIN_LIMIT) raw.socket?.destroy();
      });
      raw.resume();
      // A client that stopped sending after our answer would hold the connection (and a graceful
      // shutdown) until a timeout: give it a moment to finish, then cut.
      reply.raw.once("finish", () => {
        if (raw.readableEnded) return;
        const timer = setTimeout(() => raw.socket?.destroy(), STALLED_BODY_MS);
        timer.unref();
        raw.once("end", () => clearTimeout(timer));
      });
    });
    registerUploadRoutes(scope, app);
    registerDownloadRoutes(scope, app);
    registerMediaConfigRoutes(scope, app);
  });
}
