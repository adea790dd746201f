// Synapse-compatible room admin API (/_synapse/admin/v1/rooms…, v2 delete with status).
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { optionalBody, parseBody, text } from "../body.js";
import { requireAdmin } from "./guard.js";
import { dirParam, intParam, strParam, type Query } from "../client/params.js";
import { enumParam } from "./query.js";
import { ROOM_ORDERS } from "../../admin/rooms.js";

const V1 = "/_synapse/admin/v1";
const V2 = "/_synapse/admin/v2";

const deleteBody = z.object({
  new_room_user_id: text().optional(),
  room_name: text().max(255).optional(),
  message: text().max(4096).optional(),
  block: z.boolean().optional(),
  purge: z.boolean().optional(),
  force_purge: z.boolean().optional(),
});

type P = { Params: { roomId: string } };

export function registerRoomAdminRoutes(http: FastifyInstance, app: App): void {
  const record = (admin: string, action: string, target?: string, details?: Record<string, unknown>) =>
    app.adminActions.record({ admin, action, target, details });

  http.get(`${V1}/rooms`, async (req) => {
    const who = await requireAdmin(app, req);
    const q = req.query as Query;
    const res = await app.adminRooms.list({
      from: intParam(q, "from", 0),
      limit: intParam(q, "limit", 100, 0, 1000),
      orderBy: enumParam(q, "order_by", ROOM_ORDERS, "name"),
      dir: dirParam(q, "f"),
      searchTerm: strParam(q, "search_term"),
    });
    record(who.userId, "room.list");
    return res;
  });

  http.get<P>(`${V1}/rooms/:roomId`, async (req) => {
    const who = await requireAdmin(app, req);
    const res = await app.adminRooms.details(req.params.roomId);
    record(who.userId, "room.details", req.params.roomId);
    return res;
  });

  http.get<P>(`${V1}/rooms/:roomId/members`, async (req) => {
    const who = await requireAdmin(app, req);
    const res = await app.adminRooms.members(req.params.roomId);
    record(who.userId, "room.members", req.params.roomId);
    return res;
  });

  http.get<P>(`${V1}/rooms/:roomId/state`, async (req) => {
    const who = await requireAdmin(app, req);
    const res = await app.adminRooms.state(req.params.roomId);
    record(who.userId, "room.state", req.params.roomId);
    return res;
  });

  http.get<P>(`${V1}/rooms/:roomId/block`, async (req) => {
    const who = await requireAdmin(app, req);
    const res = await app.adminRooms.blockStatus(req.params.roomId);
    record(who.userId, "room.block.get", req.params.roomId);
    return res;
  });

  http.put<P>(`${V1}/rooms/:roomId/block`, async (req) => {
    const who = await requireAdmin(app, req);
    const b = parseBody(z.object({ block: z.boolean() }), req.body);
    await app.adminRooms.setBlocked(who.userId, req.params.roomId, b.block);
    record(who.userId, b.block ? "room.block" : "room.unblock", req.params.roomId);
    return { block: b.block };
  });

  http.delete<P>(`${V1}/rooms/:roomId`, async (req) => {
    const who = await requireAdmin(app, req);
    const b = optionalBody(deleteBody, req.body);
    record(who.userId, "room.delete", req.params.roomId, { block: b.block ?? false, purge: b.purge ?? true, new_room: b.new_room_user_id !== undefined });
    return app.adminRooms.deleteRoom(who.userId, req.params.roomId, b);
  });

  http.delete<P>(`${V2}/rooms/:roomId`, async (req) => {
    const who = await requireAdmin(app, req);
    const b = optionalBody(deleteBody, req.body);
    const deleteId = await app.adminRooms.startDelete(who.userId, req.params.roomId, b);
    record(who.userId, "room.delete", req.params.roomId, { block: b.block ?? false, purge: b.purge ?? true, new_room: b.new_room_user_id !== undefined, delete_id: deleteId });
    return { delete_id: deleteId };
  });

  http.get<P>(`${V2}/rooms/:roomId/delete_status`, async (req) => {
    const who = await requireAdmin(app, req);
    const res = app.adminRooms.deleteStatusesOf(req.params.roomId);
    record(who.userId, "room.delete_status", req.params.roomId);
    return res;
  });

  http.get<{ Params: { deleteId: string } }>(`${V2}/rooms/delete_status/:deleteId`, async (req) => {
    const who = await requireAdmin(app, req);
    const res = app.adminRooms.deleteStatus(req.params.deleteId);
    record(who.userId, "room.delete_status", undefined, { delete_id: req.params.deleteId });
    return res;
  });
}
