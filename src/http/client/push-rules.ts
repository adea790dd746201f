// Push rules (client-server API "Push Rules: API"): /pushrules/, /pushrules/global/ and each rule,
// its `enabled` flag and its `actions`.
import type { FastifyInstance } from "fastify";
import { z } from "zod";
import type { App } from "../../app.js";
import { authenticate } from "../auth.js";
import { parseBody, text } from "../body.js";
import { strParam, type Query } from "./params.js";
import { clientRuleset } from "../../push/push-rules.js";
import type { PushAction, PushCondition } from "../../matrix/push-rules.js";

const action = z.union([text().max(255), z.looseObject({ set_tweak: text().max(255) })]);
const actions = z.array(action).max(32);
const condition = z.looseObject({ kind: text().max(255), key: text().max(1024).optional(), pattern: text().max(1024).optional(), is: text().max(32).optional() });
const ruleBody = z.looseObject({ actions, conditions: z.array(condition).max(32).optional(), pattern: text().max(1024).optional() });

type RuleParams = { Params: { kind: string; ruleId: string } };

export function registerPushRuleRoutes(http: FastifyInstance, app: App): void {
  const v3 = "/_matrix/client/v3";

  http.get(`${v3}/pushrules/`, async (req) => {
    const who = await authenticate(app, req);
    return { global: clientRuleset(await app.pushRules.ruleset(who.userId)) };
  });

  http.get(`${v3}/pushrules/global/`, async (req) => {
    const who = await authenticate(app, req);
    return clientRuleset(await app.pushRules.ruleset(who.userId));
  });

  http.get<RuleParams>(`${v3}/pushrules/global/:kind/:ruleId`, async (req) => {
    const who = await authenticate(app, req);
    return app.pushRules.getRule(who.userId, req.params.kind, req.params.ruleId);
  });

  http.put<RuleParams>(`${v3}/pushrules/global/:kind/:ruleId`, async (req) => {
    const who = await authenticate(app, req);
    const body = parseBody(ruleBody, req.body);
    const q = req.query as Query;
    await app.pushRules.put(
      who.userId,
      req.params.kind,
      req.params.ruleId,
      { actions: body.actions as PushAction[], conditions: body.conditions as PushCondition[] | undefined, pattern: body.pattern },
      { before: strParam(q, "before"), after: strParam(q, "after") },
    );
    return {};
  });

  http.delete<RuleParams>(`${v3}/pushrules/global/:kind/:ruleId`, async (req) => {
    const who = await authenticate(app, req);
    await app.pushRules.delete(who.userId, req.params.kind, req.params.ruleId);
    return {};
  });

  http.get<RuleParams>(`${v3}/pushrules/global/:kind/:ruleId/enabled`, async (req) => {
    const who = await authenticate(app, req);
    return { enabled: await app.pushRules.getEnabled(who.userId, req.params.kind, req.params.ruleId) };
  });

  http.put<RuleParams>(`${v3}/pushrules/global/:kind/:ruleId/enabled`, async (req) => {
    const who = await authenticate(app, req);
    const body = parseBody(z.looseObject({ enabled: z.boolean() }), req.body);
    await app.pushRules.setEnabled(who.userId, req.params.kind, req.params.ruleId, body.enabled);
    return {};
  });

  http.get<RuleParams>(`${v3}/pushrules/global/:kind/:ruleId/actions`, async (req) => {
    const who = await authenticate(app, req);
    return { actions: await app.pushRules.getActions(who.userId, req.params.kind, req.params.ruleId) };
  });

  http.put<RuleParams>(`${v3}/pushrules/global/:kind/:ruleId/actions`, async (req) => {
    const who = await authenticate(app, req);
    const body = parseBody(z.looseObject({ actions }), req.body);
    await app.pushRules.setActions(who.userId, req.params.kind, req.params.ruleId, body.actions as PushAction[]);
    return {};
  });
}
