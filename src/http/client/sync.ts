// GET /sync, and presence (off by default, as in Tchap).
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { authenticate, requireSelf } from "../auth.js";
import { intParam, strParam, type Query } from "./params.js";
import { invalidParam } from "../errors.js";
import { optionalBody } from "../body.js";

export function registerSyncRoutes(http: FastifyInstance, app: App): void {
  const v3 = "/_matrix/client/v3";

  http.get(`${v3}/sync`, async (req) => {
    const who = await authenticate(app, req);
    const q = req.query as Query;
    const fullState = strParam(q, "full_state");
    if (fullState !== undefined && fullState !== "true" && fullState !== "false") throw invalidParam("full_state must be true or false");
    const setPresence = strParam(q, "set_presence");
    if (setPresence !== undefined && !["online", "offline", "unavailable"].includes(setPresence)) throw invalidParam("Invalid set_presence");
    return app.sync.sync(who, {
      since: strParam(q, "since"),
      timeoutMs: intParam(q, "timeout", 0, 0),
      filter: await app.filters.resolve(who.userId, strParam(q, "filter")),
      fullState: fullState === "true",
    });
  });

  // Presence is not tracked (config presence off): the spec lets servers answer "offline" and
  // accept updates without storing them.
  http.get<{ Params: { userId: string } }>(`${v3}/presence/:userId/status`, async (req) => {
    await authenticate(app, req);
    return { presence: "offline" };
  });
  http.put<{ Params: { userId: string } }>(`${v3}/presence/:userId/status`, async (req) => {
    const who = await authenticate(app, req);
    requireSelf(who, req.params.userId);
    optionalBody(z.looseObject({ presence: z.enum(["online", "offline", "unavailable"]), status_msg: z.string().max(1024).optional() }), req.body ?? { presence: "offline" });
    return {};
  });
}
