// Room aliases (client-server API "Room aliases").
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { authenticate } from "../auth.js";
import { parseBody } from "../body.js";
import { gate } from "../gate.js";

export function registerAliasRoutes(http: FastifyInstance, app: App): void {
  const v3 = "/_matrix/client/v3";
  type A = { Params: { roomAlias: string } };

  http.get<A>(`${v3}/directory/room/:roomAlias`, async (req) => {
    const who = await authenticate(app, req);
    const res = await app.rooms.resolveAlias(req.params.roomAlias);
    await gate(app, req, who, "alias", { directory: { query: req.params.roomAlias, results: 1 } });
    return res;
  });

  http.put<A>(`${v3}/directory/room/:roomAlias`, async (req) => {
    const who = await authenticate(app, req);
    const body = parseBody(z.object({ room_id: z.string() }), req.body);
    await app.rooms.createAlias(who, req.params.roomAlias, body.room_id);
    return {};
  });

  http.delete<A>(`${v3}/directory/room/:roomAlias`, async (req) => {
    const who = await authenticate(app, req);
    await app.rooms.deleteAlias(who, req.params.roomAlias);
    return {};
  });

  http.get<{ Params: { roomId: string } }>(`${v3}/rooms/:roomId/aliases`, async (req) => {
    const who = await authenticate(app, req);
    // Server admins may list any room's aliases, as in Synapse (admin tools such as synadm rely on it).
    if (!who.isAdmin) await app.roomReader.viewFor(who, req.params.roomId);
    const aliases = await app.rooms.aliases(req.params.roomId);
    await gate(app, req, who, "aliases", { rooms: [{ roomId: req.params.roomId, state: aliases.length }] });
    return { aliases };
  });
}
