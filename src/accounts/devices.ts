// The devices of a user (client-server API "Device management").
import type { Storage } from "../storage/database.js";
import { devicesRepo } from "../storage/devices.js";
import type { Sessions } from "./sessions.js";
import { notFound } from "../http/errors.js";

export interface ClientDevice {
  device_id: string;
  display_name?: string;
  last_seen_ip?: string;
  last_seen_ts?: number;
}

type DeviceListener = (userId: string, deviceIds: string[]) => Promise<void>;

export class Devices {
  private readonly repo;
  private lastTouch = new Map<string, number>();
  private deleteListeners: DeviceListener[] = [];

  constructor(
    storage: Storage,
    private readonly sessions: Sessions,
    private readonly now: () => number,
  ) {
    this.repo = devicesRepo(storage.db);
  }

  /** e2ee/ removes device keys, sync/ publishes device-list changes. */
  onDelete(listener: DeviceListener): void {
    this.deleteListeners.push(listener);
  }

  async list(userId: string): Promise<ClientDevice[]> {
    return (await this.repo.list(userId)).map(toClient);
  }

  async get(userId: string, deviceId: string): Promise<ClientDevice> {
    const d = await this.repo.get(userId, deviceId);
    if (!d) throw notFound("Unknown device");
    return toClient(d);
  }

  async rename(userId: string, deviceId: string, displayName: string | null): Promise<void> {
    const r = await this.repo.setDisplayName(userId, deviceId, displayName);
    if (Number(r.numUpdatedRows) === 0) throw notFound("Unknown device");
  }

  /** Deletes devices and ends their sessions. Unknown ids are ignored (the spec's /delete_devices). */
  async delete(userId: string, deviceIds: string[]): Promise<void> {
    await this.sessions.revokeDevices(userId, deviceIds);
    await this.repo.delete(userId, deviceIds);
    for (const l of this.deleteListeners) await l(userId, deviceIds);
  }

  /** Records last-seen data at most once a minute per device, off the request's critical path. */
  touch(userId: string, deviceId: string, ip: string, userAgent: string | null): Promise<void> | undefined {
    const key = `${userId}|${deviceId}`;
    const t = this.now();
    if ((this.lastTouch.get(key) ?? 0) > t - 60_000) return undefined;
    this.lastTouch.set(key, t);
    if (this.lastTouch.size > 50_000) this.lastTouch.clear();
    return this.repo.touch(userId, deviceId, t, ip, userAgent).then(() => undefined);
  }
}

function toClient(d: { device_id: string; display_name: string | null; last_seen_ip: string | null; last_seen_ts: number | null }): ClientDevice {
  const out: ClientDevice = { device_id: d.device_id };
  if (d.display_name !== null) out.display_name = d.display_name;
  if (d.last_seen_ip !== null) out.last_seen_ip = d.last_seen_ip;
  if (d.last_seen_ts !== null) out.last_seen_ts = Number(d.last_seen_ts);
  return out;
}
