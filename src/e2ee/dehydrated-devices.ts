// Dehydrated devices (MSC3814, unstable prefix org.matrix.msc3814.v1, as matrix-js-sdk 37 and
// matrix-sdk-crypto use it): a device whose private keys the client stores here encrypted with a
// key only the user holds, so that to-device messages (room keys) sent while every real device
// is offline can be picked up later by a rehydrating client. One per user; a new one replaces
// the old one (its keys and inbox go with it).
import type { Storage } from "../storage/database.js";
import { e2eDehydratedRepo } from "../storage/e2ee-dehydrated.js";
import { e2eKeysRepo } from "../storage/e2ee-keys.js";
import { devicesRepo } from "../storage/devices.js";
import { e2eStreamsRepo } from "../storage/e2ee-streams.js";
import { invalidParam, notFound, forbidden } from "../http/errors.js";
import { canonical, type Json } from "./key-objects.js";
import type { DeviceLists } from "./device-lists.js";
import type { DeviceKeys, UploadBody } from "./device-keys.js";
import type { ToDevice } from "./to-device.js";

export interface DehydratedDeviceBody extends UploadBody {
  device_id: string;
  device_data: Json;
  initial_device_display_name?: string;
}

export class DehydratedDevices {
  private readonly repo;

  constructor(
    private readonly storage: Storage,
    private readonly lists: DeviceLists,
    private readonly keys: DeviceKeys,
    private readonly toDevice: ToDevice,
    private readonly now: () => number,
  ) {
    this.repo = e2eDehydratedRepo(storage.db);
  }

  async put(userId: string, body: DehydratedDeviceBody): Promise<{ device_id: string }> {
    const data = canonical(body.device_data, "device_data");
    if (body.device_keys === undefined) throw invalidParam("device_keys is required");
    const old = await this.repo.get(userId);
    const clash = await devicesRepo(this.storage.db).get(userId, body.device_id);
    if (clash && clash.device_id !== old?.device_id) throw invalidParam("device_id is already used by another device");
    await this.keys.otk.writing([userId], () =>
      this.lists.write(async (tx, mark) => {
        if (old) await this.remove(tx, userId, old.device_id);
        await devicesRepo(tx).upsert({
          user_id: userId,
          device_id: body.device_id,
          display_name: body.initial_device_display_name ?? null,
          created_ts: this.now(),
          last_seen_ts: null,
          last_seen_ip: null,
          last_seen_user_agent: null,
        });
        await this.keys.uploadIn(tx, mark, userId, body.device_id, body);
        await e2eDehydratedRepo(tx).put(userId, body.device_id, data);
        mark(userId);
      }),
    );
    return { device_id: body.device_id };
  }

  private async remove(tx: Storage["db"], userId: string, deviceId: string): Promise<void> {
    await devicesRepo(tx).delete(userId, [deviceId]);
    await e2eKeysRepo(tx).deleteDevices(userId, [deviceId]);
    await e2eStreamsRepo(tx).deleteInboxes(userId, [deviceId]);
    await e2eDehydratedRepo(tx).delete(userId);
  }

  async get(userId: string): Promise<{ device_id: string; device_data: Json }> {
    const row = await this.repo.get(userId);
    if (!row) throw notFound("No dehydrated device");
    return { device_id: row.device_id, device_data: JSON.parse(row.device_data) as Json };
  }

  async delete(userId: string): Promise<{ device_id: string }> {
    const row = await this.repo.get(userId);
    if (!row) throw notFound("No dehydrated device");
    await this.keys.otk.writing([userId], () =>
      this.lists.write(async (tx, mark) => {
        await this.remove(tx, userId, row.device_id);
        mark(userId);
      }),
    );
    return { device_id: row.device_id };
  }

  /**
   * POST .../dehydrated_device/{deviceId}/events: the device's to-device messages, in pages.
   * `next_batch` acknowledges (deletes) everything of the previous pages.
   */
  async events(userId: string, deviceId: string, nextBatch: string | undefined): Promise<{ events: Json[]; next_batch: string }> {
    const row = await this.repo.get(userId);
    if (!row || row.device_id !== deviceId) throw forbidden("Not your dehydrated device");
    let after = 0;
    if (nextBatch !== undefined) {
      if (!/^\d{1,15}$/.test(nextBatch)) throw invalidParam("Invalid next_batch");
      after = Number(nextBatch);
      await this.toDevice.acknowledge(userId, deviceId, after);
    }
    const page = await this.toDevice.pending(userId, deviceId, after);
    return { events: page.events, next_batch: String(page.last) };
  }

  /** The dehydrated device was deleted as a device (DELETE /devices/{id}): forget it here too. */
  async devicesDeleted(userId: string, deviceIds: string[]): Promise<void> {
    const row = await this.repo.get(userId);
    if (row && deviceIds.includes(row.device_id)) await this.repo.delete(userId);
  }
}
