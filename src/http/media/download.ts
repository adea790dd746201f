// Downloads and thumbnails: the authenticated /_matrix/client/v1/media/* endpoints (spec 1.11), and
// the deprecated unauthenticated /_matrix/media/v3/* ones, which only serve media uploaded before
// media.legacy_unauthenticated_before (404 otherwise, as spec 1.11 allows).
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { App } from "../../app.js";
import { authenticate } from "../auth.js";
import { gate as readGate, gateAnonymous } from "../gate.js";
import type { Requester } from "../../accounts/sessions.js";
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
    const who = async (req: FastifyRequest): Promise<Requester | undefined> => (legacy ? undefined : authenticate(app, req));
    // Every byte served passes the read gate (media files and bytes are metered); a refusal closes
    // the file before answering with the gate's error.
    const release = async (req: FastifyRequest, requester: Requester | undefined, endpoint: string, mediaId: string, c: MediaContent) => {
      const read = { media: { mediaId, bytes: c.size } };
      try {
        if (requester) await readGate(app, req, requester, endpoint, read);
        else gateAnonymous(app, req, endpoint, read);
      } catch (e) {
        c.stream.destroy();
        throw e;
      }
    };
    const download = async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply) => {
      const requester = await who(req);
      const p = req.params;
      const c = await app.media.download(p.serverName, p.mediaId, { timeoutMs: timeoutMs(req.query as Query), legacy, fileName: p.fileName });
      await release(req, requester, "media_download", p.mediaId, c);
      return send(reply, c);
    };
    scope.get<{ Params: Params }>(`${base}/download/:serverName/:mediaId`, download);
    scope.get<{ Params: Params }>(`${base}/download/:serverName/:mediaId/:fileName`, download);
    scope.get<{ Params: Params }>(`${base}/thumbnail/:serverName/:mediaId`, async (req, reply) => {
      const requester = await who(req);
      const q = req.query as Query;
      const c = await app.media.thumbnail(req.params.serverName, req.params.mediaId, thumbnailQuery(q), { timeoutMs: timeoutMs(q), legacy });
      await release(req, requester, "media_thumbnail", req.params.mediaId, c);
      return send(reply, c);
    });
  }
}
