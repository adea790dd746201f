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
import { Policy } from "./policy/policy.js";
import { SmtpMailer } from "./policy/email/mailer.js";
import { EmailValidation } from "./policy/email/validation.js";
import { AccountValidity } from "./policy/account-validity.js";
import { UserDirectory } from "./policy/user-directory.js";

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
  policy: Policy;
  accountValidity: AccountValidity;
  userDirectory: UserDirectory;
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
    close: () => storage.close(),
    ...wirePolicy(config, storage, log, now, roomWriter, membership, accounts, key),
  };
  registerUiaStages(app);
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
