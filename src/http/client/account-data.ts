// Account data (client-server API "Client Config"), global and per room; only one's own.
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import { authenticate, requireSelf } from "../auth.js";
import { badJson, invalidParam, notJson } from "../errors.js";
import { isValidRoomId } from "../../matrix/identifiers.js";

function contentOf(body: unknown): Record<string, unknown> {
  if (body === undefined) throw notJson("A JSON object body is required");
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw badJson("Account data content must be a JSON object");
  return body as Record<string, unknown>;
}

function checkType(type: string): void {
  if (type.length === 0 || Buffer.byteLength(type) > 255) throw invalidParam("Invalid account data type");
}

export function registerAccountDataRoutes(http: FastifyInstance, app: App): void {
  type Global = { Params: { userId: string; type: string } };
  type PerRoom = { Params: { userId: string; roomId: string; type: string } };

  http.get<Global>("/_matrix/client/v3/user/:userId/account_data/:type", async (req) => {
    const who = await authenticate(app, req);
    requireSelf(who, req.params.userId);
    return app.accountData.get(who.userId, "", req.params.type);
  });

  http.put<Global>("/_matrix/client/v3/user/:userId/account_data/:type", async (req) => {
    const who = await authenticate(app, req);
    requireSelf(who, req.params.userId);
    checkType(req.params.type);
    await app.accountData.putFromClient(who.userId, "", req.params.type, contentOf(req.body));
    return {};
  });

  http.get<PerRoom>("/_matrix/client/v3/user/:userId/rooms/:roomId/account_data/:type", async (req) => {
    const who = await authenticate(app, req);
    requireSelf(who, req.params.userId);
    if (!isValidRoomId(req.params.roomId)) throw invalidParam("Invalid room ID");
    return app.accountData.get(who.userId, req.params.roomId, req.params.type);
  });

  http.put<PerRoom>("/_matrix/client/v3/user/:userId/rooms/:roomId/account_data/:type", async (req) => {
    const who = await authenticate(app, req);
    requireSelf(who, req.params.userId);
    if (!isValidRoomId(req.params.roomId)) throw invalidParam("Invalid room ID");
    checkType(req.params.type);
    await app.accountData.putFromClient(who.userId, req.params.roomId, req.params.type, contentOf(req.body));
    return {};
  });
}
