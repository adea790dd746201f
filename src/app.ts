// The composition root: builds every service once, wired to one storage and one clock.
// Routes receive this object; services never see HTTP objects.
import type { Logger } from "pino";
import type { ResolvedConfig } from "./config/schema.js";
import { setNewcomerDefault } from "./rooms/newcomer-history.js";
import { openStorage, type Storage } from "./storage/database.js";
import { loadOrCreateSigningKey } from "./keys/server-key.js";
import type { SigningKey } from "./matrix/signing.js";
import { RateLimiter } from "./security/rate-limiter.js";
import { Passwords } from "./accounts/passwords.js";
import { Sessions } from "./accounts/sessions.js";
import { Accounts } from "./accounts/accounts.js";
import { Devices } from "./accounts/devices.js";
import { UserInteractiveAuth } from "./accounts/uia.js";
import { RegistrationTokens } from "./accounts/registration-tokens.js";
import { Profiles } from "./accounts/profile.js";
import { AccountData } from "./accounts/account-data.js";
import { Filters } from "./accounts/filters.js";
import { registerUiaStages } from "./accounts/uia-stages.js";
import { LocalNotifier, type Notifier } from "./rooms/notifier.js";
import { RoomWriter } from "./rooms/writer.js";
import { RoomReader } from "./rooms/history.js";
import { Membership } from "./rooms/membership.js";
import { Rooms } from "./rooms/rooms.js";
import { usersRepo } from "./storage/users.js";
import { Typing } from "./sync/typing.js";
import { Receipts } from "./sync/receipts.js";
import { SyncService } from "./sync/sync.js";
import { RoomDirectory } from "./rooms/directory.js";
import { RoomSummaries } from "./rooms/summary.js";
import { Reports } from "./rooms/reports.js";
import { RoomTags } from "./rooms/tags.js";
import { RoomUpgrades } from "./rooms/upgrade.js";
import { PushRules } from "./push/push-rules.js";
import { PushEvaluator } from "./push/evaluator.js";
import { Notifications } from "./push/notifications.js";
import { Pushers } from "./push/pushers.js";
import { GatewaySender } from "./push/gateway-sender.js";
import { SecurityEvents } from "./security/events.js";
import { AccountLocks } from "./accounts/locks.js";
import { PasswordPolicy } from "./security/password-policy.js";
import { Mfa } from "./security/mfa/mfa.js";
import { createMediaServices } from "./media/setup.js";
import type { MediaRepository } from "./media/media.js";
import type { MediaAdmin } from "./media/admin.js";
import { Policy } from "./policy/policy.js";
import { SmtpMailer } from "./policy/email/mailer.js";
import { EmailValidation } from "./policy/email/validation.js";
import { AccountValidity } from "./policy/account-validity.js";
import { UserDirectory } from "./policy/user-directory.js";
import { AuditTrail } from "./security/audit/chain.js";
import { Meters } from "./security/meters.js";
import { Containment } from "./security/containment.js";
import { SecurityAlerts } from "./security/alerts.js";
import { ReadGate } from "./security/read-gate.js";
import { SteppedUpSessions } from "./security/step-up.js";
import { AuditExporter } from "./security/audit/export-ocsf.js";
import { AdminActions } from "./admin/actions.js";
import { AdminUsers } from "./admin/users.js";
import { AdminRooms } from "./admin/rooms.js";
import { AdminReports } from "./admin/reports.js";
import { ServerNotices } from "./admin/server-notices.js";
import { refuseJoinsToBlockedRooms } from "./admin/blocked-rooms.js";
import { LoginGuard } from "./security/login-guard.js";
import { PasswordLogin } from "./security/password-login.js";
import { LoginTokens } from "./security/login-tokens.js";
import { LoginHooks } from "./security/login-hooks.js";
import { WebSessions } from "./security/web-sessions.js";
import { LoginAlerts } from "./security/login-alerts.js";
import { createE2ee, type E2ee } from "./e2ee/index.js";
import { RoomImporter } from "./rooms/importer.js";
import { pruneTrail } from "./security/audit/retention.js";
import { SecurityConsole } from "./security/console.js";
import { Forensics } from "./security/forensics/service.js";

export interface App {
  config: ResolvedConfig;
  storage: Storage;
  log: Logger;
  now: () => number;
  signingKey: SigningKey;
  rateLimiter: RateLimiter;
  passwords: Passwords;
  sessions: Sessions;
  accounts: Accounts;
  devices: Devices;
  uia: UserInteractiveAuth;
  registrationTokens: RegistrationTokens;
  profiles: Profiles;
  accountData: AccountData;
  filters: Filters;
  notifier: Notifier;
  roomWriter: RoomWriter;
  /** Bulk import of history through the room writer (no push, one wake per batch). */
  roomImporter: RoomImporter;
  roomReader: RoomReader;
  membership: Membership;
  rooms: Rooms;
  typing: Typing;
  receipts: Receipts;
  sync: SyncService;
  directory: RoomDirectory;
  summaries: RoomSummaries;
  reports: Reports;
  tags: RoomTags;
  upgrades: RoomUpgrades;
  pushRules: PushRules;
  notifications: Notifications;
  pushers: Pushers;
  pushSender: GatewaySender;
  securityEvents: SecurityEvents;
  locks: AccountLocks;
  passwordPolicy: PasswordPolicy;
  mfa: Mfa;
  media: MediaRepository;
  mediaAdmin: MediaAdmin;
  policy: Policy;
  accountValidity: AccountValidity;
  userDirectory: UserDirectory;
  audit: AuditTrail;
  alerts: SecurityAlerts;
  containment: Containment;
  steppedUp: SteppedUpSessions;
  readGate: ReadGate;
  auditExporter: AuditExporter;
  /** The forensic report over the audit trail (docs/read-gate.md "Forensic report"). */
  forensics: Forensics;
  /** Seam for the audit trail: every admin API action is recorded here. */
  adminActions: AdminActions;
  adminUsers: AdminUsers;
  adminRooms: AdminRooms;
  adminReports: AdminReports;
  serverNotices: ServerNotices;
  loginGuard: LoginGuard;
  passwordLogin: PasswordLogin;
  loginTokens: LoginTokens;
  loginHooks: LoginHooks;
  webSessions: WebSessions;
  loginAlerts: LoginAlerts;
  e2ee: E2ee;
  /** The security console's queries and actions (docs/security-console.md). */
  securityConsole: SecurityConsole;
  close(): Promise<void>;
}

export async function createApp(config: ResolvedConfig, log: Logger, opts: { now?: () => number } = {}): Promise<App> {
  const now = opts.now ?? Date.now;
  const { key, created } = loadOrCreateSigningKey(config.data_dir, config.server_name);
  if (created) log.info({ key_id: key.keyId }, "generated a new signing key");
  const storage = await openStorage(config.database);
  const passwords = new Passwords(config.password_hashing);
  const sessions = new Sessions(storage, config.access_token_lifetime_ms, now);
  const accounts = new Accounts(storage, config.server_name, passwords, sessions, now);
  const profiles = new Profiles(storage);
  const notifier = new LocalNotifier();
  const roomWriter = await RoomWriter.open(storage, config.server_name, key, now, notifier, {
    searchIndexIntervalMs: config.search.index_interval_ms,
    txnRetentionMs: config.txn_ids.retention_hours * 3_600_000,
    onBackgroundError: (what, e) => log.error({ err: { message: (e as Error).message } }, `${what} failed (retried)`),
  });
  const roomImporter = new RoomImporter(storage, roomWriter, config.server_name, key, notifier);
  const users = usersRepo(storage.db);
  const membership = new Membership(storage, roomWriter, profiles, config.server_name, async (u) => {
    const row = await users.get(u);
    return row !== undefined && row.deactivated === 0;
  });
  const accountData = new AccountData(storage);
  const roomReader = new RoomReader(storage, roomWriter, now);
  setNewcomerDefault(storage, config.public_rooms.newcomer_history);
  const typing = new Typing(notifier);
  const receipts = await Receipts.open(storage, roomReader, accountData, notifier, now);
  const sync = await SyncService.open(storage, roomWriter, roomReader.visibility, notifier, typing, receipts, now);
  accountData.onChange((userId, streamId) => {
    sync.accountDataWritten(streamId);
    notifier.publishToUsers("account_data", [userId]);
  });
  const directory = new RoomDirectory(storage, roomWriter, config.server_name);
  const pushRules = new PushRules(storage, accountData);
  const pushEvaluator = new PushEvaluator(pushRules, config.server_name, now);
  roomWriter.addPersistHook(pushEvaluator.hook);
  const notifications = new Notifications(storage, now);
  sync.setUnreadCounts(notifications);
  // Clients read their push rules from /sync account data even before they ever changed one.
  sync.setGlobalAccountDataDefault("m.push_rules", (userId) => pushRules.accountDataContent(userId));
  const pushers = new Pushers(storage, config.push.allow_http, now);
  const pushSender = new GatewaySender(
    notifier,
    pushEvaluator,
    pushers,
    notifications,
    { enabled: config.push.enabled, timeoutMs: config.push.timeout_ms, maxAttempts: config.push.max_attempts, retryBaseMs: config.push.retry_base_ms, retryMaxMs: config.push.retry_max_ms },
    log,
  );
  const securityEvents = new SecurityEvents(now);
  const locks = new AccountLocks(storage, sessions, securityEvents, now);
  const { media, mediaAdmin } = createMediaServices(config, storage, now, log);
  const rg = config.read_gate;
  const audit = await AuditTrail.open(
    storage,
    key,
    now,
    { flushIntervalMs: rg.audit.flush_interval_ms, flushBatch: rg.audit.flush_batch, checkpointIntervalMs: rg.audit.checkpoint_interval_ms, serverName: config.server_name },
    log,
  );
  const alerts = new SecurityAlerts(storage, rg.alert_webhook, now, log);
  // Login-security decisions (guard, second factors, locks, owner alerts) join the audit trail.
  securityEvents.on((e) => {
    const kind = /^(login|mfa\.[a-z_]+\.(?!enrolled|removed)|stuffing|web|sso|token)/.test(e.type) ? "auth" : "account";
    const x = /fail|refus|throttl|block|detect|invalid/.test(e.type) ? "deny" : "allow";
    audit.append(kind, { e: e.type, u: e.userId ?? null, ip: e.ip ?? null, by: e.by ?? null, x, ...(e.detail ? { d: e.detail } : {}) }, e.ts);
  });
  const steppedUp = await SteppedUpSessions.open(storage, sessions, now);
  const meters = new Meters(rg.window_ms);
  const containment = new Containment(
    rg,
    meters,
    {
      lockAccount: (userId, reason) => locks.lock(userId, reason, "read-gate"),
      softLogout: (who) => steppedUp.softLogout(who),
    },
    alerts,
    audit,
    storage,
    now,
    log,
  );
  const readGate = new ReadGate(rg, audit, meters, containment, storage, now, log);
  const auditExporter = new AuditExporter(storage, config.server_name, rg.audit, log);
  auditExporter.start();
  const loginGuard = new LoginGuard(storage, config.login_security, securityEvents, now);
  const devices = new Devices(storage, sessions, now);
  accounts.deleteDevices = (userId, ids) => devices.delete(userId, ids);
  const e2ee = await createE2ee({ storage, serverName: config.server_name, notifier, writer: roomWriter, sync, devices, accounts, log, now });
  // A device logged out or deleted takes the pushers its sessions set; a deactivated account all.
  devices.onDelete((userId, deviceIds) => pushers.removeForDevices(userId, deviceIds));
  accounts.onDeactivate((userId) => pushers.removeAll(userId));
  roomImporter.onMemberships((roomId, changes) => e2ee.deviceLists.membershipsImported(roomId, changes));
  // Retention: once a day, prune audit records past retention_days up to a signed checkpoint.
  const retentionTimer = setInterval(() => {
    pruneTrail(storage, rg.audit.retention_days, now()).catch((e: unknown) => log.error({ err: { message: (e as Error).message } }, "audit retention failed"));
  }, 86_400_000);
  retentionTimer.unref();
  // Every hour, sends' txnIds past their retention are forgotten.
  const txnTimer = setInterval(() => {
    roomWriter.pruneTxnIds().catch((e: unknown) => log.error({ err: { message: (e as Error).message } }, "txnId pruning failed"));
  }, 3_600_000);
  txnTimer.unref();
  const app: App = {
    config,
    storage,
    log,
    now,
    signingKey: key,
    rateLimiter: new RateLimiter(config.rate_limiting.enabled, now),
    passwords,
    sessions,
    accounts,
    devices,
    uia: new UserInteractiveAuth(storage, now),
    registrationTokens: new RegistrationTokens(storage, now),
    profiles,
    accountData,
    filters: new Filters(storage),
    notifier,
    roomWriter,
    roomImporter,
    roomReader,
    membership,
    rooms: new Rooms(storage, roomWriter, membership, profiles, config.server_name, config.default_room_version, now),
    typing,
    receipts,
    sync,
    directory,
    summaries: new RoomSummaries(storage, roomWriter),
    reports: new Reports(storage, roomWriter, roomReader.visibility, now),
    tags: new RoomTags(accountData),
    upgrades: new RoomUpgrades(storage, roomWriter, membership, directory, profiles),
    pushRules,
    notifications,
    pushers,
    pushSender,
    securityEvents,
    locks,
    passwordPolicy: new PasswordPolicy(config.login_security, config.server_name),
    mfa: new Mfa(storage, config, securityEvents, now),
    media,
    mediaAdmin,
    ...wirePolicy(config, storage, log, now, roomWriter, membership, accounts, key),
    audit,
    alerts,
    containment,
    steppedUp,
    readGate,
    auditExporter,
    forensics: new Forensics(storage, key.publicKey, config.server_name, () => audit.flush(), now),
    adminActions: new AdminActions(log, now),
    // The admin services need app.devices and app.rooms, built in this literal: set just below.
    adminUsers: undefined as unknown as AdminUsers,
    adminRooms: undefined as unknown as AdminRooms,
    adminReports: new AdminReports(storage),
    serverNotices: undefined as unknown as ServerNotices,
    loginGuard,
    passwordLogin: new PasswordLogin(accounts, loginGuard, securityEvents),
    loginTokens: new LoginTokens(storage, () => config.login_security.login_token_lifetime_ms, now),
    loginHooks: new LoginHooks(log),
    webSessions: new WebSessions(storage, () => config.login_security.web_session_lifetime_ms, now),
    loginAlerts: undefined as unknown as LoginAlerts,
    e2ee,
    securityConsole: undefined as unknown as SecurityConsole,
    close: async () => {
      await e2ee.deviceLists.settled();
      await pushSender.close();
      await media.idle();
      clearInterval(retentionTimer);
      clearInterval(txnTimer);
      await roomWriter.close();
      await audit.close();
      await auditExporter.stop();
      await alerts.settle();
      await storage.close();
    },
  };
  registerUiaStages(app);
  sessions.limits = { idleMs: config.login_security.session_idle_timeout_ms, maxLifetimeMs: config.login_security.session_max_lifetime_ms };
  app.loginAlerts = new LoginAlerts(app, log);
  app.loginHooks.on((userId, deviceId, ip, ua) => app.loginAlerts.loggedIn(userId, deviceId, ip, ua));
  // A sign-in after a read-gate step-up gives the account's meters a fresh start.
  app.loginHooks.on(async (userId) => app.containment.reauthenticated(userId));
  // Credential stuffing is detected by the guard and reported to the admins as a server notice.
  securityEvents.on((e) => {
    if (e.type !== "stuffing.detected" && e.type !== "stuffing.global_alarm") return;
    const what = e.type === "stuffing.detected" ? `failed logins on ${e.detail?.accounts} accounts from ${e.detail?.source}, now blocked` : `the failure ratio of all logins jumped to ${e.detail?.ratio}`;
    if (!config.login_security.new_login_alerts) return;
    app.loginAlerts.alertAdmins(e.type, `Security alert: credential stuffing suspected (${what}).`).catch((err: unknown) => log.warn({ err: { message: (err as Error).message } }, "could not alert the admins"));
  });
  // An admin's unlock, or the owner's new password, lifts the guard's account block too.
  app.locks.onUnlock((userId) => loginGuard.clearAccount(userId));
  app.securityConsole = new SecurityConsole({
    storage,
    cfg: rg,
    meters,
    containment,
    locks,
    sessions,
    webSessions: app.webSessions,
    accounts,
    audit,
    publicKey: key.publicKey,
    serverName: config.server_name,
    now,
  });
  app.adminUsers = new AdminUsers(storage, config.server_name, accounts, sessions, app.devices, passwords, profiles, membership, log, now);
  app.adminRooms = new AdminRooms(storage, config.server_name, roomWriter, membership, app.rooms, log, now);
  app.serverNotices = new ServerNotices(storage, config, accounts, accountData, roomWriter, membership, app.rooms, now);
  roomWriter.addPersistHook(refuseJoinsToBlockedRooms);
  roomImporter.addPersistHook((tx, room, pdu) => refuseJoinsToBlockedRooms(tx, room, pdu, 0));
  // A room deletion running in the background (admin API v2) finishes before storage closes.
  const closeStorage = app.close;
  app.close = async () => {
    await app.adminRooms.idle();
    await closeStorage();
  };
  if (app.policy.enabled) {
    roomWriter.addEventCheck((room, draft) => app.policy.checkEvent(room, draft));
    app.rooms.addCreateCheck((creator, req) => app.policy.checkCreateRoom(creator, req));
    app.rooms.addAfterCreate((creator, roomId, req) => app.policy.inviteThirdParties(creator, roomId, req));
    membership.onBeforeLeave((userId, roomId) => app.policy.beforeLeave(userId, roomId));
    app.uia.registerStage("m.login.email.identity", async ({ auth }) => app.policy.emailStage(auth));
  }
  if (app.accountValidity.enabled && config.policy.account_validity.sweep_interval_ms > 0) {
    const timer = setInterval(() => {
      app.accountValidity.sweep().catch((e: unknown) => log.warn({ err: { message: (e as Error).message } }, "account validity sweep failed"));
    }, config.policy.account_validity.sweep_interval_ms);
    timer.unref();
    const close = app.close;
    app.close = async () => {
      clearInterval(timer);
      await close();
    };
  }
  return app;
}

/** The government model's services (src/policy), built around the same storage and clock. */
function wirePolicy(config: ResolvedConfig, storage: Storage, log: Logger, now: () => number, roomWriter: RoomWriter, membership: Membership, accounts: Accounts, key: SigningKey) {
  const mailer = new SmtpMailer(config.policy.smtp, log);
  const mailOpts = { baseUrl: config.public_baseurl, serverName: config.server_name, language: config.policy.smtp.language };
  const validation = new EmailValidation(storage, mailer, { ...mailOpts, lifetimeMs: config.policy.email_token_lifetime_ms }, now);
  const policy = new Policy(storage, config, mailer, validation, roomWriter, membership, now, log, key);
  const accountValidity = new AccountValidity(
    storage,
    config.policy.account_validity,
    mailer,
    mailOpts,
    (u) => policy.emailOf(u),
    (u) => accounts.deactivate(u, false),
    now,
    log,
  );
  const userDirectory = new UserDirectory(storage, config.policy.user_directory_all_local, (u) => policy.isExternal(u));
  return { policy, accountValidity, userDirectory };
}
