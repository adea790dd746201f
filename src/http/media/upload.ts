// Uploads (client-server API "Content repository"): POST /_matrix/media/v3/upload, and the
// asynchronous pair POST /_matrix/media/v1/create + PUT /_matrix/media/v3/upload/{serverName}/{mediaId}.
// The body is the raw file: the media scope's content-type parser hands the request stream over
// untouched, and the service streams it to disk while counting against media.max_upload_bytes (the
// global JSON body limit does not apply here).
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Readable } from "node:stream";
import type { App } from "../../app.js";
import { authenticate } from "../auth.js";
import { strParam, type Query } from "../client/params.js";
import type { UploadMeta } from "../../media/media.js";

function uploadMeta(req: FastifyRequest): UploadMeta {
  const len = req.headers["content-length"];
  const n = len !== undefined && /^\d{1,16}$/.test(len) ? Number(len) : undefined;
  return { contentType: req.headers["content-type"], fileName: strParam(req.query as Query, "filename"), contentLength: n };
}

const bodyStream = (req: FastifyRequest): Readable | undefined => (req.body as Readable | undefined) ?? undefined;

export function registerUploadRoutes(scope: FastifyInstance, app: App): void {
  scope.post("/_matrix/media/v3/upload", async (req) => {
    const who = await authenticate(app, req);
    const meta = uploadMeta(req);
    return { content_uri: await app.media.upload(who.userId, bodyStream(req), meta) };
  });

  scope.post("/_matrix/media/v1/create", async (req) => {
    const who = await authenticate(app, req);
    return app.media.create(who.userId);
  });

  scope.put<{ Params: { serverName: string; mediaId: string } }>("/_matrix/media/v3/upload/:serverName/:mediaId", async (req) => {
    const who = await authenticate(app, req);
    await app.media.uploadTo(who.userId, req.params.serverName, req.params.mediaId, bodyStream(req), uploadMeta(req));
    return {};
  });
}
