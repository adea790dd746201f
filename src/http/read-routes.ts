// Every route, classified (DESIGN.md invariant 2): "gated" routes return room content, media or
// directory data and must hand it to the read gate (src/http/gate.ts) before returning it; "none"
// routes return no room content (the caller's own data, writes, server metadata). A route missing
// from this table fails test/integration/read-gate-routes.test.ts; a gated route that answers 2xx
// without passing the gate is answered 500 instead (read-gate-hooks.ts), so nothing leaks by mistake.
//
// Adding a route: one line here. Adding a gated route: one line here and one gate() call in it.
export type RouteClass = "gated" | "none";

const C = "/_matrix/client/v3";
const V1 = "/_matrix/client/v1";
const A = "/_synapse/admin/v1";

export const ROUTE_CLASSES = new Map<string, RouteClass>([
  // Server metadata and the caller's own data.
  ["GET /_matrix/client/versions", "none"],
  ["GET /.well-known/matrix/client", "none"],
  ["GET /.well-known/matrix/server", "none"],
  [`GET ${C}/capabilities`, "none"],
  [`POST ${C}/register`, "none"],
  [`GET ${C}/register/available`, "none"],
  [`GET ${V1}/register/m.login.registration_token/validity`, "none"],
  [`GET ${C}/login`, "none"],
  [`POST ${C}/login`, "none"],
  [`POST ${C}/logout`, "none"],
  [`POST ${C}/logout/all`, "none"],
  [`GET ${C}/account/whoami`, "none"],
  [`POST ${C}/refresh`, "none"],
  [`POST ${C}/account/password`, "none"],
  [`POST ${C}/account/deactivate`, "none"],
  [`GET ${C}/account/3pid`, "none"],
  [`GET ${C}/devices`, "none"],
  [`GET ${C}/devices/:deviceId`, "none"],
  [`PUT ${C}/devices/:deviceId`, "none"],
  [`DELETE ${C}/devices/:deviceId`, "none"],
  [`POST ${C}/delete_devices`, "none"],
  [`PUT ${C}/profile/:userId/displayname`, "none"],
  [`PUT ${C}/profile/:userId/avatar_url`, "none"],
  [`GET ${C}/user/:userId/account_data/:type`, "none"],
  [`PUT ${C}/user/:userId/account_data/:type`, "none"],
  [`GET ${C}/user/:userId/rooms/:roomId/account_data/:type`, "none"],
  [`PUT ${C}/user/:userId/rooms/:roomId/account_data/:type`, "none"],
  [`POST ${C}/user/:userId/filter`, "none"],
  [`GET ${C}/user/:userId/filter/:filterId`, "none"],
  [`GET ${C}/presence/:userId/status`, "none"],
  [`PUT ${C}/presence/:userId/status`, "none"],
  // Writes: they return event ids or nothing. (Joins are metered through gate.noteJoin.)
  [`POST ${C}/createRoom`, "none"],
  [`GET ${C}/joined_rooms`, "none"],
  [`POST ${C}/join/:roomIdOrAlias`, "none"],
  [`POST ${C}/knock/:roomIdOrAlias`, "none"],
  [`PUT ${C}/rooms/:roomId/send/:eventType/:txnId`, "none"],
  [`PUT ${C}/rooms/:roomId/state/:eventType/:stateKey`, "none"],
  [`PUT ${C}/rooms/:roomId/state/:eventType`, "none"],
  [`PUT ${C}/rooms/:roomId/redact/:eventId/:txnId`, "none"],
  ...["join", "invite", "leave", "forget", "kick", "ban", "unban"].map((m): [string, RouteClass] => [`POST ${C}/rooms/:roomId/${m}`, "none"]),
  [`PUT ${C}/directory/room/:roomAlias`, "none"],
  [`DELETE ${C}/directory/room/:roomAlias`, "none"],
  [`POST ${C}/rooms/:roomId/read_markers`, "none"],
  [`POST ${C}/rooms/:roomId/receipt/:receiptType/:eventId`, "none"],
  [`PUT ${C}/rooms/:roomId/typing/:userId`, "none"],
  // Admin API: audited as admin actions, returns no room content.
  [`GET ${A}/register`, "none"],
  [`POST ${A}/register`, "none"],
  [`GET ${A}/registration_tokens`, "none"],
  [`POST ${A}/registration_tokens/new`, "none"],
  [`GET ${A}/registration_tokens/:token`, "none"],
  [`PUT ${A}/registration_tokens/:token`, "none"],
  [`DELETE ${A}/registration_tokens/:token`, "none"],
  // Room content, member lists, directory data: through the gate.
  [`GET ${C}/sync`, "gated"],
  [`GET ${C}/rooms/:roomId/messages`, "gated"],
  [`GET ${C}/rooms/:roomId/context/:eventId`, "gated"],
  [`GET ${C}/rooms/:roomId/event/:eventId`, "gated"],
  [`GET ${C}/rooms/:roomId/state`, "gated"],
  [`GET ${C}/rooms/:roomId/state/:eventType`, "gated"],
  [`GET ${C}/rooms/:roomId/state/:eventType/:stateKey`, "gated"],
  [`GET ${C}/rooms/:roomId/members`, "gated"],
  [`GET ${C}/rooms/:roomId/joined_members`, "gated"],
  [`GET ${C}/rooms/:roomId/aliases`, "gated"],
  [`GET ${V1}/rooms/:roomId/relations/:eventId`, "gated"],
  [`GET ${V1}/rooms/:roomId/relations/:eventId/:relType`, "gated"],
  [`GET ${V1}/rooms/:roomId/relations/:eventId/:relType/:eventType`, "gated"],
  [`GET ${V1}/rooms/:roomId/threads`, "gated"],
  [`GET ${V1}/rooms/:roomId/timestamp_to_event`, "gated"],
  [`POST ${C}/search`, "gated"],
  [`GET ${C}/directory/room/:roomAlias`, "gated"],
  [`GET ${C}/profile/:userId`, "gated"],
  [`GET ${C}/profile/:userId/displayname`, "gated"],
  [`GET ${C}/profile/:userId/avatar_url`, "gated"],
]);

export function routeClass(method: string, url: string): RouteClass | undefined {
  return ROUTE_CLASSES.get(`${method === "HEAD" ? "GET" : method} ${url}`);
}
