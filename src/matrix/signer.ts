// Hashing and signing of new events (signNewEvent), on the main thread or on a signing thread.
//
// Why a thread: an Ed25519 signature, two Canonical JSON encodings and two SHA-256 are ~0.1–0.2 ms
// of a message send, a quarter to a third of the main thread's work per send when many clients
// send at once (bench/rooms.ts, 64 clients in 64 rooms: 0.49 → 0.33 ms of CPU per send with
// signing left out). Node runs the rest of the server on one thread; the signing thread uses the
// machine's other core. A lone sender gains nothing from it (the hand-over costs about what it
// saves, and adds latency), so events are signed here unless several sends are in progress: the
// caller says which (`offload`). The thread starts at the first offloaded event, not at start-up
// (idle memory), and requests that arrive together travel in one message.
import { Worker } from "node:worker_threads";
import { signNewEvent, type SigningKey, type Signatures } from "./signing.js";
import { CanonicalJsonError } from "./canonical-json.js";

export interface SignRequest {
  id: number;
  event: Record<string, unknown>;
  roomVersion: string;
}

export type SignResponse =
  | { id: number; sha256: string; signature: string; eventId: string; canonicalBytes: number }
  | { id: number; error: { name: string; message: string } };

/** signNewEvent's result for request `id`, as the signing thread sends it back (or its error). */
export function signResponse(id: number, event: Record<string, unknown>, roomVersion: string, serverName: string, key: SigningKey): SignResponse {
  try {
    const r = signNewEvent(event, roomVersion, serverName, key);
    return { id, sha256: r.event.hashes.sha256, signature: r.event.signatures[serverName]![key.keyId]!, eventId: r.eventId, canonicalBytes: r.canonicalBytes };
  } catch (e) {
    return { id, error: { name: (e as Error).name, message: (e as Error).message } };
  }
}

export type SignedEvent<T> = { event: T & { hashes: { sha256: string }; signatures: Signatures }; eventId: string; canonicalBytes: number };

interface Waiting {
  event: Record<string, unknown>;
  roomVersion: string;
  resolve: (r: SignResponse) => void;
}

export class EventSigner {
  private worker: Worker | undefined;
  private nextId = 1;
  private waiting = new Map<number, Waiting>();
  private outbox: SignRequest[] = [];
  private closed = false;

  constructor(
    private readonly serverName: string,
    private readonly key: SigningKey,
  ) {}

  /** signNewEvent, on the signing thread when `offload` (results are identical either way). */
  async sign<T extends Record<string, unknown>>(event: T, roomVersion: string, offload: boolean): Promise<SignedEvent<T>> {
    if (!offload || this.closed) return signNewEvent(event, roomVersion, this.serverName, this.key);
    const r = await this.viaWorker(event, roomVersion);
    if ("error" in r) {
      // The same error as signing here would have thrown (callers tell invalid content apart).
      if (r.error.name === "CanonicalJsonError") throw new CanonicalJsonError(r.error.message);
      throw new Error(r.error.message);
    }
    return {
      event: { ...event, hashes: { sha256: r.sha256 }, signatures: { [this.serverName]: { [this.key.keyId]: r.signature } } },
      eventId: r.eventId,
      canonicalBytes: r.canonicalBytes,
    };
  }

  /** Stops the signing thread (the server is stopping); what it had not answered, and later events, are signed here. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
    for (const id of [...this.waiting.keys()]) this.signHere(id);
  }

  private viaWorker(event: Record<string, unknown>, roomVersion: string): Promise<SignResponse> {
    const id = this.nextId++;
    return new Promise<SignResponse>((resolve) => {
      this.waiting.set(id, { event, roomVersion, resolve });
      this.outbox.push({ id, event, roomVersion });
      // Everything asked for in this turn of the event loop goes in one message.
      if (this.outbox.length === 1) queueMicrotask(() => this.post());
    });
  }

  private post(): void {
    const batch = this.outbox;
    this.outbox = [];
    if (batch.length === 0) return;
    if (this.closed) {
      for (const r of batch) this.signHere(r.id);
      return;
    }
    try {
      this.ensureWorker().postMessage(batch);
    } catch {
      // No thread (it could not start): sign here.
      for (const r of batch) this.signHere(r.id);
    }
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL("./signer-worker.js", import.meta.url), {
      workerData: { serverName: this.serverName, keyId: this.key.keyId, seed: this.key.seed },
    });
    // The thread never keeps the process alive by itself.
    w.unref();
    w.on("message", (batch: SignResponse[]) => {
      for (const r of batch) {
        const waiting = this.waiting.get(r.id);
        this.waiting.delete(r.id);
        waiting?.resolve(r);
      }
    });
    const lost = () => {
      if (this.worker !== w) return;
      this.worker = undefined;
      // Whatever it had not answered is signed here; the next offload starts a new thread.
      for (const id of [...this.waiting.keys()]) this.signHere(id);
    };
    w.on("error", lost);
    w.on("exit", lost);
    this.worker = w;
    return w;
  }

  private signHere(id: number): void {
    const waiting = this.waiting.get(id);
    if (!waiting) return;
    this.waiting.delete(id);
    waiting.resolve(signResponse(id, waiting.event, waiting.roomVersion, this.serverName, this.key));
  }
}
