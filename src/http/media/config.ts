// GET …/media/config and …/media/preview_url. URL previews are off (media.url_previews): they make
// the server fetch URLs that users post, which a government deployment does not want. The endpoint
// then answers like a server that does not offer it (404 M_UNRECOGNIZED, as Synapse with previews
// disabled), which clients treat as "no preview".
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import { authenticate } from "../auth.js";
import { unrecognized } from "../errors.js";

export function registerMediaConfigRoutes(scope: FastifyInstance, app: App): void {
  for (const base of ["/_matrix/client/v1/media", "/_matrix/media/v3"]) {
    scope.get(`${base}/config`, async (req) => {
      await authenticate(app, req);
      return { "m.upload.size": app.config.media.max_upload_bytes };
    });
    scope.get(`${base}/preview_url`, async (req) => {
      await authenticate(app, req);
      throw unrecognized(404, "URL previews are disabled on this server");
    });
  }
}
