// The signing thread of EventSigner (signer.ts): hashes and signs new events off the main thread.
// It receives the server's key once (workerData) and then events, and answers each with what
// signNewEvent computed, or the error it threw (by name and message, rebuilt on the other side).
import { parentPort, workerData } from "node:worker_threads";
import { signingKeyFromSeed } from "./signing.js";
import { signResponse, type SignRequest, type SignResponse } from "./signer.js";

const { serverName, keyId, seed } = workerData as { serverName: string; keyId: string; seed: Uint8Array };
const key = signingKeyFromSeed(keyId, seed);

parentPort!.on("message", (batch: SignRequest[]) => {
  const out: SignResponse[] = batch.map(({ id, event, roomVersion }) => signResponse(id, event, roomVersion, serverName, key));
  parentPort!.postMessage(out);
});
