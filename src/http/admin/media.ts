// Synapse-compatible media admin API: query, quarantine and delete one file, list a user's media
// with their usage, quarantine or delete all of it.
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import { authenticateAdmin } from "../auth.js";
import { intParam, type Query } from "../client/params.js";
import { invalidParam } from "../errors.js";
import { isValidUserId } from "../../matrix/identifiers.js";

type MediaParams = { Params: { serverName: string; mediaId: string } };
type UserParams = { Params: { userId: string } };
const A = "/_synapse/admin/v1";

function checkUser(userId: string): void {
  if (!isValidUserId(userId, { historical: true })) throw invalidParam("Invalid user ID");
}

export function registerMediaAdminRoutes(http: FastifyInstance, app: App): void {
  http.get<MediaParams>(`${A}/media/:serverName/:mediaId`, async (req) => {
    await authenticateAdmin(app, req);
    return app.mediaAdmin.info(req.params.serverName, req.params.mediaId);
  });

  http.delete<MediaParams>(`${A}/media/:serverName/:mediaId`, async (req) => {
    const admin = await authenticateAdmin(app, req);
    const r = await app.mediaAdmin.deleteMedia(req.params.serverName, req.params.mediaId);
    req.log.info({ admin: admin.userId, media_id: req.params.mediaId }, "admin deleted media");
    return r;
  });

  http.post<MediaParams>(`${A}/media/quarantine/:serverName/:mediaId`, async (req) => {
    const admin = await authenticateAdmin(app, req);
    await app.mediaAdmin.quarantineMedia(req.params.serverName, req.params.mediaId, admin.userId);
    req.log.info({ admin: admin.userId, media_id: req.params.mediaId }, "admin quarantined media");
    return {};
  });

  http.post<UserParams>(`${A}/user/:userId/media/quarantine`, async (req) => {
    const admin = await authenticateAdmin(app, req);
    checkUser(req.params.userId);
    const n = await app.mediaAdmin.quarantineUser(req.params.userId, admin.userId);
    req.log.info({ admin: admin.userId, user_id: req.params.userId, count: n }, "admin quarantined a user's media");
    return { num_quarantined: n };
  });

  http.get<UserParams>(`${A}/users/:userId/media`, async (req) => {
    await authenticateAdmin(app, req);
    checkUser(req.params.userId);
    const q = req.query as Query;
    return app.mediaAdmin.list(req.params.userId, intParam(q, "from", 0), intParam(q, "limit", 100, 0, 1000));
  });

  http.delete<UserParams>(`${A}/users/:userId/media`, async (req) => {
    const admin = await authenticateAdmin(app, req);
    checkUser(req.params.userId);
    const r = await app.mediaAdmin.deleteUserMedia(req.params.userId);
    req.log.info({ admin: admin.userId, user_id: req.params.userId, count: r.total }, "admin deleted a user's media");
    return r;
  });
}
