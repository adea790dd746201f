// Admin operations on local accounts (Synapse admin API "User Admin API"): list, query, create or
// modify, deactivate (optionally erasing), reset password, whois, devices, joined rooms, admin flag.
// Each operation is one call from a route; the route records the AdminAction.
import type { Storage } from "../storage/database.js";
import { usersRepo } from "../storage/users.js";
import { devicesRepo } from "../storage/devices.js";
import { eventsRepo } from "../storage/events.js";
import { adminUsersRepo, type AdminUserRow, type UserListQuery } from "../storage/admin-users.js";
import { parseUserId } from "../matrix/identifiers.js";
import { MatrixError, invalidParam, notFound } from "../http/errors.js";
import type { Accounts } from "../accounts/accounts.js";
import type { Sessions } from "../accounts/sessions.js";
import type { Devices } from "../accounts/devices.js";
import type { Passwords } from "../accounts/passwords.js";
import type { Profiles } from "../accounts/profile.js";
import type { Membership } from "../rooms/membership.js";
import type { Logger } from "pino";

export interface UserUpsert {
  password?: string | null;
  logout_devices?: boolean;
  displayname?: string | null;
  avatar_url?: string | null;
  admin?: boolean;
  deactivated?: boolean;
  user_type?: string | null;
}

/** A user as Synapse's admin API shows it (fields Rempart does not have are fixed values). */
export function userJson(u: AdminUserRow) {
  return {
    name: u.user_id,
    displayname: u.displayname,
    avatar_url: u.avatar_url,
    threepids: [] as unknown[],
    external_ids: [] as unknown[],
    // Rempart has no guest accounts, shadow bans or appservices.
    is_guest: 0,
    admin: u.admin,
    deactivated: u.deactivated,
    erased: u.erased > 0,
    shadow_banned: 0,
    locked: u.locked === 1,
    user_type: u.user_type,
    appservice_id: null,
    creation_ts: u.created_ts,
    last_seen_ts: u.last_seen_ts,
    consent_server_notice_sent: null,
    consent_version: null,
    consent_ts: null,
  };
}

export class AdminUsers {
  private readonly users;
  private readonly deviceRows;
  private readonly events;
  private readonly repo;

  constructor(
    storage: Storage,
    private readonly serverName: string,
    private readonly accounts: Accounts,
    private readonly sessions: Sessions,
    private readonly devices: Devices,
    private readonly passwords: Passwords,
    private readonly profiles: Profiles,
    private readonly membership: Membership,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {
    this.users = usersRepo(storage.db);
    this.deviceRows = devicesRepo(storage.db);
    this.events = eventsRepo(storage.db);
    this.repo = adminUsersRepo(storage.db);
  }

  /** Refuses ids that are not users of this server (Synapse: 400 "Can only look up local users"). */
  checkLocal(userId: string): void {
    const p = parseUserId(userId, { historical: true });
    if (!p) throw invalidParam("Invalid user ID");
    if (p.serverName !== this.serverName) throw invalidParam("Can only look up local users");
  }

  private async existing(userId: string): Promise<AdminUserRow> {
    this.checkLocal(userId);
    const u = await this.repo.get(userId);
    if (!u) throw notFound("User not found");
    return u;
  }

  async list(q: UserListQuery) {
    const { rows, total } = await this.repo.list(q);
    const out: Record<string, unknown> = { users: rows.map(userJson), total };
    if (q.from + rows.length < total) out.next_token = String(q.from + rows.length);
    return out;
  }

  async get(userId: string) {
    return userJson(await this.existing(userId));
  }

  /** PUT /v2/users/{userId}: creates the account when it does not exist (created: true), else modifies it. */
  async upsert(userId: string, b: UserUpsert): Promise<{ created: boolean; user: ReturnType<typeof userJson> }> {
    this.checkLocal(userId);
    // Validated before anything is written, so a refused password leaves the account as it was.
    if (typeof b.password === "string") this.passwords.checkNew(b.password);
    const existing = await this.repo.get(userId);
    if (!existing) {
      const localpart = parseUserId(userId, { historical: true })!.localpart;
      await this.accounts.createUser(localpart, b.password ?? null, {
        admin: b.admin,
        displayname: b.displayname ?? undefined,
        userType: b.user_type,
      });
      if (b.avatar_url !== undefined) await this.users.update(userId, { avatar_url: b.avatar_url });
      if (b.displayname === null) await this.users.update(userId, { displayname: null });
      if (b.deactivated) await this.deactivate(userId, false);
      return { created: true, user: await this.get(userId) };
    }
    if (b.deactivated === false && existing.deactivated === 1) {
      // Synapse: a re-activated account needs a password to log in with.
      if (!b.password) throw new MatrixError(400, "M_MISSING_PARAM", "Must provide a password to re-activate an account");
      await this.users.update(userId, { deactivated: 0 });
      await this.repo.unmarkErased(userId);
      await this.sessions.forgetUser(userId);
    }
    if (b.password !== undefined && b.password !== null) await this.setPassword(userId, b.password, b.logout_devices ?? true);
    for (const field of ["displayname", "avatar_url"] as const) {
      const value = b[field];
      if (value === undefined) continue;
      const current = await this.users.get(userId);
      // Profiles.set tells rooms/ to update member events; a deactivated account has no profile to publish.
      if (current?.deactivated) await this.users.update(userId, { [field]: value });
      else await this.profiles.set(userId, field, value);
    }
    if (b.user_type !== undefined) await this.users.update(userId, { user_type: b.user_type });
    if (b.admin !== undefined) await this.setAdmin(userId, b.admin);
    if (b.deactivated === true && existing.deactivated === 0) await this.deactivate(userId, false);
    return { created: false, user: await this.get(userId) };
  }

  /** POST /v1/deactivate/{userId}: no login, no sessions, no devices, out of every room. */
  async deactivate(userId: string, erase: boolean): Promise<void> {
    await this.existing(userId);
    await this.accounts.deactivate(userId, erase);
    if (erase) await this.repo.markErased(userId, this.now());
    await this.sessions.forgetUser(userId);
    // Leaving goes through the room writer as the user's own membership change, as Synapse does.
    for (const r of await this.events.roomsForUser(userId, ["join", "invite", "knock"])) {
      try {
        await this.membership.leave(userId, r.room_id, { reason: "Account deactivated" });
      } catch (e) {
        this.log.warn({ err: e, user_id: userId, room_id: r.room_id }, "could not remove a deactivated user from a room");
      }
    }
  }

  /** POST /v1/reset_password/{userId}. */
  async resetPassword(userId: string, newPassword: string, logoutDevices: boolean): Promise<void> {
    const u = await this.existing(userId);
    if (u.deactivated) throw new MatrixError(400, "M_UNKNOWN", "Cannot set the password of a deactivated user");
    await this.setPassword(userId, newPassword, logoutDevices);
  }

  private async setPassword(userId: string, password: string, logoutDevices: boolean): Promise<void> {
    this.passwords.checkNew(password);
    await this.users.update(userId, { password_hash: await this.passwords.hash(password) });
    if (logoutDevices) {
      const ids = (await this.deviceRows.list(userId)).map((d) => d.device_id);
      await this.devices.delete(userId, ids);
      await this.sessions.revokeAll(userId);
    }
  }

  /** GET /v1/whois/{userId}: each device's last connection (IP, user agent, time). */
  async whois(userId: string) {
    await this.existing(userId);
    const devices: Record<string, { sessions: Array<{ connections: Array<{ ip: string; last_seen: number; user_agent: string | null }> }> }> = {};
    for (const d of await this.deviceRows.list(userId)) {
      const connections = d.last_seen_ip === null ? [] : [{ ip: d.last_seen_ip, last_seen: Number(d.last_seen_ts ?? 0), user_agent: d.last_seen_user_agent }];
      devices[d.device_id] = { sessions: [{ connections }] };
    }
    return { user_id: userId, devices };
  }

  async listDevices(userId: string) {
    await this.existing(userId);
    const devices = (await this.deviceRows.list(userId)).map(deviceJson);
    return { devices, total: devices.length };
  }

  async getDevice(userId: string, deviceId: string) {
    await this.existing(userId);
    const d = await this.deviceRows.get(userId, deviceId);
    if (!d) throw notFound("Device not found");
    return deviceJson(d);
  }

  async renameDevice(userId: string, deviceId: string, displayName: string | null): Promise<void> {
    await this.existing(userId);
    await this.devices.rename(userId, deviceId, displayName);
  }

  /** Deletes devices and ends their sessions; unknown device ids are ignored (as Synapse does). */
  async deleteDevices(userId: string, deviceIds: string[]): Promise<void> {
    await this.existing(userId);
    await this.devices.delete(userId, deviceIds);
  }

  async joinedRooms(userId: string) {
    await this.existing(userId);
    const rooms = await this.membership.joinedRooms(userId);
    return { joined_rooms: rooms, total: rooms.length };
  }

  async isAdmin(userId: string): Promise<boolean> {
    return (await this.existing(userId)).admin === 1;
  }

  /** Sets the admin flag; the session cache holds it, so it is told at once. */
  async setAdmin(userId: string, admin: boolean): Promise<void> {
    await this.existing(userId);
    await this.users.update(userId, { admin: admin ? 1 : 0 });
    await this.sessions.forgetUser(userId);
  }
}

function deviceJson(d: { user_id: string; device_id: string; display_name: string | null; last_seen_ip: string | null; last_seen_ts: number | null; last_seen_user_agent: string | null }) {
  return {
    device_id: d.device_id,
    display_name: d.display_name,
    last_seen_ip: d.last_seen_ip,
    last_seen_ts: d.last_seen_ts === null ? null : Number(d.last_seen_ts),
    last_seen_user_agent: d.last_seen_user_agent,
    user_id: d.user_id,
  };
}
