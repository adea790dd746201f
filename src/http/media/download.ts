// Downloads and thumbnails: the authenticated /_matrix/client/v1/media/* endpoints (spec 1.11), and
// the deprecated unauthenticated /_matrix/media/v3/* ones, which only serve media uploaded before
// media.legacy_unauthenticated_before (404 otherwise, as spec 1.11 allows).
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { App } from "../../app.js";
import { authenticate } from "../auth.js";
import { intParam, strParam, type Query } from "../client/params.js";
import { invalidParam, missingParam } from "../errors.js";
import type { MediaContent } from "../../media/media.js";
import { contentDisposition } from "../../media/policy.js";

type Params = { serverName: string; mediaId: string; fileName?: string };

/** timeout_ms: how long to wait for content of an id reserved with /create (spec default 20 s). */
const timeoutMs = (q: Query) => intParam(q, "timeout_ms", 20_000, 0, 120_000);

function send(reply: FastifyReply, c: MediaContent): FastifyReply {
  // No Content-Length on purpose: with it, fastify's streamed responses left the keep-alive
  // connection marked busy after the client had read everything (seen with Node 20 + fastify 5.12),
  // which blocks a graceful shutdown until the keep-alive timeout. Chunked encoding does not.
  return reply
    .header("content-type", c.contentType)
    .header("content-disposition", contentDisposition(c.contentType, c.fileName))
    // Private: media needs a token now; a shared cache must not hand it to someone without one.
    .header("cache-control", "private, max-age=86400")
    .send(c.stream);
}

function thumbnailQuery(q: Query): { width: number; height: number; method: "crop" | "scale" } {
  if (q.width === undefined) throw missingParam("width is required");
  if (q.height === undefined) throw missingParam("height is required");
  const width = intParam(q, "width", 0, 1, 10_000);
  const height = intParam(q, "height", 0, 1, 10_000);
  const method = strParam(q, "method") ?? "scale";
  if (method !== "crop" && method !== "scale") throw invalidParam("method must be crop or scale");
  return { width, height, method };
}

export function registerDownloadRoutes(scope: FastifyInstance, app: App): void {
  for (const legacy of [false, true]) {
    const base = legacy ? "/_matrix/media/v3" : "/_matrix/client/v1/media";
    const gate = async (req: FastifyRequest) => {
      if (!legacy) await authenticate(app, req);
    };
    const download = async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
      await gate(req);
      const p = req.params;
      const c = await app.media.download(p.serverName, p.mediaId, { timeoutMs: timeoutMs(req.query as Query), legacy, fileName: p.fileName });
      return send(reply, c);
    };
    scope.get<{ Params: Params }>(`${base}/download/:serverName/:mediaId`, download);
    scope.get<{ Params: Params }>(`${base}/download/:serverName/:mediaId/:fileName`, download);
    scope.get<{ Params: Params }>(`${base}/thumbnail/:serverName/:mediaId`, async (req, reply) => {
      await gate(req);
      const q = req.query as Query;
      const c = await app.media.thumbnail(req.params.serverName, req.params.mediaId, thumbnailQuery(q), { timeoutMs: timeoutMs(q), legacy });
      return send(reply, c);
    });
  }
}
