// End-to-end encryption services, built once and wired to the rest of the server: sync gets the
// to-device and device-list extensions, device deletion and account deactivation clean up keys.
import type { Logger } from "pino";
import type { Storage } from "../storage/database.js";
import type { Notifier } from "../rooms/notifier.js";
import type { RoomWriter } from "../rooms/writer.js";
import type { SyncService } from "../sync/sync.js";
import type { Devices } from "../accounts/devices.js";
import type { Accounts } from "../accounts/accounts.js";
import { e2eKeysRepo } from "../storage/e2ee-keys.js";
import { e2eCrossSigningRepo } from "../storage/e2ee-cross-signing.js";
import { e2eKeyBackupRepo } from "../storage/e2ee-key-backup.js";
import { e2eDehydratedRepo } from "../storage/e2ee-dehydrated.js";
import { e2eStreamsRepo } from "../storage/e2ee-streams.js";
import { DeviceLists } from "./device-lists.js";
import { ToDevice } from "./to-device.js";
import { OneTimeKeys } from "./one-time-keys.js";
import { DeviceKeys } from "./device-keys.js";
import { CrossSigning } from "./cross-signing.js";
import { KeyBackup } from "./key-backup.js";
import { DehydratedDevices } from "./dehydrated-devices.js";

export interface E2ee {
  deviceLists: DeviceLists;
  toDevice: ToDevice;
  oneTimeKeys: OneTimeKeys;
  deviceKeys: DeviceKeys;
  crossSigning: CrossSigning;
  keyBackup: KeyBackup;
  dehydrated: DehydratedDevices;
}

export async function createE2ee(deps: {
  storage: Storage;
  serverName: string;
  notifier: Notifier;
  writer: RoomWriter;
  sync: SyncService;
  devices: Devices;
  accounts: Accounts;
  log: Logger;
  now: () => number;
}): Promise<E2ee> {
  const { storage, serverName, notifier, now } = deps;
  const deviceLists = await DeviceLists.open(storage, notifier, deps.writer, deps.log);
  const toDevice = await ToDevice.open(storage, serverName, notifier, now);
  const oneTimeKeys = new OneTimeKeys(storage, serverName);
  toDevice.setOneTimeKeys(oneTimeKeys);
  const deviceKeys = new DeviceKeys(storage, serverName, deviceLists, oneTimeKeys);
  const dehydrated = new DehydratedDevices(storage, deviceLists, deviceKeys, toDevice, now);
  const e: E2ee = {
    deviceLists,
    toDevice,
    oneTimeKeys,
    deviceKeys,
    crossSigning: new CrossSigning(storage, deviceLists),
    keyBackup: new KeyBackup(storage),
    dehydrated,
  };
  deps.sync.addExtension(toDevice);
  deps.sync.addExtension(deviceLists);
  deps.devices.onDelete(async (userId, deviceIds) => {
    await deviceKeys.devicesDeleted(userId, deviceIds);
    await toDevice.deleteInboxes(userId, deviceIds);
    await dehydrated.devicesDeleted(userId, deviceIds);
  });
  // A deactivated account keeps no keys (spec "Account deactivation": the server deletes them).
  deps.accounts.onDeactivate(async (userId) => {
    await oneTimeKeys.writing([userId], () =>
      deviceLists.write(async (tx, mark) => {
        await e2eKeysRepo(tx).deleteUser(userId);
        await e2eCrossSigningRepo(tx).deleteUser(userId);
        await e2eKeyBackupRepo(tx).deleteUser(userId);
        await e2eDehydratedRepo(tx).delete(userId);
        await e2eStreamsRepo(tx).deleteInboxes(userId);
        mark(userId);
      }),
    );
  });
  return e;
}
