// The signing thread of EventSigner (signer.ts): hashes and signs new events off the main thread.
// It receives the server's key once (workerData) and then events, and answers each with what
// signNewEvent computed, or the error it threw (by name and message, rebuilt on the other side).
import { parentPort, workerData } from "node:worker_threads";
import { signingKeyFromSeed, signNewEvent } from "./signing.js";
import type { SignRequest, SignResponse } from "./signer.js";

const { serverName, keyId, seed } = workerData as { serverName: string; keyId: string; seed: Uint8Array };
const key = signingKeyFromSeed(keyId, seed);

parentPort!.on("message", (batch: SignRequest[]) => {
  const out: SignResponse[] = batch.map(({ id, event, roomVersion }) => {
    try {
      const r = signNewEvent(event, roomVersion, serverName, key);
      return { id, sha256: r.event.hashes.sha256, signature: r.event.signatures[serverName]![keyId]!, eventId: r.eventId, canonicalBytes: r.canonicalBytes };
    } catch (e) {
      return { id, error: { name: (e as Error).name, message: (e as Error).message } };
    }
  });
  parentPort!.postMessage(out);
});
