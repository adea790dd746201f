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
const U = "/_matrix/client/unstable";

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
  // Discovery and directories: directory data, through the gate (externals are refused first).
  [`GET ${C}/publicRooms`, "gated"],
  [`POST ${C}/publicRooms`, "gated"],
  [`GET ${V1}/room_summary/:roomIdOrAlias`, "gated"],
  [`GET ${U}/im.nheko.summary/summary/:roomIdOrAlias`, "gated"],
  [`GET ${U}/im.nheko.summary/rooms/:roomIdOrAlias/summary`, "gated"],
  [`POST ${C}/user_directory/search`, "gated"],
  [`GET ${C}/directory/list/room/:roomId`, "none"],
  [`PUT ${C}/directory/list/room/:roomId`, "none"],
  // Notifications carry their events.
  [`GET ${C}/notifications`, "gated"],
  // Media: every download and thumbnail is metered (files and bytes); uploads return an mxc id.
  ...["/_matrix/client/v1/media", "/_matrix/media/v3"].flatMap((b): [string, RouteClass][] => [
    [`GET ${b}/download/:serverName/:mediaId`, "gated"],
    [`GET ${b}/download/:serverName/:mediaId/:fileName`, "gated"],
    [`GET ${b}/thumbnail/:serverName/:mediaId`, "gated"],
    [`GET ${b}/config`, "none"],
    // URL previews are off (they make the server fetch arbitrary URLs): the route only refuses.
    [`GET ${b}/preview_url`, "none"],
  ]),
  [`POST /_matrix/media/v3/upload`, "none"],
  [`PUT /_matrix/media/v3/upload/:serverName/:mediaId`, "none"],
  [`POST /_matrix/media/v1/create`, "none"],
  // Key backup: downloads are recorded (the keys are encrypted, but carrying them away matters);
  // versions and uploads are the caller's own metadata.
  [`GET ${C}/room_keys/keys`, "gated"],
  [`GET ${C}/room_keys/keys/:roomId`, "gated"],
  [`GET ${C}/room_keys/keys/:roomId/:sessionId`, "gated"],
  [`PUT ${C}/room_keys/keys`, "none"],
  [`PUT ${C}/room_keys/keys/:roomId`, "none"],
  [`PUT ${C}/room_keys/keys/:roomId/:sessionId`, "none"],
  [`DELETE ${C}/room_keys/keys`, "none"],
  [`DELETE ${C}/room_keys/keys/:roomId`, "none"],
  [`DELETE ${C}/room_keys/keys/:roomId/:sessionId`, "none"],
  [`POST ${C}/room_keys/version`, "none"],
  [`GET ${C}/room_keys/version`, "none"],
  [`GET ${C}/room_keys/version/:version`, "none"],
  [`PUT ${C}/room_keys/version/:version`, "none"],
  [`DELETE ${C}/room_keys/version/:version`, "none"],
  // End-to-end encryption: public keys and ciphertext addressed to the caller's own devices.
  [`POST ${C}/keys/upload`, "none"],
  [`POST ${C}/keys/query`, "none"],
  [`POST ${C}/keys/claim`, "none"],
  [`GET ${C}/keys/changes`, "none"],
  [`POST ${C}/keys/device_signing/upload`, "none"],
  [`POST ${C}/keys/signatures/upload`, "none"],
  [`PUT ${C}/sendToDevice/:eventType/:txnId`, "none"],
  [`PUT ${U}/org.matrix.msc3814.v1/dehydrated_device`, "none"],
  [`GET ${U}/org.matrix.msc3814.v1/dehydrated_device`, "none"],
  [`DELETE ${U}/org.matrix.msc3814.v1/dehydrated_device`, "none"],
  [`POST ${U}/org.matrix.msc3814.v1/dehydrated_device/:deviceId/events`, "none"],
  // Push rules, pushers, tags: the caller's own settings.
  [`GET ${C}/pushrules/`, "none"],
  [`GET ${C}/pushrules/global/`, "none"],
  ...["", "/actions", "/enabled"].flatMap((x): [string, RouteClass][] => [
    [`GET ${C}/pushrules/global/:kind/:ruleId${x}`, "none"],
    [`PUT ${C}/pushrules/global/:kind/:ruleId${x}`, "none"],
  ]),
  [`DELETE ${C}/pushrules/global/:kind/:ruleId`, "none"],
  [`GET ${C}/pushers`, "none"],
  [`POST ${C}/pushers/set`, "none"],
  [`GET ${C}/user/:userId/rooms/:roomId/tags`, "none"],
  [`PUT ${C}/user/:userId/rooms/:roomId/tags/:tag`, "none"],
  [`DELETE ${C}/user/:userId/rooms/:roomId/tags/:tag`, "none"],
  // Room writes that return ids.
  [`POST ${C}/rooms/:roomId/report`, "none"],
  [`POST ${C}/rooms/:roomId/report/:eventId`, "none"],
  [`POST ${C}/rooms/:roomId/upgrade`, "none"],
  // Accounts: 3PIDs, validity, login and user-interactive auth pages.
  [`POST ${C}/account/3pid/add`, "none"],
  [`POST ${C}/account/3pid/email/requestToken`, "none"],
  [`POST ${C}/register/email/requestToken`, "none"],
  [`GET ${U}/account_validity/renew`, "none"],
  [`POST ${U}/account_validity/send_mail`, "none"],
  [`GET ${C}/login/sso/redirect`, "none"],
  [`GET ${C}/auth/:stage/fallback/web`, "none"],
  [`POST ${C}/auth/:stage/fallback/web`, "none"],
  // Account moderation (spec "Account locking"): admin actions, audited as such.
  [`GET ${V1}/admin/lock/:userId`, "none"],
  [`PUT ${V1}/admin/lock/:userId`, "none"],
  // The identity-service parts of the government model: where an address belongs, invitations.
  [`GET /_matrix/identity/api/v1/info`, "none"],
  [`GET /_matrix/identity/v2/pubkey/:keyId`, "none"],
  [`GET /_matrix/identity/v2/pubkey/isvalid`, "none"],
  [`GET /_matrix/identity/v2/validate/email/submitToken`, "none"],
  [`POST /_matrix/identity/v2/validate/email/submitToken`, "none"],
]);

/**
 * Whole families with no room content, classified by prefix: the admin APIs (every call is recorded
 * as an admin action by src/http/gate.ts) and Rempart's own web pages (login, account settings).
 */
const NONE_PREFIXES = ["/_synapse/admin/", "/_rempart/"];

export function routeClass(method: string, url: string): RouteClass | undefined {
  const c = ROUTE_CLASSES.get(`${method === "HEAD" ? "GET" : method} ${url}`);
  if (c !== undefined) return c;
  return NONE_PREFIXES.some((p) => url.startsWith(p)) ? "none" : undefined;
}
