// Room creation, events and state (client-server API "Rooms", "Events").
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Requester } from "../../accounts/sessions.js";
import { z } from "zod";
import type { App } from "../../app.js";
import { authenticate } from "../auth.js";
import { optionalBody } from "../body.js";
import { createRoomSchema } from "../../rooms/create-room.js";
import { contentBody, dirParam, intParam, roomEventFilterParam, strParam, type Query } from "./params.js";
import { invalidParam } from "../errors.js";
import { gate, roomRead } from "../gate.js";

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

  type StateReq = FastifyRequest<{ Params: RoomParams & { eventType: string; stateKey?: string } }>;
  const getState = async (req: StateReq, who: Requester) => {
    const ev = await app.roomReader.stateEvent(who, req.params.roomId, req.params.eventType, req.params.stateKey ?? "");
    await gate(app, req, who, "state_event", { rooms: [{ roomId: req.params.roomId, state: 1 }] });
    // ?format=event returns the whole event (spec v1.?); the default is the content only.
    return (req.query as Query).format === "event" ? ev : ev.content;
  };
  http.get<{ Params: RoomParams & { eventType: string; stateKey: string } }>(`${v3}/rooms/:roomId/state/:eventType/:stateKey`, async (req) => getState(req, await authenticate(app, req)));
  http.get<{ Params: RoomParams & { eventType: string } }>(`${v3}/rooms/:roomId/state/:eventType`, async (req) => getState(req, await authenticate(app, req)));

  http.get<{ Params: RoomParams }>(`${v3}/rooms/:roomId/state`, async (req) => {
    const who = await authenticate(app, req);
    const state = await app.roomReader.state(who, req.params.roomId);
    await gate(app, req, who, "state", { rooms: [{ roomId: req.params.roomId, state: state.length }] });
    return state;
  });

  http.put<{ Params: RoomParams & { eventId: string; txnId: string } }>(`${v3}/rooms/:roomId/redact/:eventId/:txnId`, async (req) => {
    const who = await authenticate(app, req);
    const body = optionalBody(z.looseObject({ reason: z.string().max(1024).optional() }), req.body);
    return { event_id: await app.rooms.redact(who, req.params.roomId, req.params.eventId, body.reason, req.params.txnId) };
  });

  http.get<{ Params: RoomParams & { eventId: string } }>(`${v3}/rooms/:roomId/event/:eventId`, async (req) => {
    const who = await authenticate(app, req);
    const ev = await app.roomReader.event(who, req.params.roomId, req.params.eventId);
    await gate(app, req, who, "event", { rooms: [roomRead(req.params.roomId, [ev])] });
    return ev;
  });

  http.get<{ Params: RoomParams }>(`${v3}/rooms/:roomId/messages`, async (req) => {
    const who = await authenticate(app, req);
    const q = req.query as Query;
    const filter = roomEventFilterParam(q);
    const res = await app.roomReader.messages(who, req.params.roomId, {
      from: strParam(q, "from"),
      to: strParam(q, "to"),
      dir: dirParam(q),
      limit: intParam(q, "limit", 10, 0),
      filter,
    });
    // A filtered page holds only some events of its range: the gate records their ids (forensics).
    await gate(app, req, who, "messages", { rooms: [roomRead(req.params.roomId, res.chunk, { state: res.state?.length, from: res.start, to: res.end, sparse: filter !== undefined })] });
    return res;
  });

  http.get<{ Params: RoomParams & { eventId: string } }>(`${v3}/rooms/:roomId/context/:eventId`, async (req) => {
    const who = await authenticate(app, req);
    const q = req.query as Query;
    const res = await app.roomReader.context(who, req.params.roomId, req.params.eventId, intParam(q, "limit", 10, 0), roomEventFilterParam(q));
    const events = [...res.events_before].reverse().concat(res.event ? [res.event] : [], res.events_after);
    await gate(app, req, who, "context", { rooms: [roomRead(req.params.roomId, events, { state: res.state.length })] });
    return res;
  });

  http.get<{ Params: RoomParams }>(`${v3}/rooms/:roomId/members`, async (req) => {
    const who = await authenticate(app, req);
    const q = req.query as Query;
    const memberships = ["join", "invite", "knock", "leave", "ban"];
    const membership = strParam(q, "membership");
    const notMembership = strParam(q, "not_membership");
    if ((membership && !memberships.includes(membership)) || (notMembership && !memberships.includes(notMembership))) throw invalidParam("Unknown membership");
    const chunk = await app.roomReader.members(who, req.params.roomId, { at: strParam(q, "at"), membership, notMembership });
    await gate(app, req, who, "members", { rooms: [{ roomId: req.params.roomId, members: chunk.length }] });
    return { chunk };
  });

  http.get<{ Params: RoomParams }>(`${v3}/rooms/:roomId/joined_members`, async (req) => {
    const who = await authenticate(app, req);
    const joined = await app.roomReader.joinedMembers(who, req.params.roomId);
    await gate(app, req, who, "joined_members", { rooms: [{ roomId: req.params.roomId, members: Object.keys(joined).length }] });
    return { joined };
  });

}
