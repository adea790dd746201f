// Routes of the government model (docs/government-model.md): the email → server /info lookup,
// email validation (requestToken, submitToken), binding an email, the user directory, account
// validity renewal. The rules live in src/policy.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { gate } from "../gate.js";
import { authenticate } from "../auth.js";
import { parseBody, text } from "../body.js";
import { missingParam, notFound } from "../errors.js";
import { reauthFlows } from "../../accounts/uia-stages.js";
import { strParam, type Query } from "./params.js";

const requestTokenBody = z.looseObject({
  client_secret: text().min(1).max(255),
  email: text().min(1).max(254),
  send_attempt: z.number().int().min(0),
  next_link: z.string().max(2048).optional(),
  id_server: z.string().optional(),
  id_access_token: z.string().optional(),
});
const submitBody = z.looseObject({ sid: text().min(1).max(255), client_secret: text().min(1).max(255), token: text().min(1).max(255) });
const addBody = z.looseObject({ auth: z.unknown().optional(), client_secret: text().min(1).max(255), sid: text().min(1).max(255) });
const searchBody = z.looseObject({ search_term: text().max(256), limit: z.number().int().min(1).max(1000).optional() });

export function registerPolicyRoutes(http: FastifyInstance, app: App): void {
  const rl = app.config.rate_limiting;
  // Mails cost money and annoy people: requestToken shares the registration rate limit.
  const limit = (ip: string) => app.rateLimiter.take("register", ip, rl.register_per_second, rl.register_burst);

  // Which server an address belongs to (Tchap's identity-server /info): public, like Tchap's.
  http.get("/_matrix/identity/api/v1/info", async (req) => {
    // Rate-limited: the answer says whether an address has a pending invitation.
    limit(req.ip);
    const q = req.query as Query;
    const medium = strParam(q, "medium");
    const address = strParam(q, "address");
    if (medium === undefined || address === undefined) throw missingParam("medium and address are required");
    if (medium !== "email") return { hs: app.policy.externalsServer, invited: false };
    return app.policy.info(address);
  });

  // Client-server API "POST /register/email/requestToken".
  http.post("/_matrix/client/v3/register/email/requestToken", async (req) => {
    limit(req.ip);
    return app.policy.requestEmailToken("register", parseBody(requestTokenBody, req.body));
  });

  // Client-server API "POST /account/3pid/email/requestToken": unauthenticated in the spec (and
  // matrix-js-sdk sends no token); the binding itself (/account/3pid/add) needs the account's auth.
  http.post("/_matrix/client/v3/account/3pid/email/requestToken", async (req) => {
    limit(req.ip);
    return app.policy.requestEmailToken("add", parseBody(requestTokenBody, req.body));
  });

  // The submit_url returned by requestToken: the code typed in the client (POST) or the mailed link (GET).
  const submit = "/_matrix/identity/v2/validate/email/submitToken";
  http.post(submit, async (req) => {
    const b = parseBody(submitBody, req.body);
    return { success: await app.policy.validation.submitToken(b.sid, b.client_secret, b.token) };
  });
  http.get(submit, async (req, reply) => {
    const q = req.query as Query;
    const sid = strParam(q, "sid");
    const secret = strParam(q, "client_secret");
    const token = strParam(q, "token");
    if (!sid || !secret || !token) throw missingParam("sid, client_secret and token are required");
    const ok = await app.policy.validation.submitToken(sid, secret, token);
    reply.type("text/plain; charset=utf-8");
    return ok ? "Adresse validée / Address validated. Retournez à votre application / Go back to your application.\n" : "Code invalide / Invalid code.\n";
  });

  // Client-server API "POST /account/3pid/add" (user-interactive auth, then the validated session).
  http.post("/_matrix/client/v3/account/3pid/add", async (req) => {
    const who = await authenticate(app, req);
    const b = parseBody(addBody, req.body);
    await app.uia.check({ purpose: "add 3pid", flows: await reauthFlows(app, who.userId), userId: who.userId }, b.auth);
    await app.policy.addEmail(who.userId, b.sid, b.client_secret);
    return {};
  });

  // Identity service "Key management", for the key of m.room.third_party_invite events.
  http.get("/_matrix/identity/v2/pubkey/isvalid", async (req) => {
    const key = strParam(req.query as Query, "public_key");
    if (!key) throw missingParam("public_key is required");
    return { valid: app.policy.isValidPublicKey(key) };
  });
  http.get<{ Params: { keyId: string } }>("/_matrix/identity/v2/pubkey/:keyId", async (req) => {
    const key = app.policy.publicKey(req.params.keyId);
    if (!key) throw notFound("Unknown key");
    return { public_key: key };
  });

  // Client-server API "POST /user_directory/search".
  http.post("/_matrix/client/v3/user_directory/search", async (req) => {
    const who = await authenticate(app, req);
    const b = parseBody(searchBody, req.body);
    const res = await app.userDirectory.search(who.userId, b.search_term, b.limit ?? 10);
    await gate(app, req, who, "user_directory", { directory: { query: b.search_term, results: res.results.length } });
    return res;
  });

  // Synapse's account validity endpoints (the renewal link, and a new mail on request).
  http.get("/_matrix/client/unstable/account_validity/renew", async (req) => {
    const token = strParam(req.query as Query, "token");
    if (!token) throw missingParam("token is required");
    return { expiration_ts: await app.accountValidity.renew(token) };
  });
  http.post("/_matrix/client/unstable/account_validity/send_mail", async (req) => {
    const who = await authenticate(app, req);
    limit(req.ip);
    await app.accountValidity.sendRenewalMail(who.userId);
    return {};
  });
}
