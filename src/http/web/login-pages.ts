// Rempart's own web login (issue 9): the page m.login.sso leads to. Password first (through the same
// login guard as /login), then the second factor (TOTP, recovery code or WebAuthn), then a
// confirmation naming the application, which returns to the client's redirectUrl with a single-use
// loginToken for m.login.token (client-server API "Client login via SSO").
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { App } from "../../app.js";
import { MatrixError } from "../errors.js";
import type { WebSession, WebState } from "../../security/web-sessions.js";
import { alertBox, csrfField, esc, focusScript, pickLang, sendPage, translator, withLang, type T } from "./page.js";
import { checkCsrf, currentSession, nextStep, safeLocalPath, setSessionCookie } from "./web-session.js";
import { loginWebAuthnScript } from "./webauthn-script.js";

type Req = FastifyRequest;
const MAX_CODE_FAILURES = 5;

export function registerLoginPages(http: FastifyInstance, app: App): void {
  const go = (reply: FastifyReply, s: WebSession, lang: string) => reply.redirect(withLang(nextStep(s), lang as "en"), 303);

  /** The state a user reaches once the password is right. */
  const afterPassword = async (userId: string): Promise<WebState> => {
    if (app.config.login_security.mfa === "off") return "full";
    if (await app.mfa.hasFactor(userId)) return "password";
    if (await app.mfa.requiredFor(userId)) return "enrol";
    return "full";
  };

  const loginForm = (reply: FastifyReply, t: T, s: WebSession, error?: string, status = 200) =>
    sendPage(
      reply,
      {
        t,
        title: t("login_title"),
        path: "/_rempart/login",
        body: `${alertBox(error)}<p>${esc(t("login_intro", { server: app.config.server_name }))}</p>
<form method="post" action="${esc(withLang("/_rempart/login", t.lang))}">${csrfField(s.csrf)}
<label for="username">${esc(t("username"))}</label><input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required>
<label for="password">${esc(t("password"))}</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">${esc(t("submit_login"))}</button></form>`,
        script: focusScript,
      },
      status,
    );

  http.get("/_rempart/login", async (req, reply) => {
    const q = req.query as Record<string, unknown>;
    const t = translator(pickLang(req));
    const redirect = typeof q.redirect_url === "string" && /^https?:\/\//i.test(q.redirect_url) && URL.canParse(q.redirect_url) ? q.redirect_url : undefined;
    const then = safeLocalPath(q.then);
    const old = await currentSession(app, req);
    // Without a new destination, a signed-in browser goes on where it was; otherwise sign in afresh.
    if (old && old.state !== "anon" && !redirect && !then) return go(reply, old, t.lang);
    if (old) await app.webSessions.end(old.id);
    const s = await app.webSessions.create({ redirect, then, lang: t.lang });
    setSessionCookie(app, reply, s);
    return loginForm(reply, t, s);
  });

  http.post("/_rempart/login", async (req, reply) => {
    const s = await currentSession(app, req);
    const t = translator(pickLang(req, s?.data.lang));
    if (!s) return expired(reply, t);
    checkCsrf(s, req);
    const body = req.body as Record<string, unknown>;
    const user = typeof body.username === "string" ? body.username : "";
    const password = typeof body.password === "string" ? body.password : "";
    if (!user || !password) return loginForm(reply, t, s, t("login_failed"), 400);
    let userId: string;
    try {
      userId = await app.passwordLogin.attempt(user, password, req.ip);
    } catch (e) {
      if (!(e instanceof MatrixError)) throw e;
      const msg = e.errcode === "M_FORBIDDEN" && e.message === "Invalid username or password" ? t("login_failed") : e.message;
      return loginForm(reply, t, s, msg, e.status === 429 ? 429 : 403);
    }
    const next = await app.webSessions.save(s, { userId, state: await afterPassword(userId) });
    app.securityEvents.emit({ type: "web.password_ok", userId, ip: req.ip, detail: { next: next.state } });
    return go(reply, next, t.lang);
  });

  const mfaPage = async (reply: FastifyReply, t: T, s: WebSession, error?: string, status = 200) => {
    const keys = await app.mfa.webauthn.count(s.userId!);
    return sendPage(
      reply,
      {
        t,
        title: t("mfa_title"),
        path: "/_rempart/login/mfa",
        body: `${alertBox(error)}<p>${esc(t("mfa_intro"))}</p>
<form method="post" action="${esc(withLang("/_rempart/login/mfa", t.lang))}">${csrfField(s.csrf)}
<label for="code">${esc(t("totp_code"))}</label><input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="text" autocapitalize="none" spellcheck="false" required>
<button type="submit">${esc(t("submit_code"))}</button></form>
${keys > 0 ? `<p><button type="button" class="secondary" id="webauthn-login">${esc(t("use_key"))}</button></p><p id="webauthn-status" aria-live="polite"></p>` : ""}`,
        script: focusScript + (keys > 0 ? loginWebAuthnScript(s.csrf, t("key_failed")) : ""),
      },
      status,
    );
  };

  const inState = async (req: Req, reply: FastifyReply, state: WebState): Promise<{ s: WebSession; t: T } | undefined> => {
    const s = await currentSession(app, req);
    const t = translator(pickLang(req, s?.data.lang));
    if (!s) {
      await expired(reply, t);
      return undefined;
    }
    if (s.state !== state) {
      await go(reply, s, t.lang);
      return undefined;
    }
    return { s, t };
  };

  http.get("/_rempart/login/mfa", async (req, reply) => {
    const ok = await inState(req, reply, "password");
    if (ok) return mfaPage(reply, ok.t, ok.s);
    return reply;
  });

  http.post("/_rempart/login/mfa", async (req, reply) => {
    const ok = await inState(req, reply, "password");
    if (!ok) return reply;
    const { s, t } = ok;
    checkCsrf(s, req);
    const code = String((req.body as Record<string, unknown>).code ?? "");
    const how = await app.mfa.verifyCode(s.userId!, code, req.ip);
    if (!how) {
      const failures = (s.data.codeFailures ?? 0) + 1;
      // A handful of tries per password: guessing 6 digits means guessing the password again.
      if (failures >= MAX_CODE_FAILURES) {
        await app.webSessions.end(s.id);
        setSessionCookie(app, reply, null);
        return reply.redirect(withLang("/_rempart/login", t.lang), 303);
      }
      const next = await app.webSessions.save(s, { data: { ...s.data, codeFailures: failures } });
      return mfaPage(reply, t, next, t("code_failed"), 403);
    }
    const next = await app.webSessions.save(s, { state: "full", data: { ...s.data, codeFailures: 0 } });
    app.securityEvents.emit({ type: "web.mfa_ok", userId: s.userId!, ip: req.ip, detail: { factor: how } });
    return go(reply, next, t.lang);
  });

  http.post("/_rempart/login/webauthn/options", async (req) => {
    const s = await currentSession(app, req);
    if (!s || s.state !== "password") throw new MatrixError(403, "M_FORBIDDEN", "No second factor is expected");
    checkCsrf(s, req);
    const options = await app.mfa.webauthn.authenticationOptions(s.userId!);
    await app.webSessions.save(s, { data: { ...s.data, challenge: options.challenge } });
    return options;
  });

  http.post("/_rempart/login/webauthn", async (req) => {
    const s = await currentSession(app, req);
    if (!s || s.state !== "password" || !s.data.challenge) throw new MatrixError(403, "M_FORBIDDEN", "No second factor is expected");
    checkCsrf(s, req);
    const response = (req.body as Record<string, unknown> | undefined)?.response;
    const ok = await app.mfa.webauthn.authenticate(s.userId!, response, s.data.challenge);
    // A challenge serves once, whatever the outcome.
    const data = { ...s.data, challenge: undefined };
    if (!ok) {
      await app.webSessions.save(s, { data });
      app.securityEvents.emit({ type: "mfa.webauthn.failed", userId: s.userId!, ip: req.ip });
      return { ok: false };
    }
    const next = await app.webSessions.save(s, { state: "full", data });
    app.securityEvents.emit({ type: "web.mfa_ok", userId: s.userId!, ip: req.ip, detail: { factor: "webauthn" } });
    return { ok: true, next: withLang(nextStep(next), pickLang(req, s.data.lang)) };
  });

  http.get("/_rempart/login/continue", async (req, reply) => {
    const ok = await inState(req, reply, "full");
    if (!ok) return reply;
    const { s, t } = ok;
    if (!s.data.redirect) return go(reply, s, t.lang);
    const host = new URL(s.data.redirect).host;
    return sendPage(reply, {
      t,
      title: t("continue_title"),
      path: "/_rempart/login/continue",
      formActionAnywhere: true,
      body: `<p>${esc(t("continue_intro", { user: s.userId!, host }))}</p><p class="info">${esc(t("continue_warning"))}</p>
<form method="post" action="${esc(withLang("/_rempart/login/continue", t.lang))}">${csrfField(s.csrf)}
<button type="submit" id="continue">${esc(t("submit_continue", { host }))}</button></form>`,
      script: `document.getElementById('continue').focus();`,
    });
  });

  http.post("/_rempart/login/continue", async (req, reply) => {
    const ok = await inState(req, reply, "full");
    if (!ok) return reply;
    const { s } = ok;
    checkCsrf(s, req);
    if (!s.data.redirect) return go(reply, s, ok.t.lang);
    const target = new URL(s.data.redirect);
    target.searchParams.set("loginToken", await app.loginTokens.issue(s.userId!));
    await app.webSessions.save(s, { data: { ...s.data, redirect: undefined } });
    app.securityEvents.emit({ type: "web.login_token_issued", userId: s.userId!, ip: req.ip, detail: { host: target.host } });
    return reply.header("referrer-policy", "no-referrer").redirect(target.toString(), 303);
  });

  http.post("/_rempart/logout", async (req, reply) => {
    const s = await currentSession(app, req);
    if (s) {
      checkCsrf(s, req);
      await app.webSessions.end(s.id);
    }
    setSessionCookie(app, reply, null);
    return reply.redirect(withLang("/_rempart/login", pickLang(req, s?.data.lang)), 303);
  });

  const expired = (reply: FastifyReply, t: T) =>
    sendPage(reply, { t, title: t("login_title"), body: `${alertBox(t("expired"))}<p><a href="${esc(withLang("/_rempart/login", t.lang))}">${esc(t("login_title"))}</a></p>`, script: focusScript }, 403);
}
