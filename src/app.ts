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
import { AuditTrail } from "./security/audit/chain.js";
import { Meters } from "./security/meters.js";
import { Containment } from "./security/containment.js";
import { SecurityAlerts } from "./security/alerts.js";
import { ReadGate } from "./security/read-gate.js";
import { SteppedUpSessions } from "./security/step-up.js";
import { AuditExporter } from "./security/audit/export-ocsf.js";
import { pruneTrail } from "./security/audit/retention.js";

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
  audit: AuditTrail;
  alerts: SecurityAlerts;
  containment: Containment;
  steppedUp: SteppedUpSessions;
  readGate: ReadGate;
  auditExporter: AuditExporter;
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
  const rg = config.read_gate;
  const audit = await AuditTrail.open(
    storage,
    key,
    now,
    { flushIntervalMs: rg.audit.flush_interval_ms, flushBatch: rg.audit.flush_batch, checkpointIntervalMs: rg.audit.checkpoint_interval_ms, serverName: config.server_name },
    log,
  );
  const alerts = new SecurityAlerts(storage, rg.alert_webhook, now, log);
  const steppedUp = await SteppedUpSessions.open(storage, sessions, now);
  const meters = new Meters(rg.window_ms);
  const containment = new Containment(
    rg,
    meters,
    {
      // Until the login-security lock (401 M_USER_LOCKED everywhere) is merged: end every session.
      lockAccount: async (userId) => sessions.revokeAll(userId),
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
  // Retention: once a day, prune audit records past retention_days up to a signed checkpoint.
  const retentionTimer = setInterval(() => {
    pruneTrail(storage, rg.audit.retention_days, now()).catch((e: unknown) => log.error({ err: { message: (e as Error).message } }, "audit retention failed"));
  }, 86_400_000);
  retentionTimer.unref();
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
    audit,
    alerts,
    containment,
    steppedUp,
    readGate,
    auditExporter,
    close: async () => {
      clearInterval(retentionTimer);
      await audit.close();
      await auditExporter.stop();
      await alerts.settle();
      await storage.close();
    },
  };
  registerUiaStages(app);
  return app;
}
