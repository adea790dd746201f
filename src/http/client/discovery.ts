// Room discovery (client-server API "Published room directory", "Room Summaries"): directory
// visibility, /publicRooms (GET and POST) and the room summary, on its v1 path and the unstable
// MSC3266 paths (/im.nheko.summary) that clients released before v1.15 still call.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { authenticate } from "../auth.js";
import { optionalBody, parseBody, text } from "../body.js";
import { intParam, strParam, type Query } from "./params.js";
import { MAX_PUBLIC_ROOMS_LIMIT, type PublicRoomsResponse } from "../../rooms/directory.js";
import { gate } from "../gate.js";
import { forbidden } from "../errors.js";
import type { Requester } from "../../accounts/sessions.js";

const publicRoomsBody = z.looseObject({
  limit: z.number().int().min(1).optional(),
  since: text().max(1024).optional(),
  server: text().max(255).optional(),
  filter: z
    .looseObject({
      generic_search_term: text().max(1024).optional(),
      room_types: z.array(z.string().max(255).nullable()).max(50).optional(),
    })
    .optional(),
  include_all_networks: z.boolean().optional(),
  third_party_instance_id: text().max(255).optional(),
});

export function registerDiscoveryRoutes(http: FastifyInstance, app: App): void {
  const v3 = "/_matrix/client/v3";
  type R = { Params: { roomId: string } };

  // The spec requires no token here; a room's listing says nothing a room id does not already name.
  http.get<R>(`${v3}/directory/list/room/:roomId`, async (req) => app.directory.getVisibility(req.params.roomId));

  http.put<R>(`${v3}/directory/list/room/:roomId`, async (req) => {
    const who = await authenticate(app, req);
    // "Defaults to public" when the body names no visibility.
    const body = parseBody(z.looseObject({ visibility: z.enum(["public", "private"]).optional() }), req.body);
    await app.directory.setVisibility(who, req.params.roomId, body.visibility ?? "public");
    return {};
  });

  // GET /publicRooms needs no token in the spec; we ask for one (as Synapse does by default):
  // the directory is part of what a server of an administration discloses only to its users.
  // Externals never see the room directory (government model); every page is a directory read.
  const listing = async (req: FastifyRequest, who: Requester, query: string, page: Promise<PublicRoomsResponse>) => {
    if (!(await app.policy.mayListDirectory(who.userId))) throw forbidden("The room directory is not available to external users");
    const res = await page;
    await gate(app, req, who, "publicRooms", { directory: { query, results: res.chunk.length } });
    return res;
  };
  http.get(`${v3}/publicRooms`, async (req) => {
    const who = await authenticate(app, req);
    const q = req.query as Query;
    const since = strParam(q, "since");
    return listing(req, who, `since=${since ?? ""}`, app.directory.publicRooms({
      limit: intParam(q, "limit", 100, 1, MAX_PUBLIC_ROOMS_LIMIT),
      since,
      server: strParam(q, "server"),
    }));
  });

  http.post(`${v3}/publicRooms`, async (req) => {
    const who = await authenticate(app, req);
    const body = optionalBody(publicRoomsBody, req.body);
    const server = strParam(req.query as Query, "server");
    return listing(req, who, `${body.filter?.generic_search_term ?? ""} since=${body.since ?? ""}`, app.directory.publicRooms({ ...body, limit: body.limit === undefined ? undefined : Math.min(body.limit, MAX_PUBLIC_ROOMS_LIMIT), server }));
  });

  type S = { Params: { roomIdOrAlias: string } };
  const summary = async (req: FastifyRequest<S>) => {
    const who = await authenticate(app, req);
    const res = await app.summaries.summary(who.userId, req.params.roomIdOrAlias);
    await gate(app, req, who, "room_summary", { directory: { query: req.params.roomIdOrAlias, results: 1 } });
    return res;
  };
  http.get<S>("/_matrix/client/v1/room_summary/:roomIdOrAlias", summary);
  // MSC3266's current unstable path (what matrix-js-sdk calls first), and its earlier one.
  http.get<S>("/_matrix/client/unstable/im.nheko.summary/summary/:roomIdOrAlias", summary);
  http.get<S>("/_matrix/client/unstable/im.nheko.summary/rooms/:roomIdOrAlias/summary", summary);
}
