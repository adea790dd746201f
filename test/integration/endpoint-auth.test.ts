// Authentication, authorisation and body validation of every registered client and admin endpoint,
// driven from one table: adding an endpoint is one line in ENDPOINTS. A test compares the table with
// the server's own route list, so a new route without a line here fails.
//
// For every endpoint that needs auth: no token → 401 M_MISSING_TOKEN, an unknown token → 401
// M_UNKNOWN_TOKEN, a deactivated user's token → 401 M_UNKNOWN_TOKEN; admin endpoints refuse
// non-admins with 403 M_FORBIDDEN; another user's data is 403 or 404. Malformed bodies (invalid JSON,
// a JSON array, wrong types) give 400 M_NOT_JSON / M_BAD_JSON and leave the database untouched.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { assertError, call, type Res } from "../helpers/http.js";

type Auth = "none" | "user" | "admin";

interface Endpoint {
  method: "GET" | "POST" | "PUT" | "DELETE";
  /** Placeholders: {me} {myDevice} {room} {alias} {event} {txn} {msgtype} {statetype} {receipttype} {reltype} {type} {rtoken} {filter} {pushkind} {pushrule}; for `other`,
  /** Placeholders: {me} {myDevice} {room} {alias} {event} {txn} {msgtype} {statetype} {receipttype} {reltype} {type} {rtoken} {filter} {session} {version}; for `other`,
   * {other} {otherDevice}. */
  path: string;
  auth: Auth;
  /** A body with wrong types; endpoints with a body also get invalid JSON and a JSON array. */
  bad?: unknown;
  /** The same endpoint aimed at another user's data, and the status it must give. */
  other?: { path: string; status: 403 | 404 };
}

const C = "/_matrix/client/v3";
const A = "/_synapse/admin/v1";
const V1 = "/_matrix/client/v1";
const MSC3814 = "/_matrix/client/unstable/org.matrix.msc3814.v1";
const ENDPOINTS: Endpoint[] = [
  { method: "GET", path: "/_matrix/client/versions", auth: "none" },
  { method: "GET", path: "/.well-known/matrix/client", auth: "none" },
  { method: "GET", path: "/.well-known/matrix/server", auth: "none" },
  { method: "GET", path: `${C}/capabilities`, auth: "user" },
  { method: "POST", path: `${C}/register`, auth: "none", bad: { username: 42, password: "pw-register-1", auth: { type: "m.login.dummy" } } },
  { method: "GET", path: `${C}/register/available?username=someone`, auth: "none" },
  { method: "GET", path: "/_matrix/client/v1/register/m.login.registration_token/validity?token=abc", auth: "none" },
  { method: "GET", path: `${C}/login`, auth: "none" },
  { method: "POST", path: `${C}/login`, auth: "none", bad: { type: "m.login.password", identifier: { type: "m.id.user", user: 7 }, password: "x" } },
  { method: "POST", path: `${C}/logout`, auth: "user" },
  { method: "POST", path: `${C}/logout/all`, auth: "user" },
  { method: "GET", path: `${C}/account/whoami`, auth: "user" },
  { method: "POST", path: `${C}/refresh`, auth: "none", bad: { refresh_token: 12345 } },
  { method: "POST", path: `${C}/account/password`, auth: "user", bad: { new_password: 12345678, logout_devices: false } },
  { method: "POST", path: `${C}/account/deactivate`, auth: "user", bad: { erase: "yes" } },
  { method: "GET", path: `${C}/account/3pid`, auth: "user" },
  { method: "GET", path: `${C}/devices`, auth: "user" },
  { method: "GET", path: `${C}/devices/{myDevice}`, auth: "user", other: { path: `${C}/devices/{otherDevice}`, status: 404 } },
  {
    method: "PUT",
    path: `${C}/devices/{myDevice}`,
    auth: "user",
    bad: { display_name: 5 },
    other: { path: `${C}/devices/{otherDevice}`, status: 404 },
  },
  { method: "DELETE", path: `${C}/devices/{myDevice}`, auth: "user", bad: { auth: "password" }, other: { path: `${C}/devices/{otherDevice}`, status: 404 } },
  { method: "POST", path: `${C}/delete_devices`, auth: "user", bad: { devices: "{myDevice}" } },
  { method: "GET", path: `${C}/profile/{me}`, auth: "user" },
  { method: "GET", path: `${C}/profile/{me}/displayname`, auth: "user" },
  { method: "GET", path: `${C}/profile/{me}/avatar_url`, auth: "user" },
  { method: "PUT", path: `${C}/profile/{me}/displayname`, auth: "user", bad: { displayname: 5 }, other: { path: `${C}/profile/{other}/displayname`, status: 403 } },
  { method: "PUT", path: `${C}/profile/{me}/avatar_url`, auth: "user", bad: { avatar_url: ["mxc://x/y"] }, other: { path: `${C}/profile/{other}/avatar_url`, status: 403 } },
  { method: "GET", path: `${C}/user/{me}/account_data/{type}`, auth: "user", other: { path: `${C}/user/{other}/account_data/{type}`, status: 403 } },
  { method: "PUT", path: `${C}/user/{me}/account_data/{type}`, auth: "user", bad: "not an object", other: { path: `${C}/user/{other}/account_data/{type}`, status: 403 } },
  {
    method: "GET",
    path: `${C}/user/{me}/rooms/{room}/account_data/{type}`,
    auth: "user",
    other: { path: `${C}/user/{other}/rooms/{room}/account_data/{type}`, status: 403 },
  },
  {
    method: "PUT",
    path: `${C}/user/{me}/rooms/{room}/account_data/{type}`,
    auth: "user",
    bad: 12,
    other: { path: `${C}/user/{other}/rooms/{room}/account_data/{type}`, status: 403 },
  },
  { method: "POST", path: `${C}/user/{me}/filter`, auth: "user", bad: { room: { timeline: { limit: "ten" } } }, other: { path: `${C}/user/{other}/filter`, status: 403 } },
  { method: "GET", path: `${C}/user/{me}/filter/{filter}`, auth: "user", other: { path: `${C}/user/{other}/filter/{filter}`, status: 403 } },
  // Rooms (auth checks only here; their bodies and permissions are tested with the rooms).
  { method: "POST", path: `${C}/createRoom`, auth: "user" },
  { method: "GET", path: `${C}/joined_rooms`, auth: "user" },
  { method: "POST", path: `${C}/join/{room}`, auth: "user" },
  { method: "POST", path: `${C}/knock/{room}`, auth: "user" },
  { method: "PUT", path: `${C}/rooms/{room}/send/{msgtype}/{txn}`, auth: "user" },
  { method: "GET", path: `${C}/rooms/{room}/state`, auth: "user" },
  { method: "GET", path: `${C}/rooms/{room}/state/{statetype}`, auth: "user" },
  { method: "PUT", path: `${C}/rooms/{room}/state/{statetype}`, auth: "user" },
  { method: "GET", path: `${C}/rooms/{room}/state/{statetype}/{me}`, auth: "user" },
  { method: "PUT", path: `${C}/rooms/{room}/state/{statetype}/{me}`, auth: "user" },
  { method: "PUT", path: `${C}/rooms/{room}/redact/{event}/{txn}`, auth: "user" },
  { method: "GET", path: `${C}/rooms/{room}/event/{event}`, auth: "user" },
  { method: "GET", path: `${C}/rooms/{room}/context/{event}`, auth: "user" },
  { method: "GET", path: `${C}/rooms/{room}/messages`, auth: "user" },
  { method: "GET", path: `${C}/rooms/{room}/members`, auth: "user" },
  { method: "GET", path: `${C}/rooms/{room}/joined_members`, auth: "user" },
  { method: "GET", path: `${C}/rooms/{room}/aliases`, auth: "user" },
  ...["join", "invite", "leave", "forget", "kick", "ban", "unban"].map((m): Endpoint => ({ method: "POST", path: `${C}/rooms/{room}/${m}`, auth: "user" })),
  { method: "GET", path: `${C}/directory/room/{alias}`, auth: "user" },
  { method: "PUT", path: `${C}/directory/room/{alias}`, auth: "user" },
  { method: "DELETE", path: `${C}/directory/room/{alias}`, auth: "user" },
  { method: "POST", path: `${C}/rooms/{room}/read_markers`, auth: "user" },
  { method: "POST", path: `${C}/rooms/{room}/receipt/{receipttype}/{event}`, auth: "user" },
  { method: "PUT", path: `${C}/rooms/{room}/typing/{me}`, auth: "user" },
  { method: "GET", path: `${V1}/rooms/{room}/relations/{event}`, auth: "user" },
  { method: "GET", path: `${V1}/rooms/{room}/relations/{event}/{reltype}`, auth: "user" },
  { method: "GET", path: `${V1}/rooms/{room}/relations/{event}/{reltype}/{msgtype}`, auth: "user" },
  { method: "GET", path: `${V1}/rooms/{room}/threads`, auth: "user" },
  { method: "GET", path: `${V1}/rooms/{room}/timestamp_to_event?ts=0&dir=f`, auth: "user" },
  { method: "POST", path: `${C}/search`, auth: "user", bad: { search_categories: { room_events: { search_term: 5 } } } },
  // Room discovery, reports, tags, upgrades.
  { method: "GET", path: `${C}/directory/list/room/{room}`, auth: "none" },
  { method: "PUT", path: `${C}/directory/list/room/{room}`, auth: "user", bad: { visibility: 5 } },
  { method: "GET", path: `${C}/publicRooms`, auth: "user" },
  { method: "POST", path: `${C}/publicRooms`, auth: "user", bad: { limit: "ten" } },
  { method: "GET", path: `${V1}/room_summary/{room}`, auth: "user" },
  { method: "GET", path: "/_matrix/client/unstable/im.nheko.summary/rooms/{room}/summary", auth: "user" },
  { method: "GET", path: "/_matrix/client/unstable/im.nheko.summary/summary/{room}", auth: "user" },
  { method: "POST", path: `${C}/rooms/{room}/report/{event}`, auth: "user", bad: { reason: 5 } },
  { method: "POST", path: `${C}/rooms/{room}/report`, auth: "user", bad: { reason: ["spam"] } },
  { method: "GET", path: `${C}/user/{me}/rooms/{room}/tags`, auth: "user", other: { path: `${C}/user/{other}/rooms/{room}/tags`, status: 403 } },
  { method: "PUT", path: `${C}/user/{me}/rooms/{room}/tags/{tag}`, auth: "user", bad: { order: "first" }, other: { path: `${C}/user/{other}/rooms/{room}/tags/{tag}`, status: 403 } },
  { method: "DELETE", path: `${C}/user/{me}/rooms/{room}/tags/{tag}`, auth: "user", other: { path: `${C}/user/{other}/rooms/{room}/tags/{tag}`, status: 403 } },
  { method: "POST", path: `${C}/rooms/{room}/upgrade`, auth: "user", bad: { new_version: 12 } },
  // Sync and presence.
  { method: "GET", path: `${C}/sync?timeout=0`, auth: "user" },
  { method: "GET", path: `${C}/presence/{me}/status`, auth: "user" },
  { method: "PUT", path: `${C}/presence/{me}/status`, auth: "user" },
  // Push rules, pushers, notifications (their own tests: push-*.test.ts).
  { method: "GET", path: `${C}/pushrules/`, auth: "user" },
  { method: "GET", path: `${C}/pushrules/global/`, auth: "user" },
  { method: "GET", path: `${C}/pushrules/global/{pushkind}/{pushrule}`, auth: "user" },
  { method: "PUT", path: `${C}/pushrules/global/{pushkind}/{pushrule}`, auth: "user", bad: { actions: "notify" } },
  { method: "DELETE", path: `${C}/pushrules/global/{pushkind}/{pushrule}`, auth: "user" },
  { method: "GET", path: `${C}/pushrules/global/{pushkind}/{pushrule}/enabled`, auth: "user" },
  { method: "PUT", path: `${C}/pushrules/global/{pushkind}/{pushrule}/enabled`, auth: "user", bad: { enabled: "yes" } },
  { method: "GET", path: `${C}/pushrules/global/{pushkind}/{pushrule}/actions`, auth: "user" },
  { method: "PUT", path: `${C}/pushrules/global/{pushkind}/{pushrule}/actions`, auth: "user", bad: { actions: 5 } },
  { method: "GET", path: `${C}/pushers`, auth: "user" },
  { method: "POST", path: `${C}/pushers/set`, auth: "user", bad: { pushkey: 5, kind: "http", app_id: "x" } },
  { method: "GET", path: `${C}/notifications`, auth: "user" },
  // End-to-end encryption.
  { method: "POST", path: `${C}/keys/upload`, auth: "user", bad: { device_keys: "not keys" } },
  { method: "POST", path: `${C}/keys/query`, auth: "user", bad: { device_keys: { "{me}": "all" } } },
  { method: "POST", path: `${C}/keys/claim`, auth: "user", bad: { one_time_keys: { "{me}": { "{myDevice}": 5 } } } },
  { method: "GET", path: `${C}/keys/changes?from=s0&to=s0`, auth: "user" },
  { method: "POST", path: `${C}/keys/device_signing/upload`, auth: "user", bad: { master_key: "not a key" } },
  { method: "POST", path: `${C}/keys/signatures/upload`, auth: "user", bad: { "{me}": "not signatures" } },
  { method: "PUT", path: `${C}/sendToDevice/{type}/{txn}`, auth: "user", bad: { messages: { "{me}": { "{myDevice}": "not an object" } } } },
  { method: "POST", path: `${C}/room_keys/version`, auth: "user", bad: { algorithm: 5, auth_data: {} } },
  { method: "GET", path: `${C}/room_keys/version`, auth: "user" },
  { method: "GET", path: `${C}/room_keys/version/{version}`, auth: "user" },
  { method: "PUT", path: `${C}/room_keys/version/{version}`, auth: "user", bad: { algorithm: "m.megolm_backup.v1.curve25519-aes-sha2", auth_data: "none" } },
  { method: "DELETE", path: `${C}/room_keys/version/{version}`, auth: "user" },
  { method: "PUT", path: `${C}/room_keys/keys?version=1`, auth: "user", bad: { rooms: "none" } },
  { method: "GET", path: `${C}/room_keys/keys?version=1`, auth: "user" },
  { method: "DELETE", path: `${C}/room_keys/keys?version=1`, auth: "user" },
  { method: "PUT", path: `${C}/room_keys/keys/{room}?version=1`, auth: "user", bad: { sessions: 5 } },
  { method: "GET", path: `${C}/room_keys/keys/{room}?version=1`, auth: "user" },
  { method: "DELETE", path: `${C}/room_keys/keys/{room}?version=1`, auth: "user" },
  { method: "PUT", path: `${C}/room_keys/keys/{room}/{session}?version=1`, auth: "user", bad: { first_message_index: "0", forwarded_count: 0, is_verified: false, session_data: {} } },
  { method: "GET", path: `${C}/room_keys/keys/{room}/{session}?version=1`, auth: "user" },
  { method: "DELETE", path: `${C}/room_keys/keys/{room}/{session}?version=1`, auth: "user" },
  { method: "PUT", path: `${MSC3814}/dehydrated_device`, auth: "user", bad: { device_id: 5, device_data: {}, device_keys: {} } },
  { method: "GET", path: `${MSC3814}/dehydrated_device`, auth: "user" },
  { method: "DELETE", path: `${MSC3814}/dehydrated_device`, auth: "user" },
  { method: "POST", path: `${MSC3814}/dehydrated_device/{myDevice}/events`, auth: "user", bad: { next_batch: 5 } },
  // Synapse-compatible admin API.
  { method: "GET", path: `${A}/register`, auth: "none" },
  { method: "POST", path: `${A}/register`, auth: "none", bad: { nonce: 1, username: "x", password: "y", mac: "z" } },
  { method: "GET", path: `${A}/registration_tokens`, auth: "admin" },
  { method: "POST", path: `${A}/registration_tokens/new`, auth: "admin", bad: { uses_allowed: "1" } },
  { method: "GET", path: `${A}/registration_tokens/{rtoken}`, auth: "admin" },
  { method: "PUT", path: `${A}/registration_tokens/{rtoken}`, auth: "admin", bad: { expiry_time: "tomorrow" } },
  { method: "DELETE", path: `${A}/registration_tokens/{rtoken}`, auth: "admin" },
  // Login security (issue 9).
  { method: "GET", path: `${V1}/admin/lock/{other}`, auth: "admin" },
  { method: "PUT", path: `${V1}/admin/lock/{other}`, auth: "admin", bad: { locked: "yes" } },
  // Government model (src/policy): email → server, email validation, user directory, account validity.
  { method: "GET", path: "/_matrix/identity/api/v1/info?medium=email&address=someone%40example.org", auth: "none" },
  { method: "POST", path: `${C}/register/email/requestToken`, auth: "none", bad: { client_secret: 1, email: "a@example.org", send_attempt: "1" } },
  { method: "POST", path: `${C}/account/3pid/email/requestToken`, auth: "none", bad: { client_secret: "s", email: 5, send_attempt: 1 } },
  { method: "POST", path: "/_matrix/identity/v2/validate/email/submitToken", auth: "none", bad: { sid: 1, client_secret: "s", token: "123456" } },
  { method: "GET", path: "/_matrix/identity/v2/validate/email/submitToken?sid=x&client_secret=y&token=z", auth: "none" },
  { method: "POST", path: `${C}/account/3pid/add`, auth: "user", bad: { client_secret: 5, sid: "x" } },
  { method: "POST", path: `${C}/user_directory/search`, auth: "user", bad: { search_term: 5 } },
  { method: "GET", path: "/_matrix/client/unstable/account_validity/renew?token=nope", auth: "none" },
  { method: "POST", path: "/_matrix/client/unstable/account_validity/send_mail", auth: "user" },
  { method: "POST", path: `${A}/account_validity/validity`, auth: "admin", bad: { user_id: 5 } },
  // Admin API: users, rooms, event reports, server notices (test/integration/admin-*.test.ts).
  { method: "GET", path: `${A}/server_version`, auth: "admin" },
  { method: "GET", path: "/_synapse/admin/v2/users", auth: "admin" },
  { method: "GET", path: "/_synapse/admin/v2/users/{me}", auth: "admin" },
  { method: "PUT", path: "/_synapse/admin/v2/users/{me}", auth: "admin", bad: { admin: "yes" } },
  { method: "POST", path: `${A}/deactivate/{me}`, auth: "admin", bad: { erase: "yes" } },
  { method: "POST", path: `${A}/reset_password/{me}`, auth: "admin", bad: { new_password: 12345678 } },
  { method: "GET", path: `${A}/whois/{me}`, auth: "admin" },
  { method: "GET", path: "/_synapse/admin/v2/users/{me}/devices", auth: "admin" },
  { method: "GET", path: "/_synapse/admin/v2/users/{me}/devices/{myDevice}", auth: "admin" },
  { method: "PUT", path: "/_synapse/admin/v2/users/{me}/devices/{myDevice}", auth: "admin", bad: { display_name: 5 } },
  { method: "DELETE", path: "/_synapse/admin/v2/users/{me}/devices/{myDevice}", auth: "admin" },
  { method: "POST", path: "/_synapse/admin/v2/users/{me}/delete_devices", auth: "admin", bad: { devices: "{myDevice}" } },
  { method: "GET", path: `${A}/users/{me}/joined_rooms`, auth: "admin" },
  { method: "POST", path: `${A}/users/{me}/login`, auth: "admin" },
  { method: "GET", path: `${A}/users/{me}/admin`, auth: "admin" },
  { method: "PUT", path: `${A}/users/{me}/admin`, auth: "admin", bad: { admin: "yes" } },
  { method: "GET", path: `${A}/rooms`, auth: "admin" },
  { method: "GET", path: `${A}/rooms/{room}`, auth: "admin" },
  { method: "DELETE", path: `${A}/rooms/{room}`, auth: "admin", bad: { purge: "yes" } },
  { method: "GET", path: `${A}/rooms/{room}/members`, auth: "admin" },
  { method: "GET", path: `${A}/rooms/{room}/state`, auth: "admin" },
  { method: "GET", path: `${A}/rooms/{room}/block`, auth: "admin" },
  { method: "PUT", path: `${A}/rooms/{room}/block`, auth: "admin", bad: { block: "yes" } },
  { method: "DELETE", path: "/_synapse/admin/v2/rooms/{room}", auth: "admin", bad: { block: 1 } },
  { method: "GET", path: "/_synapse/admin/v2/rooms/{room}/delete_status", auth: "admin" },
  { method: "GET", path: "/_synapse/admin/v2/rooms/delete_status/{deleteid}", auth: "admin" },
  { method: "GET", path: `${A}/event_reports`, auth: "admin" },
  { method: "GET", path: `${A}/event_reports/{report}`, auth: "admin" },
  { method: "DELETE", path: `${A}/event_reports/{report}`, auth: "admin" },
  { method: "POST", path: `${A}/send_server_notice`, auth: "admin", bad: { user_id: 5, content: { body: "x" } } },
  { method: "GET", path: `${C}/login/sso/redirect?redirectUrl=http%3A%2F%2Fclient.example%2Fcb`, auth: "none" },
  // Web pages (HTML, web login session cookie instead of a token; see login-web.test.ts).
  { method: "GET", path: `${C}/auth/{stage}/fallback/web?session=none`, auth: "none" },
  { method: "POST", path: `${C}/auth/{stage}/fallback/web?session=none`, auth: "none" },
  { method: "GET", path: "/_rempart/login", auth: "none" },
  { method: "POST", path: "/_rempart/login", auth: "none" },
  { method: "GET", path: "/_rempart/login/mfa", auth: "none" },
  { method: "POST", path: "/_rempart/login/mfa", auth: "none" },
  { method: "POST", path: "/_rempart/login/webauthn/options", auth: "none" },
  { method: "POST", path: "/_rempart/login/webauthn", auth: "none" },
  { method: "GET", path: "/_rempart/login/continue", auth: "none" },
  { method: "POST", path: "/_rempart/login/continue", auth: "none" },
  { method: "POST", path: "/_rempart/logout", auth: "none" },
  { method: "GET", path: "/_rempart/account", auth: "none" },
  { method: "GET", path: "/_rempart/console", auth: "none" },
  { method: "GET", path: "/_rempart/console/{asset}", auth: "none" },
  { method: "GET", path: "/_rempart/admin/v1/security/alerts", auth: "admin" },
  { method: "GET", path: "/_rempart/admin/v1/security/meters/{other}", auth: "admin" },
  { method: "GET", path: "/_rempart/admin/v1/security/readers", auth: "admin" },
  { method: "GET", path: "/_rempart/admin/v1/security/timeline/{other}", auth: "admin" },
  { method: "GET", path: "/_rempart/admin/v1/security/rooms/{room}/readers", auth: "admin" },
  { method: "POST", path: "/_rempart/admin/v1/security/users/{other}/lock", auth: "admin", bad: { reason: 5 } },
  { method: "POST", path: "/_rempart/admin/v1/security/users/{other}/unlock", auth: "admin", bad: { reason: 5 } },
  { method: "POST", path: "/_rempart/admin/v1/security/users/{other}/end_sessions", auth: "admin", bad: { reason: 5 } },
  { method: "GET", path: "/_rempart/admin/v1/security/audit/verify", auth: "admin" },
  { method: "GET", path: "/_rempart/account/totp", auth: "none" },
  { method: "POST", path: "/_rempart/account/totp", auth: "none" },
  { method: "POST", path: "/_rempart/account/totp/delete", auth: "none" },
  { method: "POST", path: "/_rempart/account/recovery-codes", auth: "none" },
  { method: "POST", path: "/_rempart/account/webauthn/options", auth: "none" },
  { method: "POST", path: "/_rempart/account/webauthn", auth: "none" },
  { method: "POST", path: "/_rempart/account/webauthn/delete", auth: "none" },
  { method: "POST", path: "/_rempart/account/sessions/delete", auth: "none" },
  { method: "POST", path: "/_rempart/account/email", auth: "none" },
  { method: "GET", path: "/_rempart/not-me?token=none", auth: "none" },
  { method: "POST", path: "/_rempart/not-me", auth: "none" },
  // Media repository (bodies are files, not JSON: tested in media*.test.ts).
  { method: "POST", path: "/_matrix/media/v3/upload", auth: "user" },
  { method: "POST", path: "/_matrix/media/v1/create", auth: "user" },
  { method: "PUT", path: "/_matrix/media/v3/upload/{server}/{media}", auth: "user" },
  { method: "GET", path: `${V1}/media/config`, auth: "user" },
  { method: "GET", path: "/_matrix/media/v3/config", auth: "user" },
  { method: "GET", path: `${V1}/media/preview_url?url=https%3A%2F%2Fexample.org`, auth: "user" },
  { method: "GET", path: "/_matrix/media/v3/preview_url?url=https%3A%2F%2Fexample.org", auth: "user" },
  { method: "GET", path: `${V1}/media/download/{server}/{media}`, auth: "user" },
  { method: "GET", path: `${V1}/media/download/{server}/{media}/{filename}`, auth: "user" },
  { method: "GET", path: `${V1}/media/thumbnail/{server}/{media}?width=32&height=32`, auth: "user" },
  { method: "GET", path: "/_matrix/media/v3/download/{server}/{media}", auth: "none" },
  { method: "GET", path: "/_matrix/media/v3/download/{server}/{media}/{filename}", auth: "none" },
  { method: "GET", path: "/_matrix/media/v3/thumbnail/{server}/{media}?width=32&height=32", auth: "none" },
  { method: "GET", path: `${A}/media/{server}/{media}`, auth: "admin" },
  { method: "DELETE", path: `${A}/media/{server}/{media}`, auth: "admin" },
  { method: "POST", path: `${A}/media/quarantine/{server}/{media}`, auth: "admin" },
  { method: "POST", path: `${A}/user/{me}/media/quarantine`, auth: "admin" },
  { method: "GET", path: `${A}/users/{me}/media`, auth: "admin" },
  { method: "DELETE", path: `${A}/users/{me}/media`, auth: "admin" },
  { method: "GET", path: "/_rempart/admin/v1/forensics/users/{me}", auth: "admin" },
  { method: "GET", path: "/_rempart/admin/v1/forensics/rooms/{room}", auth: "admin" },
  { method: "GET", path: "/_matrix/identity/v2/pubkey/isvalid?public_key=abc", auth: "none" },
  { method: "GET", path: "/_matrix/identity/v2/pubkey/{type}", auth: "none" },
];

let s: TestServer;
let me: TestUser;
let other: TestUser;
let admin: TestUser;
let gone: TestUser;
let filterId: string;
const ROOM = "!room:rempart.test";
const TYPE = "org.example.settings";
const RTOKEN = "endpoint-auth-token";

function fill(path: string): string {
  const vars: Record<string, string> = {
    me: me.userId,
    myDevice: me.deviceId,
    other: other.userId,
    otherDevice: other.deviceId,
    room: ROOM,
    type: TYPE,
    rtoken: RTOKEN,
    filter: filterId,
    alias: "#somewhere:rempart.test",
    event: "$some-event",
    txn: "txn-1",
    msgtype: "m.room.message",
    statetype: "m.room.topic",
    receipttype: "m.read",
    reltype: "m.thread",
    tag: "u.work",
    pushkind: "override",
    pushrule: ".m.rule.master",
    report: "1",
    deleteid: "no-such-delete",
    stage: "m.login.sso",
    session: "session-1",
    version: "1",
    server: "rempart.test",
    media: "NoSuchMediaId",
    filename: "file.txt",
  };
  return path.replace(/\{(\w+)\}/g, (_, k: string) => encodeURIComponent(vars[k]!));
}

const fillBody = (b: unknown): unknown => (b === undefined ? undefined : JSON.parse(fill(JSON.stringify(b))));
const label = (e: Endpoint) => `${e.method} ${e.path}`;

/** Everything a request could change, read straight from the database (timestamps left out). */
async function snapshot(): Promise<unknown> {
  const db = s.app.storage.db;
  return {
    users: await db.selectFrom("users").select(["user_id", "password_hash", "admin", "deactivated", "locked", "displayname", "avatar_url"]).orderBy("user_id").execute(),
    devices: await db.selectFrom("devices").select(["user_id", "device_id", "display_name"]).orderBy("user_id").orderBy("device_id").execute(),
    access: await db.selectFrom("access_tokens").select(["token_hash", "user_id", "device_id"]).orderBy("token_hash").execute(),
    refresh: await db.selectFrom("refresh_tokens").select(["token_hash", "user_id", "device_id"]).orderBy("token_hash").execute(),
    accountData: await db.selectFrom("account_data").select(["user_id", "room_id", "type", "content"]).orderBy("user_id").orderBy("room_id").orderBy("type").execute(),
    filters: await db.selectFrom("filters").selectAll().orderBy("user_id").orderBy("filter_id").execute(),
    registrationTokens: await db.selectFrom("registration_tokens").selectAll().orderBy("token").execute(),
  };
}

/** A Matrix error that also carries a human-readable message. */
function assertErrorWithMessage(res: Res, status: number, errcode: string, what: string): void {
  assertError(res, status, errcode, what);
  assert.equal(typeof res.body.error, "string", `${what}: error message missing`);
}

before(async () => {
  s = await startTestServer({ registration_shared_secret: "endpoint-auth-shared-secret" });
  me = await s.user("me");
  other = await s.user("other");
  admin = await s.user("root", { admin: true });
  gone = await s.user("gone");
  // Data of both users, so that "another user's data" exists and can be seen to stay untouched.
  for (const u of [me, other]) {
    for (const path of [`${C}/user/${u.userId}/account_data/${TYPE}`, `${C}/user/${u.userId}/rooms/${encodeURIComponent(ROOM)}/account_data/${TYPE}`]) {
      assert.equal((await call(s.url, "PUT", path, { token: u.accessToken, body: { owner: u.userId } })).status, 200);
    }
    const f = await call(s.url, "POST", `${C}/user/${u.userId}/filter`, { token: u.accessToken, body: { room: { timeline: { limit: 3 } } } });
    assert.equal(f.status, 200);
    filterId = f.body.filter_id as string;
  }
  const t = await call(s.url, "POST", `${A}/registration_tokens/new`, { token: admin.accessToken, body: { token: RTOKEN, uses_allowed: 3 } });
  assert.equal(t.status, 200, JSON.stringify(t.body));
  // A second device of the user about to be deactivated: both tokens must die.
  const second = await call(s.url, "POST", `${C}/login`, { body: { type: "m.login.password", identifier: { type: "m.id.user", user: "gone" }, password: gone.password } });
  assert.equal(second.status, 200);
  const d = await call(s.url, "POST", `${C}/account/deactivate`, {
    token: gone.accessToken,
    body: { auth: { type: "m.login.password", identifier: { type: "m.id.user", user: gone.userId }, password: gone.password } },
  });
  assert.equal(d.status, 200, JSON.stringify(d.body));
  goneTokens.push(gone.accessToken, second.body.access_token as string);
});
const goneTokens: string[] = [];

after(async () => {
  await s.close();
});

/** Every (method, path) the server has registered, from fastify's route tree (HEAD is implied by GET). */
function registeredRoutes(): string[] {
  const tree = s.http.printRoutes({ commonPrefix: false });
  const out: string[] = [];
  const stack: string[] = [];
  for (const line of tree.split("\n")) {
    const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]*)\))?$/u.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    const full = (depth > 0 ? stack[depth - 1]! : "") + m[2]!;
    stack[depth] = full;
    stack.length = depth + 1;
    for (const method of (m[3] ?? "").split(/,\s*/)) {
      if (method && method !== "HEAD" && method !== "OPTIONS") out.push(`${method} ${full}`);
    }
  }
  return out.sort();
}

test("the table covers every registered route, and only registered routes", () => {
  const routes = registeredRoutes();
  assert.ok(routes.length >= ENDPOINTS.length, "route tree could not be read");
  for (const r of routes) {
    const [method, url] = r.split(" ") as [Endpoint["method"], string];
    assert.ok(s.http.hasRoute({ method, url }), `parsed a route fastify does not know: ${r}`);
  }
  // Table paths use {placeholders}; route paths use :params. Compare their shapes.
  const shape = (p: string) => p.split("?")[0]!.replace(/\{\w+\}|:\w+/g, "*");
  const routeShapes = new Set(routes.map((r) => shape(r)));
  const tableShapes = new Set(ENDPOINTS.map((e) => shape(`${e.method} ${e.path}`)));
  const missing = [...routeShapes].filter((r) => !tableShapes.has(r));
  assert.deepEqual(missing, [], "routes without a line in ENDPOINTS");
  const stale = [...tableShapes].filter((t) => !routeShapes.has(t));
  assert.deepEqual(stale, [], "lines in ENDPOINTS for routes that do not exist");
});

test("endpoints that need auth refuse a missing token with 401 M_MISSING_TOKEN", async () => {
  for (const e of ENDPOINTS.filter((x) => x.auth !== "none")) {
    assertErrorWithMessage(await call(s.url, e.method, fill(e.path), { body: fillBody(e.bad === undefined ? undefined : {}) }), 401, "M_MISSING_TOKEN", label(e));
  }
});

test("endpoints that need auth refuse an unknown token with 401 M_UNKNOWN_TOKEN", async () => {
  for (const e of ENDPOINTS.filter((x) => x.auth !== "none")) {
    for (const token of ["rpt_not-a-real-token", "garbage"]) {
      assertErrorWithMessage(await call(s.url, e.method, fill(e.path), { token }), 401, "M_UNKNOWN_TOKEN", `${label(e)} with ${token}`);
    }
    const basic = await call(s.url, e.method, fill(e.path), { headers: { authorization: "Basic dXNlcjpwYXNz" } });
    assert.equal(basic.status, 401, `${label(e)} with a non-Bearer Authorization header`);
  }
});

test("a deactivated user's tokens are refused with 401 on every endpoint that needs auth", async () => {
  for (const e of ENDPOINTS.filter((x) => x.auth !== "none")) {
    for (const token of goneTokens) {
      assertErrorWithMessage(await call(s.url, e.method, fill(e.path), { token }), 401, "M_UNKNOWN_TOKEN", label(e));
    }
  }
  // And it cannot log in again.
  const login = await call(s.url, "POST", `${C}/login`, { body: { type: "m.login.password", identifier: { type: "m.id.user", user: "gone" }, password: gone.password } });
  assert.equal(login.status, 403);
});

test("a session whose account was flagged deactivated outside the API is refused with 401", async () => {
  // E.g. an operator's tool or an admin API: the flag changes, the cache is told, tokens remain.
  const u = await s.user();
  await s.app.storage.db.updateTable("users").set({ deactivated: 1 }).where("user_id", "=", u.userId).execute();
  await s.app.sessions.forgetUser(u.userId);
  assertErrorWithMessage(await call(s.url, "GET", `${C}/account/whoami`, { token: u.accessToken }), 401, "M_UNKNOWN_TOKEN", "whoami");
});

test("a valid token is accepted by every endpoint that needs auth (the 401s above are about the token)", async () => {
  // A fresh user per endpoint: some of these end the session (logout, deactivate).
  for (const e of ENDPOINTS.filter((x) => x.auth !== "none")) {
    const u = await s.user(undefined, { admin: e.auth === "admin" });
    const path = fill(e.path)
      .replace(encodeURIComponent(me.userId), encodeURIComponent(u.userId))
      .replace(me.deviceId, u.deviceId)
      .replace(RTOKEN, "no-such-token");
    const res = await call(s.url, e.method, path, { token: u.accessToken });
    const refused = e.auth === "admin" ? ["M_MISSING_TOKEN", "M_UNKNOWN_TOKEN", "M_FORBIDDEN"] : ["M_MISSING_TOKEN", "M_UNKNOWN_TOKEN"];
    assert.ok(!refused.includes(res.body.errcode as string), `${label(e)}: ${res.status} ${JSON.stringify(res.body)}`);
    assert.ok(res.status < 500, `${label(e)}: ${res.status}`);
  }
});

test("endpoints without auth answer without a token", async () => {
  for (const e of ENDPOINTS.filter((x) => x.auth === "none")) {
    const res = await call(s.url, e.method, fill(e.path));
    assert.ok(res.status !== 401 || res.body.flows !== undefined, `${label(e)}: ${res.status} ${JSON.stringify(res.body)}`);
    assert.ok(res.status < 500, `${label(e)}: ${res.status}`);
    assert.ok(res.body.errcode !== "M_MISSING_TOKEN", label(e));
  }
});

test("admin endpoints refuse a non-admin with 403 M_FORBIDDEN and change nothing", async () => {
  const admins = ENDPOINTS.filter((x) => x.auth === "admin");
  assert.ok(admins.length >= 5);
  for (const e of admins) {
    const before = await snapshot();
    const body = e.method === "POST" || e.method === "PUT" ? { uses_allowed: 0, expiry_time: null } : undefined;
    assertErrorWithMessage(await call(s.url, e.method, fill(e.path), { token: me.accessToken, body }), 403, "M_FORBIDDEN", label(e));
    assert.deepEqual(await snapshot(), before, `${label(e)} changed state`);
  }
  // The admin's own calls go through (the 403 above is about who is asking).
  const list = await call(s.url, "GET", `${A}/registration_tokens`, { token: admin.accessToken });
  assert.equal(list.status, 200);
  assert.ok((list.body.registration_tokens as { token: string }[]).some((t) => t.token === RTOKEN));
});

test("another user's data: 403 or 404, and that user's data is unchanged", async () => {
  const withOther = ENDPOINTS.filter((x) => x.other);
  assert.ok(withOther.length >= 10);
  for (const e of withOther) {
    const before = await snapshot();
    const body = e.method === "PUT" || e.method === "POST" ? { displayname: "Mallory", avatar_url: "mxc://evil/x", display_name: "pwned", owner: "mallory" } : undefined;
    const res = await call(s.url, e.method, fill(e.other!.path), { token: me.accessToken, body });
    assert.equal(res.status, e.other!.status, `${label(e)}: ${res.status} ${JSON.stringify(res.body)}`);
    assert.equal(res.body.errcode, e.other!.status === 403 ? "M_FORBIDDEN" : "M_NOT_FOUND", `${label(e)}: ${JSON.stringify(res.body)}`);
    assert.deepEqual(await snapshot(), before, `${label(e)} changed state`);
  }
  // Reads of the other user's data gave nothing away; the other user still sees their own.
  const own = await call(s.url, "GET", `${C}/user/${other.userId}/account_data/${TYPE}`, { token: other.accessToken });
  assert.deepEqual(own.body, { owner: other.userId });
});

test("delete_devices ignores another user's device ids", async () => {
  const res = await call(s.url, "POST", `${C}/delete_devices`, {
    token: me.accessToken,
    body: { devices: [other.deviceId], auth: { type: "m.login.password", identifier: { type: "m.id.user", user: me.userId }, password: me.password } },
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const whoami = await call(s.url, "GET", `${C}/account/whoami`, { token: other.accessToken });
  assert.equal(whoami.status, 200);
  const devices = await call(s.url, "GET", `${C}/devices`, { token: other.accessToken });
  assert.deepEqual((devices.body.devices as { device_id: string }[]).map((d) => d.device_id), [other.deviceId]);
});

test("malformed bodies give the right errcode and change nothing", async () => {
  const withBody = ENDPOINTS.filter((x) => x.bad !== undefined);
  assert.ok(withBody.length >= 15);
  const cases: { what: string; raw: string; errcode: string }[] = [];
  for (const e of withBody) {
    const token = e.auth === "admin" ? admin.accessToken : e.auth === "user" ? me.accessToken : undefined;
    cases.length = 0;
    cases.push(
      { what: "invalid JSON", raw: '{"displayname": "half', errcode: "M_NOT_JSON" },
      { what: "not JSON at all", raw: "displayname=x&password=y", errcode: "M_NOT_JSON" },
      { what: "a JSON array", raw: JSON.stringify([fillBody(e.bad)]), errcode: "M_BAD_JSON" },
      { what: "JSON null", raw: "null", errcode: "M_BAD_JSON" },
      { what: "wrong types", raw: JSON.stringify(fillBody(e.bad)), errcode: "M_BAD_JSON" },
    );
    for (const c of cases) {
      // JSON null is valid JSON but not an object, even where the whole body is optional.
      const before = await snapshot();
      const res = await call(s.url, e.method, fill(e.path), { token, raw: c.raw, headers: { "content-type": "application/json" } });
      assertErrorWithMessage(res, 400, c.errcode, `${label(e)} with ${c.what}`);
      assert.deepEqual(await snapshot(), before, `${label(e)} with ${c.what} changed state`);
    }
  }
  // The sessions used above are still alive.
  assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: me.accessToken })).status, 200);
  assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: admin.accessToken })).status, 200);
});

test("an invalid JSON body to a body-less POST does not perform it (logout stays logged in)", async () => {
  for (const path of [`${C}/logout`, `${C}/logout/all`]) {
    const before = await snapshot();
    const res = await call(s.url, "POST", path, { token: me.accessToken, raw: "{not json", headers: { "content-type": "application/json" } });
    assertErrorWithMessage(res, 400, "M_NOT_JSON", path);
    assert.deepEqual(await snapshot(), before);
  }
  assert.equal((await call(s.url, "GET", `${C}/account/whoami`, { token: me.accessToken })).status, 200);
});
