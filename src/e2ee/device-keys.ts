// Device keys (client-server API "Device keys"): /keys/upload, /keys/query, /keys/changes.
import type { Storage, Db } from "../storage/database.js";
import { e2eKeysRepo } from "../storage/e2ee-keys.js";
import { e2eCrossSigningRepo } from "../storage/e2ee-cross-signing.js";
import { invalidParam } from "../http/errors.js";
import { parseUserId } from "../matrix/identifiers.js";
import { checkDeviceKeys, withSignatures, isObject, type Json } from "./key-objects.js";
import type { DeviceLists, Mark } from "./device-lists.js";
import type { OneTimeKeys } from "./one-time-keys.js";

export const MAX_QUERY_USERS = 5000;

export interface UploadBody {
  device_keys?: Json;
  one_time_keys?: Json;
  fallback_keys?: Json;
}

export class DeviceKeys {
  private readonly repo;
  private readonly crossSigning;

  constructor(
    private readonly storage: Storage,
    private readonly serverName: string,
    private readonly lists: DeviceLists,
    readonly otk: OneTimeKeys,
  ) {
    this.repo = e2eKeysRepo(storage.db);
    this.crossSigning = e2eCrossSigningRepo(storage.db);
  }

  /** POST /keys/upload: everything checked, then stored in one transaction. */
  async upload(userId: string, deviceId: string, body: UploadBody): Promise<{ one_time_key_counts: Record<string, number> }> {
    await this.otk.writing([userId], () => this.lists.write((tx, mark) => this.uploadIn(tx, mark, userId, deviceId, body)));
    return { one_time_key_counts: (await this.otk.counts(userId, deviceId)).oneTimeKeyCounts };
  }

  /** The upload's work inside a caller's transaction (dehydrated devices reuse it), which must run
   * inside `OneTimeKeys.writing()` for the user. */
  async uploadIn(tx: Db, mark: Mark, userId: string, deviceId: string, body: UploadBody): Promise<void> {
    const repo = e2eKeysRepo(tx);
    const stored = await repo.deviceKeys(userId, deviceId);
    let ed25519 = stored ? ((JSON.parse(stored.key_json) as { keys: Record<string, string> }).keys[`ed25519:${deviceId}`]) : undefined;
    if (body.device_keys !== undefined) {
      const k = checkDeviceKeys(body.device_keys, userId, deviceId);
      ed25519 = k.ed25519;
      if (!stored || stored.key_json !== k.json) {
        await repo.putDeviceKeys(userId, deviceId, k.json);
        mark(userId);
      }
    }
    await this.otk.store(tx, userId, deviceId, ed25519, body.one_time_keys, body.fallback_keys);
  }

  /**
   * POST /keys/query: device keys of the listed users (all devices for an empty list), with their
   * cross-signing keys. Signatures made by other users are shown only to their maker.
   */
  async query(viewer: string, request: Record<string, string[]>): Promise<Json> {
    const users = Object.keys(request);
    if (users.length > MAX_QUERY_USERS) throw invalidParam(`At most ${MAX_QUERY_USERS} users per query`);
    const local: string[] = [];
    const failures: Json = {};
    for (const u of users) {
      const parsed = parseUserId(u);
      if (!parsed) throw invalidParam(`Invalid user id: ${u.slice(0, 100)}`);
      if (parsed.serverName === this.serverName) local.push(u);
      else failures[parsed.serverName] = { errcode: "M_UNAVAILABLE", error: "This server does not federate" };
    }
    const device_keys: Record<string, Record<string, Json>> = {};
    const master_keys: Json = {};
    const self_signing_keys: Json = {};
    const user_signing_keys: Json = {};
    const sigs = new Map<string, Array<{ signer_user_id: string; signer_key_id: string; signature: string }>>();
    for (const s of await this.crossSigning.signaturesOn(local, viewer)) {
      const k = `${s.target_user_id}\u0000${s.target_key_id}`;
      const list = sigs.get(k) ?? [];
      list.push(s);
      sigs.set(k, list);
    }
    for (const u of local) device_keys[u] = {};
    for (const r of await this.repo.deviceKeysOf(local)) {
      const wanted = request[r.user_id]!;
      if (wanted.length > 0 && !wanted.includes(r.device_id)) continue;
      const keys = withSignatures(JSON.parse(r.key_json) as Json, sigs.get(`${r.user_id}\u0000${r.device_id}`) ?? []);
      const unsigned = isObject(keys.unsigned) ? keys.unsigned : {};
      device_keys[r.user_id]![r.device_id] = { ...keys, unsigned: { ...unsigned, ...(r.display_name !== null ? { device_display_name: r.display_name } : {}) } };
    }
    for (const r of await this.crossSigning.keysOf(local)) {
      const key = withSignatures(JSON.parse(r.key_json) as Json, sigs.get(`${r.user_id}\u0000${r.public_key}`) ?? []);
      if (r.key_type === "master") master_keys[r.user_id] = key;
      else if (r.key_type === "self_signing") self_signing_keys[r.user_id] = key;
      else if (r.key_type === "user_signing" && r.user_id === viewer) user_signing_keys[r.user_id] = key;
    }
    return { device_keys, master_keys, self_signing_keys, user_signing_keys, failures };
  }

  /** Device and keys gone with the devices (logout, deletion): others must hear of it. */
  async devicesDeleted(userId: string, deviceIds: string[]): Promise<void> {
    if (deviceIds.length === 0) return;
    await this.otk.writing([userId], () =>
      this.lists.write(async (tx, mark) => {
        await e2eKeysRepo(tx).deleteDevices(userId, deviceIds);
        mark(userId);
      }),
    );
  }
}
