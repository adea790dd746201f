// Synapse-compatible user admin API (/_synapse/admin/v1|v2/users…, deactivate, reset_password,
// whois). Each route: authenticate an admin, parse, call app.adminUsers, record the action.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { optionalBody, parseBody, text } from "../body.js";
import { requireAdmin } from "./guard.js";
import { MatrixError } from "../errors.js";
import { dirParam, intParam, strParam, type Query } from "../client/params.js";
import { boolParam, enumParam } from "./query.js";
import type { UserOrder } from "../../storage/admin-users.js";

const V1 = "/_synapse/admin/v1";
const V2 = "/_synapse/admin/v2";
const USER_ORDERS: UserOrder[] = ["name", "admin", "user_type", "deactivated", "displayname", "avatar_url", "creation_ts", "last_seen_ts"];

const upsertBody = z.object({
  password: z.string().max(512).nullable().optional(),
  logout_devices: z.boolean().optional(),
  displayname: text().max(256).nullable().optional(),
  avatar_url: text().max(1024).nullable().optional(),
  admin: z.boolean().optional(),
  deactivated: z.boolean().optional(),
  user_type: text().max(64).nullable().optional(),
  // Accepted for Synapse compatibility and ignored: Rempart keeps no third-party ids or SSO links.
  threepids: z.array(z.unknown()).optional(),
  external_ids: z.array(z.unknown()).optional(),
  // Synapse's lock flag: the account lock (app.locks: 401 M_USER_LOCKED everywhere).
  locked: z.boolean().optional(),
});

type P = { Params: { userId: string } };
type PD = { Params: { userId: string; deviceId: string } };

export function registerUserAdminRoutes(http: FastifyInstance, app: App): void {
  const record = (admin: string, action: string, target?: string, details?: Record<string, unknown>) =>
    app.adminActions.record({ admin, action, target, details });

  http.get(`${V2}/users`, async (req) => {
    const who = await requireAdmin(app, req);
    const q = req.query as Query;
    const res = await app.adminUsers.list({
      from: intParam(q, "from", 0),
      limit: intParam(q, "limit", 100, 0, 1000),
      userId: strParam(q, "user_id"),
      name: strParam(q, "name"),
      // Rempart has no guest accounts: guests=false changes nothing.
      deactivated: boolParam(q, "deactivated", false)!,
      admins: boolParam(q, "admins", undefined),
      orderBy: enumParam(q, "order_by", USER_ORDERS, "name"),
      dir: dirParam(q, "f"),
    });
    boolParam(q, "guests", true);
    record(who.userId, "user.list");
    return res;
  });

  http.get<P>(`${V2}/users/:userId`, async (req) => {
    const who = await requireAdmin(app, req);
    const user = await app.adminUsers.get(req.params.userId);
    record(who.userId, "user.query", req.params.userId);
    return user;
  });

  http.put<P>(`${V2}/users/:userId`, async (req, reply) => {
    const who = await requireAdmin(app, req);
    const b = optionalBody(upsertBody, req.body);
    if (b.admin === false && req.params.userId === who.userId) throw new MatrixError(400, "M_UNKNOWN", "You may not demote yourself");
    let { created, user } = await app.adminUsers.upsert(req.params.userId, b);
    if (b.locked !== undefined && b.locked !== user.locked) {
      if (b.locked) await app.locks.lock(req.params.userId, "admin API", who.userId);
      else await app.locks.unlock(req.params.userId, who.userId);
      user = await app.adminUsers.get(req.params.userId);
    }
    record(who.userId, created ? "user.create" : "user.modify", req.params.userId, {
      password_changed: typeof b.password === "string",
      admin: b.admin,
      deactivated: b.deactivated,
      locked: b.locked,
      displayname_changed: b.displayname !== undefined,
      avatar_changed: b.avatar_url !== undefined,
    });
    return reply.code(created ? 201 : 200).send(user);
  });

  http.post<P>(`${V1}/deactivate/:userId`, async (req) => {
    const who = await requireAdmin(app, req);
    const b = optionalBody(z.object({ erase: z.boolean().optional() }), req.body);
    await app.adminUsers.deactivate(req.params.userId, b.erase ?? false);
    record(who.userId, "user.deactivate", req.params.userId, { erase: b.erase ?? false });
    // Rempart binds no identity server: nothing to unbind.
    return { id_server_unbind_result: "success" };
  });

  http.post<P>(`${V1}/reset_password/:userId`, async (req) => {
    const who = await requireAdmin(app, req);
    const b = parseBody(z.object({ new_password: z.string().min(1).max(512), logout_devices: z.boolean().optional() }), req.body);
    await app.adminUsers.resetPassword(req.params.userId, b.new_password, b.logout_devices ?? true);
    record(who.userId, "user.reset_password", req.params.userId, { logout_devices: b.logout_devices ?? true });
    return {};
  });

  http.get<P>(`${V1}/whois/:userId`, async (req) => {
    const who = await requireAdmin(app, req);
    const res = await app.adminUsers.whois(req.params.userId);
    record(who.userId, "user.whois", req.params.userId);
    return res;
  });

  http.get<P>(`${V2}/users/:userId/devices`, async (req) => {
    const who = await requireAdmin(app, req);
    const res = await app.adminUsers.listDevices(req.params.userId);
    record(who.userId, "user.devices.list", req.params.userId);
    return res;
  });

  http.get<PD>(`${V2}/users/:userId/devices/:deviceId`, async (req) => {
    const who = await requireAdmin(app, req);
    const res = await app.adminUsers.getDevice(req.params.userId, req.params.deviceId);
    record(who.userId, "user.devices.get", req.params.userId, { device_id: req.params.deviceId });
    return res;
  });

  http.put<PD>(`${V2}/users/:userId/devices/:deviceId`, async (req) => {
    const who = await requireAdmin(app, req);
    const b = optionalBody(z.object({ display_name: text().max(256).nullable().optional() }), req.body);
    await app.adminUsers.renameDevice(req.params.userId, req.params.deviceId, b.display_name ?? null);
    record(who.userId, "user.devices.rename", req.params.userId, { device_id: req.params.deviceId });
    return {};
  });

  http.delete<PD>(`${V2}/users/:userId/devices/:deviceId`, async (req) => {
    const who = await requireAdmin(app, req);
    await app.adminUsers.getDevice(req.params.userId, req.params.deviceId);
    await app.adminUsers.deleteDevices(req.params.userId, [req.params.deviceId]);
    record(who.userId, "user.devices.delete", req.params.userId, { device_ids: [req.params.deviceId] });
    return {};
  });

  http.post<P>(`${V2}/users/:userId/delete_devices`, async (req) => {
    const who = await requireAdmin(app, req);
    const b = parseBody(z.object({ devices: z.array(text().max(255)).max(1000) }), req.body);
    await app.adminUsers.deleteDevices(req.params.userId, b.devices);
    record(who.userId, "user.devices.delete", req.params.userId, { device_ids: b.devices });
    return {};
  });

  http.get<P>(`${V1}/users/:userId/joined_rooms`, async (req) => {
    const who = await requireAdmin(app, req);
    const res = await app.adminUsers.joinedRooms(req.params.userId);
    record(who.userId, "user.joined_rooms", req.params.userId);
    return res;
  });

  http.post<P>(`${V1}/users/:userId/login`, async (req) => {
    const who = await requireAdmin(app, req);
    record(who.userId, "user.login_as.refused", req.params.userId);
    // Not M_FORBIDDEN: the caller is an admin; this server simply does not offer the feature.
    throw new MatrixError(
      403,
      "FR.REMPART.ADMIN_LOGIN_DISABLED",
      "Logging in as another user is disabled on this server: an operator reading as a user would defeat the audit trail",
    );
  });

  http.get<P>(`${V1}/users/:userId/admin`, async (req) => {
    const who = await requireAdmin(app, req);
    const admin = await app.adminUsers.isAdmin(req.params.userId);
    record(who.userId, "user.admin.get", req.params.userId);
    return { admin };
  });

  http.put<P>(`${V1}/users/:userId/admin`, async (req) => {
    const who = await requireAdmin(app, req);
    const b = parseBody(z.object({ admin: z.boolean() }), req.body);
    if (!b.admin && req.params.userId === who.userId) throw new MatrixError(400, "M_UNKNOWN", "You may not demote yourself");
    await app.adminUsers.setAdmin(req.params.userId, b.admin);
    record(who.userId, "user.admin.set", req.params.userId, { admin: b.admin });
    return {};
  });
}
