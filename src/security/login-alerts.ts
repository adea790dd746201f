// Alerts to the account owner (issue 9, step 7): a login from a new device or a new network, an
// added authenticator, a password change. Each alert is a server notice in the user's notices room
// (created by @<server_notices.localpart>:<server_name>, tagged m.server_notice, the user invited and
// joined; sent through app.rooms like any message, never inserted directly) and an email when the
// user gave an address for security alerts, both with a "this was not me" link: one click locks the
// account (every session ends) and alerts the server admins.
import { randomBytes } from "node:crypto";
import type { Logger } from "pino";
import type { App } from "../app.js";
import { usersRepo } from "../storage/users.js";
import { contactsRepo, knownLoginsRepo, notMeLinksRepo } from "../storage/login-security.js";
import { hashToken } from "../accounts/secrets.js";
import { networkOf } from "./network.js";
import { Mailer } from "./mailer.js";

export type AlertKind = "new_login" | "factor_added" | "password_changed";

const NOT_ME_LIFETIME_MS = 14 * 24 * 3_600_000;

const TEXT: Record<AlertKind, (d: Record<string, string>) => { subject: string; body: string }> = {
  new_login: (d) => ({
    subject: "New sign-in to your account",
    body: `New sign-in to your account ${d.user}: device ${d.device}, from ${d.ip}${d.agent ? ` (${d.agent})` : ""}.\nNouvelle connexion à votre compte ${d.user} : appareil ${d.device}, depuis ${d.ip}.`,
  }),
  factor_added: (d) => ({
    subject: "A second factor was added to your account",
    body: `A second factor (${d.kind}) was added to your account ${d.user}, from ${d.ip}.\nUn second facteur (${d.kind}) a été ajouté à votre compte ${d.user}, depuis ${d.ip}.`,
  }),
  password_changed: (d) => ({
    subject: "Your password was changed",
    body: `The password of your account ${d.user} was changed, from ${d.ip}.\nLe mot de passe de votre compte ${d.user} a été changé, depuis ${d.ip}.`,
  }),
};

export class LoginAlerts {
  private readonly known;
  private readonly links;
  private readonly contacts;
  private readonly mailer: Mailer;
  private lastAdminAlert = new Map<string, number>();

  constructor(
    private readonly app: App,
    private readonly log: Logger,
  ) {
    const db = app.storage.db;
    this.known = knownLoginsRepo(db);
    this.links = notMeLinksRepo(db);
    this.contacts = contactsRepo(db);
    this.mailer = new Mailer(app.config.smtp);
  }

  get noticesUser(): string {
    return `@${this.app.config.server_notices.localpart}:${this.app.config.server_name}`;
  }

  emailOf(userId: string): Promise<string | undefined> {
    return this.contacts.get(userId);
  }

  async setEmail(userId: string, email: string | null): Promise<void> {
    if (email === null) await this.contacts.clear(userId);
    else await this.contacts.set(userId, email);
  }

  /** Login hook: alerts on a new device or network, except for an account's very first login. */
  async loggedIn(userId: string, deviceId: string, ip: string, userAgent: string | null): Promise<void> {
    if (userId === this.noticesUser) return;
    const t = this.app.now();
    const first = (await this.known.count(userId)) === 0;
    const newDevice = await this.known.add(userId, `device:${deviceId}`, t);
    const newNet = await this.known.add(userId, `net:${networkOf(ip)}`, t);
    if (first || (!newDevice && !newNet) || !this.app.config.login_security.new_login_alerts) return;
    await this.notify(userId, "new_login", { device: deviceId, ip, agent: (userAgent ?? "").slice(0, 120) });
  }

  /** Sends one alert (notice + email); failures are logged, never thrown at the caller. */
  async notify(userId: string, kind: AlertKind, detail: Record<string, string>): Promise<void> {
    if (!this.app.config.login_security.new_login_alerts) return;
    try {
      const link = await this.notMeLink(userId);
      const { subject, body } = TEXT[kind]({ user: userId, ip: "?", ...detail });
      const text = `${body}\n\nThis was not me / Ce n'était pas moi : ${link}`;
      await this.serverNotice(userId, text);
      const email = await this.contacts.get(userId);
      if (email) await this.mailer.send(email, `[Rempart] ${subject}`, text);
      this.app.securityEvents.emit({ type: `alert.${kind}`, userId, detail: { email: email !== undefined } });
    } catch (e) {
      this.log.warn({ err: { message: (e as Error).message }, user_id: userId, kind }, "could not send a security alert");
    }
  }

  /** A link that locks the account in one click (after a confirmation page). */
  async notMeLink(userId: string): Promise<string> {
    const token = randomBytes(32).toString("base64url");
    const t = this.app.now();
    await this.links.insert({ token_hash: hashToken(token), user_id: userId, created_ts: t, expires_ts: t + NOT_ME_LIFETIME_MS });
    return `${this.app.config.public_baseurl.replace(/\/$/, "")}/_rempart/not-me?token=${token}`;
  }

  /** The user behind a valid "not me" token. */
  async notMeUser(token: string): Promise<string | undefined> {
    const row = await this.links.get(hashToken(token));
    if (!row || Number(row.expires_ts) <= this.app.now()) return undefined;
    return row.user_id;
  }

  /** "This was not me": lock (every session ends), forget the links, alert every admin. */
  async reportNotMe(token: string, ip: string): Promise<string | undefined> {
    const userId = await this.notMeUser(token);
    if (!userId) return undefined;
    await this.app.locks.lock(userId, "The owner reported activity that was not theirs (this was not me)", userId);
    await this.links.deleteForUser(userId);
    this.app.securityEvents.emit({ type: "account.reported_compromised", userId, ip });
    for (const admin of await usersRepo(this.app.storage.db).activeAdmins()) {
      await this.serverNotice(admin, `Security alert: ${userId} reported activity that was not theirs ("this was not me", from ${ip}). The account is locked and its sessions have ended; unlock it with PUT /_matrix/client/v1/admin/lock/${userId} once it is safe.`).catch(
        (e: unknown) => this.log.warn({ err: { message: (e as Error).message } }, "could not alert an admin"),
      );
    }
    return userId;
  }

  /** A notice to every server admin (credential stuffing, a compromised account), at most one per
   * subject every 10 minutes so that an attack does not flood the admins. */
  async alertAdmins(subject: string, text: string): Promise<void> {
    const t = this.app.now();
    if ((this.lastAdminAlert.get(subject) ?? -Infinity) > t - 10 * 60_000) return;
    this.lastAdminAlert.set(subject, t);
    for (const admin of await usersRepo(this.app.storage.db).activeAdmins()) {
      await this.serverNotice(admin, text).catch((e: unknown) => this.log.warn({ err: { message: (e as Error).message } }, "could not alert an admin"));
    }
  }

  /** Posts an m.notice in the user's server-notices room (the admin API's, joined at once). */
  async serverNotice(userId: string, body: string): Promise<void> {
    await this.app.serverNotices.send({ user_id: userId, content: { msgtype: "m.notice", body } }, { join: true });
  }
}
