// The HTTP server: Matrix error mapping, JSON parsing, CORS, the r0 aliases, 404/405, and the
// route plugins. Routes parse and authenticate; the rules live in the services (DESIGN.md).
import Fastify, { LogController, type FastifyInstance, type FastifyError } from "fastify";
import FindMyWay from "find-my-way";
import { randomBytes } from "node:crypto";
import type { App } from "../app.js";
import { MatrixError, notJson, tooLarge, unrecognized } from "./errors.js";
import { registerVersionRoutes } from "./client/versions.js";
import { registerRegisterRoutes } from "./client/register.js";
import { registerLoginRoutes } from "./client/login.js";
import { registerAccountRoutes } from "./client/account.js";
import { registerDeviceRoutes } from "./client/devices.js";
import { registerProfileRoutes } from "./client/profile.js";
import { registerAccountDataRoutes } from "./client/account-data.js";
import { registerFilterRoutes } from "./client/filters.js";
import { registerSharedSecretRoutes } from "./admin/register.js";
import { registerRegistrationTokenAdminRoutes } from "./admin/registration-tokens.js";
import { r0Alias } from "./r0.js";
import { redactUrl } from "./redact.js";
import { sendFrameworkError, jsonTooDeep, rejectNulInParams, tooDeep } from "./guards.js";
import { registerRoomRoutes } from "./client/rooms.js";
import { registerMembershipRoutes } from "./client/membership.js";
import { registerAliasRoutes } from "./client/aliases.js";
import { registerSearchRoutes } from "./client/search.js";
import { registerRelationRoutes } from "./client/relations.js";
import { registerSyncRoutes } from "./client/sync.js";
import { registerEphemeralRoutes } from "./client/ephemeral.js";
import { registerDiscoveryRoutes } from "./client/discovery.js";
import { registerRoomExtraRoutes } from "./client/room-extras.js";
import { registerPushRuleRoutes } from "./client/push-rules.js";
import { registerPusherRoutes } from "./client/pushers.js";
import { registerNotificationRoutes } from "./client/notifications.js";
import { registerLockAdminRoutes } from "./admin/lock.js";
import { registerPolicyRoutes } from "./client/policy.js";
import { registerAccountValidityAdminRoutes } from "./admin/account-validity.js";
import { registerReadGateHooks } from "./gate.js";
import { registerUserAdminRoutes } from "./admin/users.js";
import { registerRoomAdminRoutes } from "./admin/rooms.js";
import { registerReportAdminRoutes } from "./admin/reports.js";
import { registerServerNoticeAdminRoutes } from "./admin/server-notices.js";
import { registerVersionAdminRoutes } from "./admin/version.js";
import { registerWebPages } from "./web/routes.js";
import { registerKeyRoutes } from "./client/keys.js";
import { registerToDeviceRoutes } from "./client/to-device.js";
import { registerRoomKeyRoutes } from "./client/room-keys.js";
import { registerDehydratedDeviceRoutes } from "./client/dehydrated-devices.js";
import { registerMediaRoutes } from "./media/index.js";
import { registerMediaAdminRoutes } from "./admin/media.js";
import { registerSecurityAdminRoutes } from "./admin/security.js";
import { registerConsolePage } from "./web/console-page.js";
import { registerForensicsAdminRoutes } from "./admin/forensics.js";

const CORS_HEADERS = {
  // Client-server API "Web Browser Clients".
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, PUT, DELETE, OPTIONS",
  "access-control-allow-headers": "X-Requested-With, Content-Type, Authorization",
};

export { redactUrl };

const requestIdPrefix = randomBytes(4).toString("base64url");
let requestCounter = 0;
const nextRequestId = (): string => `${requestIdPrefix}${(++requestCounter).toString(36)}`;

function noRouteSchemas(): never {
  throw new Error("fastify route schemas are not used: validate with zod in the route (src/http/body.ts)");
}

export async function buildServer(app: App): Promise<FastifyInstance> {
  // Cast: pino's Logger and fastify's FastifyBaseLogger are the same object, typed by two packages.
  const http = Fastify({
    loggerInstance: app.log,
    bodyLimit: app.config.max_request_body_bytes,
    // Request ids only tie a request's log lines together: a random prefix per process and a
    // counter (randomBytes per request was 2 % of a message send's CPU).
    genReqId: nextRequestId,
    // Our own one-line-per-request log (onResponse below) replaces fastify's two lines.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: "req_id" }),
    rewriteUrl: (req) => r0Alias(req.url ?? "/"),
    routerOptions: { maxParamLength: 1000 },
    // Undecodable paths and over-long parameters fail before routing: answer them as Matrix errors too.
    frameworkErrors: (error, _req, reply) => sendFrameworkError(error, reply, CORS_HEADERS),
    trustProxy: false,
    // Bodies are validated with zod (body.ts), never with fastify route schemas: without these two
    // stand-ins fastify would load ajv and fast-json-stringify at start-up (~1 MB of heap, and
    // their start-up time) for nothing. A route that declared a schema fails at registration.
    schemaController: { compilersFactory: { buildValidator: noRouteSchemas, buildSerializer: noRouteSchemas } },
  }) as unknown as FastifyInstance;

  // Every registered (method, path) pattern, to tell "wrong method" (405) from "no such path" (404).
  // The router over them is built at the first unmatched request, not at start-up: building it
  // cost as much as fastify's own router (~30 ms of start-up and its memory) for a path only
  // mistakes take.
  const patterns: [string, string][] = [];
  let known: FindMyWay.Instance<FindMyWay.HTTPVersion.V1> | undefined;
  http.addHook("onRoute", (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const m of methods) if (m !== "HEAD" && m !== "OPTIONS") patterns.push([m, route.url]);
  });
  const knownRoutes = () => {
    if (known) return known;
    known = FindMyWay();
    for (const [m, url] of patterns) known.on(m as "GET", url, () => {});
    return known;
  };

  http.addHook("onRequest", async (req, reply) => {
    reply.headers(CORS_HEADERS);
    if (req.method === "OPTIONS") return reply.code(204).send();
    rejectNulInParams(req);
  });

  http.addHook("onResponse", async (req, reply) => {
    // Built only when it is logged: the redacted URL costs something on every request.
    if (!app.log.isLevelEnabled("info")) return;
    req.log.info(
      { method: req.method, url: redactUrl(req.url), status: reply.statusCode, ms: Math.round(reply.elapsedTime), ip: req.ip },
      "request",
    );
  });

  // JSON for every content type (clients do not always send one); an empty body is "no body".
  http.removeAllContentTypeParsers();
  http.addContentTypeParser("*", { parseAs: "string" }, (_req, body, done) => {
    const text = body as string;
    if (text.trim() === "") return done(null, undefined);
    try {
      const value: unknown = JSON.parse(text);
      done(jsonTooDeep(value) ? tooDeep() : null, value);
    } catch {
      done(notJson(), undefined);
    }
  });

  http.setNotFoundHandler(async (req, reply) => {
    const path = req.url.split("?")[0]!;
    const other = ["GET", "PUT", "POST", "DELETE"].some((m) => m !== req.method && knownRoutes().find(m as "GET", path) !== null);
    const err = other ? unrecognized(405, "Method not allowed") : unrecognized(404, "Unrecognized request");
    return reply.code(err.status).send(err.body());
  });

  http.setErrorHandler(async (error: FastifyError | MatrixError, req, reply) => {
    let err: MatrixError;
    if (error instanceof MatrixError) err = error;
    else if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE" || error.statusCode === 413) err = tooLarge();
    else if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE" || error.code === "FST_ERR_CTP_EMPTY_JSON_BODY") err = notJson();
    else if (error.statusCode === 400 && error.code?.startsWith("FST_ERR")) err = new MatrixError(400, "M_BAD_JSON", "Malformed request");
    else {
      req.log.error({ err: { message: error.message, code: error.code, stack: error.stack } }, "unhandled error");
      err = new MatrixError(500, "M_UNKNOWN", "Internal server error");
    }
    if (err.status >= 500 && error instanceof MatrixError) req.log.warn({ errcode: err.errcode }, err.message);
    return reply.code(err.status).headers(err.headers).send(err.body());
  });

  // The read gate's hooks (before the routes): gated routes must pass it; security decisions audited.
  registerReadGateHooks(http, app);
  registerVersionRoutes(http, app);
  registerRegisterRoutes(http, app);
  registerLoginRoutes(http, app);
  registerAccountRoutes(http, app);
  registerDeviceRoutes(http, app);
  registerProfileRoutes(http, app);
  registerAccountDataRoutes(http, app);
  registerFilterRoutes(http, app);
  registerSharedSecretRoutes(http, app);
  registerRegistrationTokenAdminRoutes(http, app);
  registerRoomRoutes(http, app);
  registerMembershipRoutes(http, app);
  registerAliasRoutes(http, app);
  registerSearchRoutes(http, app);
  registerRelationRoutes(http, app);
  registerSyncRoutes(http, app);
  registerEphemeralRoutes(http, app);
  registerDiscoveryRoutes(http, app);
  registerRoomExtraRoutes(http, app);
  registerPushRuleRoutes(http, app);
  registerPusherRoutes(http, app);
  registerNotificationRoutes(http, app);
  registerLockAdminRoutes(http, app);
  registerPolicyRoutes(http, app);
  registerAccountValidityAdminRoutes(http, app);
  registerUserAdminRoutes(http, app);
  registerRoomAdminRoutes(http, app);
  registerReportAdminRoutes(http, app);
  registerServerNoticeAdminRoutes(http, app);
  registerVersionAdminRoutes(http, app);
  registerWebPages(http, app);
  registerKeyRoutes(http, app);
  registerToDeviceRoutes(http, app);
  registerRoomKeyRoutes(http, app);
  registerDehydratedDeviceRoutes(http, app);
  registerMediaRoutes(http, app);
  registerMediaAdminRoutes(http, app);
  registerSecurityAdminRoutes(http, app);
  registerConsolePage(http, app);
  registerForensicsAdminRoutes(http, app);
  return http;
}
