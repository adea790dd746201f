// Room creation, events and state (client-server API "Rooms", "Events").
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { authenticate } from "../auth.js";
import { optionalBody } from "../body.js";
import { createRoomSchema } from "../../rooms/create-room.js";
import { contentBody, dirParam, intParam, roomEventFilterParam, strParam, type Query } from "./params.js";
import { invalidParam } from "../errors.js";

type RoomParams = { roomId: string };

export function registerRoomRoutes(http: FastifyInstance, app: App): void {
  const v3 = "/_matrix/client/v3";

  http.post(`${v3}/createRoom`, async (req) => {
    const who = await authenticate(app, req);
    return app.rooms.create(who, optionalBody(createRoomSchema, req.body));
  });

  http.get(`${v3}/joined_rooms`, async (req) => {
    const who = await authenticate(app, req);
    return { joined_rooms: await app.membership.joinedRooms(who.userId) };
  });

  http.put<{ Params: RoomParams & { eventType: string; txnId: string } }>(`${v3}/rooms/:roomId/send/:eventType/:txnId`, async (req) => {
    const who = await authenticate(app, req);
    const p = await app.rooms.send(who, req.params.roomId, req.params.eventType, contentBody(req.body), req.params.txnId);
    return { event_id: p.eventId };
  });

  const putState = async (who: { userId: string; deviceId: string }, p: RoomParams & { eventType: string; stateKey?: string }, body: unknown) => ({
    event_id: await app.rooms.setState(who, p.roomId, p.eventType, p.stateKey ?? "", contentBody(body)),
  });
  http.put<{ Params: RoomParams & { eventType: string; stateKey: string } }>(`${v3}/rooms/:roomId/state/:eventType/:stateKey`, async (req) =>
    putState(await authenticate(app, req), req.params, req.body),
  );
  http.put<{ Params: RoomParams & { eventType: string } }>(`${v3}/rooms/:roomId/state/:eventType`, async (req) => putState(await authenticate(app, req), req.params, req.body));

  const getState = async (req: { params: RoomParams & { eventType: string; stateKey?: string }; query: unknown }, who: { userId: string; deviceId: string }) => {
    const ev = await app.roomReader.stateEvent(who, req.params.roomId, req.params.eventType, req.params.stateKey ?? "");
    // ?format=event returns the whole event (spec v1.?); the default is the content only.
    return (req.query as Query).format === "event" ? ev : ev.content;
  };
  http.get<{ Params: RoomParams & { eventType: string; stateKey: string } }>(`${v3}/rooms/:roomId/state/:eventType/:stateKey`, async (req) => getState(req, await authenticate(app, req)));
  http.get<{ Params: RoomParams & { eventType: string } }>(`${v3}/rooms/:roomId/state/:eventType`, async (req) => getState(req, await authenticate(app, req)));

  http.get<{ Params: RoomParams }>(`${v3}/rooms/:roomId/state`, async (req) => {
    const who = await authenticate(app, req);
    return app.roomReader.state(who, req.params.roomId);
  });

  http.put<{ Params: RoomParams & { eventId: string; txnId: string } }>(`${v3}/rooms/:roomId/redact/:eventId/:txnId`, async (req) => {
    const who = await authenticate(app, req);
    const body = optionalBody(z.looseObject({ reason: z.string().max(1024).optional() }), req.body);
    return { event_id: await app.rooms.redact(who, req.params.roomId, req.params.eventId, body.reason, req.params.txnId) };
  });

  http.get<{ Params: RoomParams & { eventId: string } }>(`${v3}/rooms/:roomId/event/:eventId`, async (req) => {
    const who = await authenticate(app, req);
    return app.roomReader.event(who, req.params.roomId, req.params.eventId);
  });

  http.get<{ Params: RoomParams }>(`${v3}/rooms/:roomId/messages`, async (req) => {
    const who = await authenticate(app, req);
    const q = req.query as Query;
    return app.roomReader.messages(who, req.params.roomId, {
      from: strParam(q, "from"),
      to: strParam(q, "to"),
      dir: dirParam(q),
      limit: intParam(q, "limit", 10, 0),
      filter: roomEventFilterParam(q),
    });
  });

  http.get<{ Params: RoomParams & { eventId: string } }>(`${v3}/rooms/:roomId/context/:eventId`, async (req) => {
    const who = await authenticate(app, req);
    const q = req.query as Query;
    return app.roomReader.context(who, req.params.roomId, req.params.eventId, intParam(q, "limit", 10, 0), roomEventFilterParam(q));
  });

  http.get<{ Params: RoomParams }>(`${v3}/rooms/:roomId/members`, async (req) => {
    const who = await authenticate(app, req);
    const q = req.query as Query;
    const memberships = ["join", "invite", "knock", "leave", "ban"];
    const membership = strParam(q, "membership");
    const notMembership = strParam(q, "not_membership");
    if ((membership && !memberships.includes(membership)) || (notMembership && !memberships.includes(notMembership))) throw invalidParam("Unknown membership");
    return { chunk: await app.roomReader.members(who, req.params.roomId, { at: strParam(q, "at"), membership, notMembership }) };
  });

  http.get<{ Params: RoomParams }>(`${v3}/rooms/:roomId/joined_members`, async (req) => {
    const who = await authenticate(app, req);
    return { joined: await app.roomReader.joinedMembers(who, req.params.roomId) };
  });

}
