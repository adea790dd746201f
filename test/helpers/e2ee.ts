// matrix-js-sdk clients with the Rust crypto (in-memory store), for end-to-end encryption tests.
// See ../shared/reference/test-peers.md for the traps: initRustCrypto before startClient, one fresh
// device per client, wait for PREPARED, and the sender must see the room's encryption state and
// the recipient's membership before sending.
import * as sdk from "matrix-js-sdk";
import type { CryptoApi } from "matrix-js-sdk/lib/crypto-api/index.js";
import { sdkLogger } from "./sdk.js";
import type { TestUser } from "./server.js";

/** Secret storage keys created by bootstrapSecretStorage, per user: what a user would type in. */
export const secretStorageKeys = new Map<string, { keyId: string; key: Uint8Array }>();

export interface CryptoClient {
  client: sdk.MatrixClient;
  crypto: CryptoApi;
  user: TestUser;
}

export async function cryptoClient(baseUrl: string, user: TestUser): Promise<CryptoClient> {
  const client = sdk.createClient({
    baseUrl,
    accessToken: user.accessToken,
    userId: user.userId,
    deviceId: user.deviceId,
    logger: sdkLogger,
    cryptoCallbacks: {
      getSecretStorageKey: async ({ keys }) => {
        const k = secretStorageKeys.get(user.userId);
        return k && keys[k.keyId] ? [k.keyId, k.key] : null;
      },
      cacheSecretStorageKey: (keyId, _info, key) => {
        secretStorageKeys.set(user.userId, { keyId, key });
      },
    },
  });
  // Push rules are another area's endpoint (the push branch); until it lands, answer the SDK's
  // start-up request with the empty rule set so that sync can start. Harmless once it exists.
  client.getPushRules = async () => ({ global: { override: [], content: [], room: [], sender: [], underride: [] } }) as unknown as Awaited<ReturnType<sdk.MatrixClient["getPushRules"]>>;
  await client.initRustCrypto({ useIndexedDB: false });
  const prepared = new Promise<void>((resolve, reject) => {
    const onSync = (state: sdk.SyncState) => {
      if (state === sdk.SyncState.Prepared) {
        client.off(sdk.ClientEvent.Sync, onSync);
        resolve();
      } else if (state === sdk.SyncState.Error) reject(new Error("sync failed"));
    };
    client.on(sdk.ClientEvent.Sync, onSync);
  });
  await client.startClient({ initialSyncLimit: 50 });
  await prepared;
  return { client, crypto: client.getCrypto()!, user };
}

/** The password answer to user-interactive auth, as a client would collect it. */
export function passwordAuth(user: TestUser): sdk.UIAuthCallback<void> {
  return async (makeRequest) => {
    await makeRequest({ type: "m.login.password", identifier: { type: "m.id.user", user: user.userId }, password: user.password } as sdk.AuthDict);
  };
}

/** Cross-signing, secret storage and a key backup for this client's user. */
export async function setUpSecurity(c: CryptoClient): Promise<void> {
  await c.crypto.bootstrapCrossSigning({ authUploadDeviceSigningKeys: passwordAuth(c.user) });
  await c.crypto.bootstrapSecretStorage({
    setupNewSecretStorage: true,
    setupNewKeyBackup: true,
    createSecretStorageKey: () => c.crypto.createRecoveryKeyFromPassphrase(),
  });
  await c.crypto.checkKeyBackupAndEnable();
}

/** Polls until `check` returns a value (the clients act on their own sync loops). */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Waits until the client has decrypted a message with this body in the room. */
export function decryptedBodies(c: sdk.MatrixClient, roomId: string): string[] {
  const room = c.getRoom(roomId);
  if (!room) return [];
  return room
    .getLiveTimeline()
    .getEvents()
    .filter((e) => e.getType() === "m.room.message" && e.isEncrypted())
    .map((e) => String(e.getContent().body));
}

export async function stop(...clients: CryptoClient[]): Promise<void> {
  for (const c of clients) c.client.stopClient();
}

export { sdk };
