// The account security page (/_rempart/account), behind a web login session: second factors
// (authenticator app, recovery codes, security keys/passkeys), the email for security alerts, and
// the user's sessions (device, IP, last seen) which they can end. A session in the "enrol" state
// (second factor required, none yet) sees only the enrolment sections until it has one.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { App } from "../../app.js";
import { MatrixError } from "../errors.js";
import type { WebSession } from "../../security/web-sessions.js";
import { alertBox, csrfField, esc, focusScript, pickLang, sendPage, translator, withLang, type T } from "./page.js";
import { checkCsrf, currentSession, nextStep } from "./web-session.js";
import { registerWebAuthnScript } from "./webauthn-script.js";

const fmtTime = (ts: number | null | undefined, lang: string) =>
  ts ? new Date(ts).toLocaleString(lang === "fr" ? "fr-FR" : "en-GB", { timeZone: "UTC", dateStyle: "medium", timeStyle: "short" }) + " UTC" : "—";

export function registerAccountPages(http: FastifyInstance, app: App): void {
  /** The session of a signed-in user (full, or enrolling); otherwise a redirect to the login. */
  const signedIn = async (req: FastifyRequest, reply: FastifyReply): Promise<{ s: WebSession; t: T } | undefined> => {
    const s = await currentSession(app, req);
    const t = translator(pickLang(req, s?.data.lang));
    if (!s || (s.state !== "full" && s.state !== "enrol")) {
      await reply.redirect(withLang(`/_rempart/login?then=${encodeURIComponent("/_rempart/account")}`, t.lang), 303);
      return undefined;
    }
    return { s, t };
  };

  /** A one-button form; `what` names the object for screen readers when the same button repeats. */
  const form = (t: T, s: WebSession, action: string, inner: string, button: string, cls = "", what = "") =>
    `<form method="post" action="${esc(withLang(action, t.lang))}">${csrfField(s.csrf)}${inner}<button type="submit"${cls ? ` class="${cls}"` : ""}>${esc(button)}${what ? `<span class="skip"> ${esc(what)}</span>` : ""}</button></form>`;

  http.get("/_rempart/account", async (req, reply) => {
    const ok = await signedIn(req, reply);
    if (!ok) return reply;
    const { s, t } = ok;
    const userId = s.userId!;
    const f = await app.mfa.factors(userId);
    const keys = await app.mfa.webauthn.list(userId);
    const enrol = s.state === "enrol";
    const notice = (req.query as Record<string, unknown>).done === "1" ? `<p class="info" role="status">${esc(t("done"))}</p>` : "";
    let body = `<p>${esc(t("signed_in_as", { user: userId }))}</p>${notice}${enrol ? alertBox(t("enrol_required")) : ""}
<h2>${esc(t("totp_section"))}</h2><p>${esc(f.totp ? t("totp_on") : t("totp_off"))}</p>
${f.totp ? form(t, s, "/_rempart/account/totp/delete", "", t("totp_remove"), "secondary") : `<p><a href="${esc(withLang("/_rempart/account/totp", t.lang))}" id="totp-setup">${esc(t("totp_setup"))}</a></p>`}
<h2>${esc(t("webauthn_section"))}</h2>
${keys.length ? `<ul>${keys.map((k) => `<li>${esc(k.name)} (${esc(fmtTime(k.created_ts, t.lang))}) ${form(t, s, "/_rempart/account/webauthn/delete", `<input type="hidden" name="id" value="${esc(k.id)}">`, t("remove"), "secondary", k.name)}</li>`).join("")}</ul>` : `<p>${esc(t("webauthn_none"))}</p>`}
<form id="webauthn-register"><label for="webauthn-name">${esc(t("webauthn_name"))}</label><input type="text" id="webauthn-name" name="name" maxlength="100" value="Security key">
<button type="submit" class="secondary">${esc(t("webauthn_add"))}</button></form><p id="webauthn-status" aria-live="polite"></p>`;
    if (!enrol) {
      const devices = await app.devices.list(userId);
      const email = await app.loginAlerts.emailOf(userId);
      body += `<h2>${esc(t("recovery_section"))}</h2><p>${esc(t("recovery_count", { n: f.recoveryCodes }))}</p>
${form(t, s, "/_rempart/account/recovery-codes", "", t("recovery_generate"), "secondary")}
<h2>${esc(t("sessions_section"))}</h2>
<table><caption class="skip">${esc(t("sessions_section"))}</caption><thead><tr><th scope="col">${esc(t("session_device"))}</th><th scope="col">${esc(t("session_ip"))}</th><th scope="col">${esc(t("session_last_seen"))}</th><th scope="col"><span class="skip">${esc(t("session_end"))}</span></th></tr></thead><tbody>
${devices
  .map(
    (d) =>
      `<tr><td>${d.display_name ? `${esc(d.display_name)} ` : ""}<span class="mono">${esc(d.device_id)}</span></td><td class="mono">${esc(d.last_seen_ip ?? "—")}</td><td>${esc(fmtTime(d.last_seen_ts, t.lang))}</td><td>${form(t, s, "/_rempart/account/sessions/delete", `<input type="hidden" name="device_id" value="${esc(d.device_id)}">`, t("session_end"), "secondary", d.device_id)}</td></tr>`,
  )
  .join("")}</tbody></table>
<h2>${esc(t("email_section"))}</h2>
${form(t, s, "/_rempart/account/email", `<label for="email">${esc(t("email_label"))}</label><input type="email" id="email" name="email" autocomplete="email" value="${esc(email ?? "")}">`, t("email_save"), "secondary")}`;
    }
    body += `<h2>${esc(t("logout"))}</h2>${form(t, s, "/_rempart/logout", "", t("logout"), "secondary")}`;
    return sendPage(reply, { t, title: t("account_title"), path: "/_rempart/account", body, script: registerWebAuthnScript(s.csrf, t("key_failed")) });
  });

  const totpSetupPage = (reply: FastifyReply, t: T, s: WebSession, secret: string, uri: string, error?: string) =>
    sendPage(
      reply,
      {
        t,
        title: t("totp_setup_title"),
        path: "/_rempart/account/totp",
        body: `${alertBox(error)}<p>${esc(t("totp_setup_intro"))}</p>
<p>${esc(t("totp_key"))} <code id="totp-secret">${esc(secret.replace(/(.{4})/g, "$1 ").trim())}</code></p>
<p><a href="${esc(uri)}" id="totp-uri">${esc(t("totp_link"))}</a></p>
${form(t, s, "/_rempart/account/totp", `<label for="code">${esc(t("totp_enrol_code"))}</label><input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="numeric" required>`, t("submit_confirm"))}
<p><a href="${esc(withLang("/_rempart/account", t.lang))}">${esc(t("back_to_account"))}</a></p>`,
        script: focusScript,
      },
      error ? 400 : 200,
    );

  http.get("/_rempart/account/totp", async (req, reply) => {
    const ok = await signedIn(req, reply);
    if (!ok) return reply;
    const { s, t } = ok;
    const { secret, uri } = app.mfa.totp.newSecret(s.userId!);
    const next = await app.webSessions.save(s, { data: { ...s.data, pendingTotp: app.mfa.box.seal(secret) } });
    return totpSetupPage(reply, t, next, secret, uri);
  });

  /** A factor was added: an enrolling session is now complete; first factor → recovery codes. */
  const factorAdded = async (s: WebSession, kind: string, ip: string): Promise<WebSession> => {
    app.securityEvents.emit({ type: `mfa.${kind}.enrolled`, userId: s.userId!, ip });
    await app.loginAlerts.notify(s.userId!, "factor_added", { kind, ip });
    return app.webSessions.save(s, { state: s.state === "enrol" ? "full" : s.state, data: { ...s.data, pendingTotp: undefined } });
  };

  const recoveryPage = async (reply: FastifyReply, t: T, s: WebSession) => {
    const codes = await app.mfa.recovery.generate(s.userId!);
    app.securityEvents.emit({ type: "mfa.recovery_codes.generated", userId: s.userId! });
    const next = withLang(nextStep(s) === "/_rempart/account" ? "/_rempart/account" : nextStep(s), t.lang);
    return sendPage(reply, {
      t,
      title: t("recovery_title"),
      path: "/_rempart/account",
      body: `<p>${esc(t("recovery_intro"))}</p><ul id="recovery-codes" class="mono">${codes.map((c) => `<li>${esc(c)}</li>`).join("")}</ul>
<p><a href="${esc(next)}" id="recovery-continue">${esc(t("back_to_account"))}</a></p>`,
    });
  };

  http.post("/_rempart/account/totp", async (req, reply) => {
    const ok = await signedIn(req, reply);
    if (!ok) return reply;
    const { s, t } = ok;
    checkCsrf(s, req);
    if (!s.data.pendingTotp) return reply.redirect(withLang("/_rempart/account/totp", t.lang), 303);
    const secret = app.mfa.box.open(s.data.pendingTotp);
    const code = String((req.body as Record<string, unknown>).code ?? "");
    if (!(await app.mfa.totp.enrol(s.userId!, secret, code))) {
      return totpSetupPage(reply, t, s, secret, app.mfa.totp.newSecret(s.userId!).uri.replace(/secret=[A-Z2-7]+/, `secret=${secret}`), t("code_failed"));
    }
    const next = await factorAdded(s, "totp", req.ip);
    if ((await app.mfa.recovery.remaining(s.userId!)) === 0) return recoveryPage(reply, t, next);
    return reply.redirect(withLang(nextStep(next) === "/_rempart/account" ? "/_rempart/account?done=1" : nextStep(next), t.lang), 303);
  });

  http.post("/_rempart/account/totp/delete", async (req, reply) => {
    const ok = await signedIn(req, reply);
    if (!ok) return reply;
    checkCsrf(ok.s, req);
    await app.mfa.totp.remove(ok.s.userId!);
    app.securityEvents.emit({ type: "mfa.totp.removed", userId: ok.s.userId!, ip: req.ip });
    return reply.redirect(withLang("/_rempart/account?done=1", ok.t.lang), 303);
  });

  http.post("/_rempart/account/recovery-codes", async (req, reply) => {
    const ok = await signedIn(req, reply);
    if (!ok) return reply;
    checkCsrf(ok.s, req);
    if (ok.s.state !== "full") throw new MatrixError(403, "M_FORBIDDEN", "Set up a second factor first");
    return recoveryPage(reply, ok.t, ok.s);
  });

  http.post("/_rempart/account/webauthn/options", async (req) => {
    const s = await currentSession(app, req);
    if (!s || (s.state !== "full" && s.state !== "enrol")) throw new MatrixError(403, "M_FORBIDDEN", "Sign in first");
    checkCsrf(s, req);
    const user = await app.accounts.getUser(s.userId!);
    const options = await app.mfa.webauthn.registrationOptions(s.userId!, user?.displayname ?? s.userId!);
    await app.webSessions.save(s, { data: { ...s.data, challenge: options.challenge } });
    return options;
  });

  http.post("/_rempart/account/webauthn", async (req) => {
    const s = await currentSession(app, req);
    if (!s || (s.state !== "full" && s.state !== "enrol") || !s.data.challenge) throw new MatrixError(403, "M_FORBIDDEN", "Sign in first");
    checkCsrf(s, req);
    const body = (req.body ?? {}) as Record<string, unknown>;
    const name = typeof body.name === "string" ? body.name.trim() : "";
    const ok = await app.mfa.webauthn.register(s.userId!, body.response, s.data.challenge, name);
    const cleared = await app.webSessions.save(s, { data: { ...s.data, challenge: undefined } });
    if (!ok) return { ok: false };
    const next = await factorAdded(cleared, "webauthn", req.ip);
    const lang = pickLang(req, s.data.lang);
    return { ok: true, next: withLang(nextStep(next) === "/_rempart/account" ? "/_rempart/account?done=1" : nextStep(next), lang) };
  });

  http.post("/_rempart/account/webauthn/delete", async (req, reply) => {
    const ok = await signedIn(req, reply);
    if (!ok) return reply;
    checkCsrf(ok.s, req);
    await app.mfa.webauthn.remove(ok.s.userId!, String((req.body as Record<string, unknown>).id ?? ""));
    app.securityEvents.emit({ type: "mfa.webauthn.removed", userId: ok.s.userId!, ip: req.ip });
    return reply.redirect(withLang("/_rempart/account?done=1", ok.t.lang), 303);
  });

  http.post("/_rempart/account/sessions/delete", async (req, reply) => {
    const ok = await signedIn(req, reply);
    if (!ok) return reply;
    checkCsrf(ok.s, req);
    if (ok.s.state !== "full") throw new MatrixError(403, "M_FORBIDDEN", "Set up a second factor first");
    const deviceId = String((req.body as Record<string, unknown>).device_id ?? "");
    await app.devices.delete(ok.s.userId!, [deviceId]);
    app.securityEvents.emit({ type: "session.ended_by_user", userId: ok.s.userId!, ip: req.ip, detail: { device_id: deviceId } });
    return reply.redirect(withLang("/_rempart/account?done=1", ok.t.lang), 303);
  });

  http.post("/_rempart/account/email", async (req, reply) => {
    const ok = await signedIn(req, reply);
    if (!ok) return reply;
    checkCsrf(ok.s, req);
    if (ok.s.state !== "full") throw new MatrixError(403, "M_FORBIDDEN", "Set up a second factor first");
    const email = String((req.body as Record<string, unknown>).email ?? "").trim();
    if (email !== "" && !/^[^\s@<>]{1,64}@[^\s@<>]{1,255}$/.test(email)) throw new MatrixError(400, "M_INVALID_PARAM", "Invalid email address");
    await app.loginAlerts.setEmail(ok.s.userId!, email === "" ? null : email);
    return reply.redirect(withLang("/_rempart/account?done=1", ok.t.lang), 303);
  });
}
