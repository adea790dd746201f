// The composition root: builds every service once, wired to one storage and one clock.
// Routes receive this object; services never see HTTP objects.
import type { Logger } from "pino";
import type { ResolvedConfig } from "./config/schema.js";
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
import { SecurityEvents } from "./security/events.js";
import { AccountLocks } from "./accounts/locks.js";
import { PasswordPolicy } from "./security/password-policy.js";
import { Mfa } from "./security/mfa/mfa.js";
import { LoginGuard } from "./security/login-guard.js";
import { PasswordLogin } from "./security/password-login.js";
import { LoginTokens } from "./security/login-tokens.js";
import { LoginHooks } from "./security/login-hooks.js";
import { WebSessions } from "./security/web-sessions.js";
import { LoginAlerts } from "./security/login-alerts.js";

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
  roomReader: RoomReader;
  membership: Membership;
  rooms: Rooms;
  typing: Typing;
  receipts: Receipts;
  sync: SyncService;
  securityEvents: SecurityEvents;
  locks: AccountLocks;
  passwordPolicy: PasswordPolicy;
  mfa: Mfa;
  loginGuard: LoginGuard;
  passwordLogin: PasswordLogin;
  loginTokens: LoginTokens;
  loginHooks: LoginHooks;
  webSessions: WebSessions;
  alerts: LoginAlerts;
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
  const roomWriter = await RoomWriter.open(storage, config.server_name, key, now, notifier);
  const users = usersRepo(storage.db);
  const membership = new Membership(storage, roomWriter, profiles, config.server_name, async (u) => {
    const row = await users.get(u);
    return row !== undefined && row.deactivated === 0;
  });
  const accountData = new AccountData(storage);
  const roomReader = new RoomReader(storage, roomWriter, now);
  const typing = new Typing(notifier);
  const receipts = await Receipts.open(storage, roomReader, accountData, notifier, now);
  const sync = await SyncService.open(storage, roomWriter, roomReader.visibility, notifier, typing, receipts, now);
  accountData.onChange((userId, streamId) => {
    sync.accountDataWritten(streamId);
    notifier.publishToUsers("account_data", [userId]);
  });
  const securityEvents = new SecurityEvents(now);
  const loginGuard = new LoginGuard(storage, config.login_security, securityEvents, now);
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
    devices: new Devices(storage, sessions, now),
    uia: new UserInteractiveAuth(storage, now),
    registrationTokens: new RegistrationTokens(storage, now),
    profiles,
    accountData,
    filters: new Filters(storage),
    notifier,
    roomWriter,
    roomReader,
    membership,
    rooms: new Rooms(storage, roomWriter, membership, profiles, config.server_name, config.default_room_version, now),
    typing,
    receipts,
    sync,
    securityEvents,
    locks: new AccountLocks(storage, sessions, securityEvents, now),
    passwordPolicy: new PasswordPolicy(config.login_security, config.server_name),
    mfa: new Mfa(storage, config, securityEvents, now),
    loginGuard,
    passwordLogin: new PasswordLogin(accounts, loginGuard, securityEvents),
    loginTokens: new LoginTokens(storage, () => config.login_security.login_token_lifetime_ms, now),
    loginHooks: new LoginHooks(log),
    webSessions: new WebSessions(storage, () => config.login_security.web_session_lifetime_ms, now),
    alerts: undefined as unknown as LoginAlerts,
    close: () => storage.close(),
  };
  registerUiaStages(app);
  sessions.limits = { idleMs: config.login_security.session_idle_timeout_ms, maxLifetimeMs: config.login_security.session_max_lifetime_ms };
  app.alerts = new LoginAlerts(app, log);
  app.loginHooks.on((userId, deviceId, ip, ua) => app.alerts.loggedIn(userId, deviceId, ip, ua));
  // Credential stuffing is detected by the guard and reported to the admins as a server notice.
  securityEvents.on((e) => {
    if (e.type !== "stuffing.detected" && e.type !== "stuffing.global_alarm") return;
    const what = e.type === "stuffing.detected" ? `failed logins on ${e.detail?.accounts} accounts from ${e.detail?.source}, now blocked` : `the failure ratio of all logins jumped to ${e.detail?.ratio}`;
    if (!config.login_security.new_login_alerts) return;
    app.alerts.alertAdmins(e.type, `Security alert: credential stuffing suspected (${what}).`).catch((err: unknown) => log.warn({ err: { message: (err as Error).message } }, "could not alert the admins"));
  });
  // An admin's unlock, or the owner's new password, lifts the guard's account block too.
  app.locks.onUnlock((userId) => loginGuard.clearAccount(userId));
  return app;
}
