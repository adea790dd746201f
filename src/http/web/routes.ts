// Rempart's web pages (issue 9): login with a second factor, account security, "this was not me",
// and the UIA fallback page for m.login.sso. They live in their own fastify scope so that HTML form
// bodies (application/x-www-form-urlencoded) are parsed here and nowhere in the Matrix API.
import type { FastifyInstance } from "fastify";
import type { App } from "../../app.js";
import { registerLoginPages } from "./login-pages.js";
import { registerAccountPages } from "./account-pages.js";
import { alertBox, csrfField, esc, focusScript, pickLang, sendPage, translator, withLang } from "./page.js";
import { checkCsrf, currentSession } from "./web-session.js";

export function registerWebPages(http: FastifyInstance, app: App): void {
  void http.register(async (scope) => {
    scope.addContentTypeParser("application/x-www-form-urlencoded", { parseAs: "string", bodyLimit: 64 * 1024 }, (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    registerLoginPages(scope, app);
    registerAccountPages(scope, app);
    registerNotMe(scope, app);
    registerFallback(scope, app);
  });
}

function registerNotMe(http: FastifyInstance, app: App): void {
  // GET only shows the question (mail scanners and link previews follow links); POST acts.
  http.get("/_rempart/not-me", async (req, reply) => {
    const t = translator(pickLang(req));
    const token = String((req.query as Record<string, unknown>).token ?? "");
    const userId = token ? await app.loginAlerts.notMeUser(token) : undefined;
    if (!userId) return sendPage(reply, { t, title: t("not_me_title"), body: alertBox(t("not_me_invalid")) }, 404);
    return sendPage(reply, {
      t,
      title: t("not_me_title"),
      path: `/_rempart/not-me?token=${encodeURIComponent(token)}`,
      body: `<p>${esc(userId)}</p><p>${esc(t("not_me_intro"))}</p>
<form method="post" action="${esc(withLang("/_rempart/not-me", t.lang))}"><input type="hidden" name="token" value="${esc(token)}"><button type="submit" id="not-me">${esc(t("not_me_submit"))}</button></form>`,
    });
  });

  http.post("/_rempart/not-me", async (req, reply) => {
    const t = translator(pickLang(req));
    const token = String(((req.body ?? {}) as Record<string, unknown>).token ?? "");
    const userId = token ? await app.loginAlerts.reportNotMe(token, req.ip) : undefined;
    if (!userId) return sendPage(reply, { t, title: t("not_me_title"), body: alertBox(t("not_me_invalid")) }, 404);
    req.log.warn({ user_id: userId }, "account locked by its owner (this was not me)");
    return sendPage(reply, { t, title: t("not_me_title"), body: `<p class="info" role="status">${esc(t("not_me_done"))}</p>` });
  });
}

/** Client-server API "Fallback": /_matrix/client/v3/auth/{authType}/fallback/web?session=… for the
 * m.login.sso stage: the user signs in on Rempart's web login (both factors), then confirms. */
function registerFallback(http: FastifyInstance, app: App): void {
  const path = "/_matrix/client/v3/auth/:stage/fallback/web";
  const prepare = async (req: import("fastify").FastifyRequest<{ Params: { stage: string } }>) => {
    const session = String((req.query as Record<string, unknown>).session ?? "");
    const uia = req.params.stage === "m.login.sso" && session ? await app.uia.describe(session) : undefined;
    const web = await currentSession(app, req);
    const t = translator(pickLang(req, web?.data.lang));
    return { session, uia, web, t, self: `/_matrix/client/v3/auth/m.login.sso/fallback/web?session=${encodeURIComponent(session)}` };
  };

  http.get<{ Params: { stage: string } }>(path, async (req, reply) => {
    const { session, uia, web, t, self } = await prepare(req);
    if (!uia || !uia.userId) return sendPage(reply, { t, title: t("fallback_title"), body: alertBox(t("expired")) }, 404);
    if (!web || web.state !== "full" || web.userId !== uia.userId) {
      return reply.redirect(`/_rempart/login?then=${encodeURIComponent(self)}&lang=${t.lang}`, 303);
    }
    return sendPage(reply, {
      t,
      title: t("fallback_title"),
      path: self,
      body: `<p>${esc(t("fallback_intro", { purpose: uia.purpose }))}</p><p>${esc(t("signed_in_as", { user: uia.userId }))}</p>
<form method="post" action="${esc(withLang(self, t.lang))}">${csrfField(web.csrf)}<input type="hidden" name="session" value="${esc(session)}"><button type="submit" id="confirm">${esc(t("fallback_submit"))}</button></form>`,
      script: focusScript + `document.getElementById('confirm').focus();`,
    });
  });

  http.post<{ Params: { stage: string } }>(path, async (req, reply) => {
    const { session, uia, web, t } = await prepare(req);
    if (!uia || !uia.userId || !web || web.state !== "full" || web.userId !== uia.userId) {
      return sendPage(reply, { t, title: t("fallback_title"), body: alertBox(t("expired")) }, 403);
    }
    checkCsrf(web, req);
    await app.uia.completeExternally(session, "m.login.sso", uia.userId);
    app.securityEvents.emit({ type: "uia.sso_completed", userId: uia.userId, ip: req.ip, detail: { purpose: uia.purpose } });
    return sendPage(reply, {
      t,
      title: t("fallback_title"),
      body: `<p class="info" role="status">${esc(t("fallback_done"))}</p>`,
      // The spec's signal to the client that opened this page.
      script: `if(window.onAuthDone){window.onAuthDone();}else if(window.opener&&window.opener.postMessage){window.opener.postMessage("authDone","*");}`,
    });
  });
}
