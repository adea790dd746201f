// Accounts: registration, password login, password change and deactivation.
import type { Storage } from "../storage/database.js";
import { usersRepo } from "../storage/users.js";
import { devicesRepo } from "../storage/devices.js";
import { accountDataRepo } from "../storage/account-data.js";
import { isValidLocalpart, MAX_ID_LENGTH } from "../matrix/identifiers.js";
import { MatrixError, forbidden, invalidUsername, userDeactivated, userInUse, userLocked } from "../http/errors.js";
import type { Passwords } from "./passwords.js";
import type { IssuedTokens, Requester, Sessions } from "./sessions.js";
import { randomDeviceId } from "./secrets.js";
import { randomBytes } from "node:crypto";

export interface LoginResult extends IssuedTokens {
  user_id: string;
  device_id: string;
}

export interface NewDevice {
  deviceId?: string;
  displayName?: string;
  withRefresh?: boolean;
  ip?: string;
  userAgent?: string | null;
}

type AccountListener = (userId: string) => Promise<void>;

export class Accounts {
  private readonly users;
  private readonly devices;
  /** Other services (rooms, e2ee…) hook deactivation here instead of being called from accounts/. */
  private deactivationListeners: AccountListener[] = [];

  constructor(
    private readonly storage: Storage,
    readonly serverName: string,
    private readonly passwords: Passwords,
    private readonly sessions: Sessions,
    private readonly now: () => number,
  ) {
    this.users = usersRepo(storage.db);
    this.devices = devicesRepo(storage.db);
  }

  onDeactivate(listener: AccountListener): void {
    this.deactivationListeners.push(listener);
  }

  userId(localpart: string): string {
    return `@${localpart}:${this.serverName}`;
  }

  /** Checks a requested localpart for registration (spec "User Identifiers", appendix grammar). */
  validateLocalpart(localpart: string): void {
    if (!isValidLocalpart(localpart)) {
      throw invalidUsername("User ID may only contain the characters a-z, 0-9, '.', '_', '=', '-', '/' and '+'");
    }
    if (Buffer.byteLength(this.userId(localpart), "utf8") > MAX_ID_LENGTH) {
      throw invalidUsername(`User ID must be at most ${MAX_ID_LENGTH} bytes`);
    }
  }

  async isAvailable(localpart: string): Promise<boolean> {
    this.validateLocalpart(localpart);
    return !(await this.users.exists(this.userId(localpart)));
  }

  /** A random localpart for clients that register without choosing one. */
  async generateLocalpart(): Promise<string> {
    for (;;) {
      const candidate = `u${randomBytes(6).toString("hex")}`;
      if (await this.isAvailable(candidate)) return candidate;
    }
  }

  /** Creates the account; fails with M_USER_IN_USE if the id is taken (atomically). */
  async createUser(localpart: string, password: string | null, opts: { admin?: boolean; displayname?: string; userType?: string | null } = {}): Promise<string> {
    this.validateLocalpart(localpart);
    if (password !== null) this.passwords.checkNew(password);
    const userId = this.userId(localpart);
    const hash = password === null ? null : await this.passwords.hash(password);
    const inserted = await this.users.insert({
      user_id: userId,
      localpart,
      password_hash: hash,
      admin: opts.admin ? 1 : 0,
      deactivated: 0,
      locked: 0,
      user_type: opts.userType ?? null,
      displayname: opts.displayname ?? localpart,
      avatar_url: null,
      created_ts: this.now(),
    });
    if (!inserted) throw userInUse();
    return userId;
  }

  /**
   * Creates many accounts at once (bulk provisioning, the breach harness): one transaction, batch
   * inserts, and password hashing only for the accounts that have a password. All or nothing:
   * if one id is invalid or taken, none is created (M_INVALID_USERNAME / M_USER_IN_USE).
   */
  async createUsers(accounts: Array<{ localpart: string; password: string | null; displayname?: string }>): Promise<string[]> {
    for (const a of accounts) {
      this.validateLocalpart(a.localpart);
      if (a.password !== null) this.passwords.checkNew(a.password);
    }
    const ts = this.now();
    const rows = await Promise.all(
      accounts.map(async (a) => ({
        user_id: this.userId(a.localpart),
        localpart: a.localpart,
        password_hash: a.password === null ? null : await this.passwords.hash(a.password),
        admin: 0,
        deactivated: 0,
        locked: 0,
        user_type: null,
        displayname: a.displayname ?? a.localpart,
        avatar_url: null,
        created_ts: ts,
      })),
    );
    if (new Set(rows.map((r) => r.user_id)).size !== rows.length) throw userInUse();
    await this.storage.db.transaction().execute(async (tx) => {
      // Fewer rows inserted than asked: some id was taken; roll everything back.
      if ((await usersRepo(tx).insertMany(rows)) !== rows.length) throw userInUse();
    });
    return rows.map((r) => r.user_id);
  }

  /** Creates (or reuses) a device and issues tokens for it. */
  async startSession(userId: string, dev: NewDevice): Promise<LoginResult> {
    const deviceId = dev.deviceId ?? randomDeviceId();
    await this.devices.upsert({
      user_id: userId,
      device_id: deviceId,
      display_name: dev.displayName ?? null,
      created_ts: this.now(),
      last_seen_ts: dev.ip ? this.now() : null,
      last_seen_ip: dev.ip ?? null,
      last_seen_user_agent: dev.userAgent ?? null,
    });
    const tokens = await this.sessions.issue(userId, deviceId, dev.withRefresh ?? false);
    return { user_id: userId, device_id: deviceId, ...tokens };
  }

  /** Resolves what a client typed as a user identifier (full id or bare localpart) to a user id. */
  resolveUserIdentifier(user: string): string {
    const trimmed = user.trim();
    if (trimmed.startsWith("@")) {
      const colon = trimmed.indexOf(":");
      if (colon > 0 && trimmed.slice(colon + 1) === this.serverName) return this.userId(trimmed.slice(1, colon).toLowerCase());
      return trimmed;
    }
    return this.userId(trimmed.toLowerCase());
  }

  /** Checks a password for a user. The same work is done whether or not the user exists, and the
   * same error is given for an unknown user and a wrong password. */
  async checkPassword(userId: string, password: string): Promise<string> {
    const user = await this.users.get(userId);
    const ok = await this.passwords.verify(user?.password_hash, password);
    if (!ok || !user) throw forbidden("Invalid username or password");
    if (user.deactivated) throw userDeactivated();
    // Only after the right password: a locked account is not revealed to someone guessing.
    if (user.locked) throw userLocked();
    return user.user_id;
  }

  /** Deletes devices through the device service, so that e2ee/ and sync/ hear of it (set by app.ts). */
  deleteDevices?: (userId: string, deviceIds: string[]) => Promise<void>;

  async changePassword(requester: Requester, newPassword: string, logoutDevices: boolean): Promise<void> {
    this.passwords.checkNew(newPassword);
    const hash = await this.passwords.hash(newPassword);
    await this.users.update(requester.userId, { password_hash: hash });
    if (logoutDevices) {
      const others = (await this.devices.list(requester.userId)).map((d) => d.device_id).filter((d) => d !== requester.deviceId);
      await this.sessions.revokeAll(requester.userId, requester);
      if (this.deleteDevices) await this.deleteDevices(requester.userId, others);
      else await this.devices.delete(requester.userId, others);
    }
  }

  /** Deactivates an account: no login, no sessions, no devices; with erase, the profile goes too. */
  async deactivate(userId: string, erase: boolean): Promise<void> {
    const user = await this.users.get(userId);
    if (!user) throw new MatrixError(404, "M_NOT_FOUND", "Unknown user");
    await this.users.update(userId, {
      deactivated: 1,
      password_hash: null,
      ...(erase ? { displayname: null, avatar_url: null } : {}),
    });
    await this.sessions.revokeAll(userId);
    await this.devices.deleteAll(userId);
    if (erase) await accountDataRepo(this.storage.db).deleteAll(userId);
    for (const l of this.deactivationListeners) await l(userId);
  }

  getUser(userId: string) {
    return this.users.get(userId);
  }
}
