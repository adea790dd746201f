// Filters (client-server API "Filtering").
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import { authenticate, requireSelf } from "../auth.js";
import { parseBody } from "../body.js";
import { filterSchema } from "../../accounts/filters.js";

export function registerFilterRoutes(http: FastifyInstance, app: App): void {
  http.post<{ Params: { userId: string } }>("/_matrix/client/v3/user/:userId/filter", async (req) => {
    const who = await authenticate(app, req);
    requireSelf(who, req.params.userId);
    const filter = parseBody(filterSchema, req.body);
    return { filter_id: await app.filters.create(who.userId, filter) };
  });

  http.get<{ Params: { userId: string; filterId: string } }>("/_matrix/client/v3/user/:userId/filter/:filterId", async (req) => {
    const who = await authenticate(app, req);
    requireSelf(who, req.params.userId);
    return app.filters.get(who.userId, req.params.filterId);
  });
}
