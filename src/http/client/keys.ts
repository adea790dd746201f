// End-to-end keys (client-server API "End-to-End Encryption", "Cross-signing"): upload, query,
// claim, changes, cross-signing keys and signatures.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { optionalBody, parseBody, text } from "../body.js";
import { authenticate } from "../auth.js";
import { missingParam } from "../errors.js";
import { strParam, type Query } from "./params.js";
import { parseToken } from "../../sync/token.js";
import { reauthFlows } from "../../accounts/uia-stages.js";

const C = "/_matrix/client/v3";
const obj = () => z.record(text(), z.unknown());

const uploadBody = z.looseObject({
  device_keys: obj().optional(),
  one_time_keys: obj().optional(),
  fallback_keys: obj().optional(),
});

const queryBody = z.looseObject({
  device_keys: z.record(text(), z.array(text()).max(10_000)),
  timeout: z.number().int().min(0).optional(),
  token: z.string().optional(),
});

const claimBody = z.looseObject({
  one_time_keys: z.record(text(), z.record(text(), text())),
  timeout: z.number().int().min(0).optional(),
});

const deviceSigningBody = z.looseObject({
  master_key: obj().optional(),
  self_signing_key: obj().optional(),
  user_signing_key: obj().optional(),
  auth: z.unknown().optional(),
});

const signaturesBody = z.record(text(), z.record(text(), obj()));

export function registerKeyRoutes(http: FastifyInstance, app: App): void {
  const e = app.e2ee;

  http.post(`${C}/keys/upload`, async (req) => {
    const who = await authenticate(app, req);
    const body = optionalBody(uploadBody, req.body);
    return e.deviceKeys.upload(who.userId, who.deviceId, body);
  });

  http.post(`${C}/keys/query`, async (req) => {
    const who = await authenticate(app, req);
    const body = parseBody(queryBody, req.body);
    return e.deviceKeys.query(who.userId, body.device_keys);
  });

  http.post(`${C}/keys/claim`, async (req) => {
    await authenticate(app, req);
    const body = parseBody(claimBody, req.body);
    return e.oneTimeKeys.claim(body.one_time_keys);
  });

  http.get(`${C}/keys/changes`, async (req) => {
    const who = await authenticate(app, req);
    const q = req.query as Query;
    const from = strParam(q, "from");
    const to = strParam(q, "to");
    if (from === undefined || to === undefined) throw missingParam("from and to are required");
    const a = parseToken(from).device_lists;
    const b = Math.min(parseToken(to).device_lists, e.deviceLists.current());
    return e.deviceLists.changes(who.userId, a, b);
  });

  // Cross-signing: user-interactive auth unless this is the first master key or an exact retry.
  http.post(`${C}/keys/device_signing/upload`, async (req) => {
    const who = await authenticate(app, req);
    const body = optionalBody(deviceSigningBody, req.body);
    const { auth, ...keys } = body;
    if (await e.crossSigning.needsAuth(who.userId, keys)) {
      await app.uia.check({ purpose: "upload cross-signing keys", flows: await reauthFlows(app, who.userId), userId: who.userId }, auth);
    }
    await e.crossSigning.upload(who.userId, keys);
    return {};
  });

  http.post(`${C}/keys/signatures/upload`, async (req) => {
    const who = await authenticate(app, req);
    const body = parseBody(signaturesBody, req.body);
    return e.crossSigning.uploadSignatures(who.userId, body);
  });
}
