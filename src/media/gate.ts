// The antivirus gate: a file becomes downloadable only after clamd said it is clean. Infected files
// are moved out of the servable area and the verdict stays in the database for the operators.
import type { Logger } from "pino";
import type { MediaRepo } from "../storage/media.js";
import type { MediaStore } from "./store.js";
import { ScannerUnavailableError, type Scanner } from "./antivirus.js";
import { originalKey, quarantineKey, thumbnailPrefix } from "./keys.js";

/** What the gate says about one file. */
export type GateDecision = "clean" | "infected" | "quarantined" | "unavailable";

/** How long a client is told to wait before asking again when the scanner is down. */
export const GATE_RETRY_MS = 10_000;


/** Moves files out of the servable area; the database row says who, when and why. */
export class Quarantine {
  constructor(
    private readonly repo: MediaRepo,
    private readonly store: MediaStore,
    private readonly now: () => number,
  ) {}

  /** False when the media was already quarantined (the first reason is kept). */
  async quarantine(mediaId: string, by: string, reason: string): Promise<boolean> {
    // The row first: once it says quarantined nothing is served, even if the move below fails.
    const changed = await this.repo.quarantine(mediaId, by, reason, this.now());
    await this.moveFile(mediaId);
    await this.store.delete(thumbnailPrefix(mediaId));
    return changed;
  }

  private async moveFile(mediaId: string): Promise<void> {
    try {
      await this.store.move(originalKey(mediaId), quarantineKey(mediaId));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e; // already moved, or never uploaded
    }
  }
}

export class ScanGate {
  /** One scan per file at a time: concurrent downloads of an unscanned file share it. */
  private readonly inFlight = new Map<string, Promise<GateDecision>>();

  constructor(
    private readonly repo: MediaRepo,
    private readonly store: MediaStore,
    private readonly scanner: Scanner | undefined,
    private readonly quarantine: Quarantine,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {}

  get enabled(): boolean {
    return this.scanner !== undefined;
  }

  /** The decision for an uploaded file, scanning it now when it has not been scanned yet. */
  async check(mediaId: string): Promise<GateDecision> {
    const row = await this.repo.get(mediaId);
    if (row === undefined) return "quarantined";
    if (row.status === "infected") return "infected";
    if (row.quarantined_by !== null) return "quarantined";
    if (row.status === "clean" || row.status === "skipped") return "clean";
    let p = this.inFlight.get(mediaId);
    if (p === undefined) {
      p = this.scan(mediaId).finally(() => this.inFlight.delete(mediaId));
      this.inFlight.set(mediaId, p);
    }
    return p;
  }

  private async scan(mediaId: string): Promise<GateDecision> {
    if (this.scanner === undefined) {
      await this.repo.setScan(mediaId, { status: "skipped", result: "antivirus disabled", ts: this.now() });
      return "clean";
    }
    const obj = await this.store.read(originalKey(mediaId));
    if (obj === undefined) return "quarantined";
    try {
      const verdict = await this.scanner.scan(obj.stream);
      if (!verdict.infected) {
        await this.repo.setScan(mediaId, { status: "clean", result: null, ts: this.now() });
        return "clean";
      }
      await this.repo.setScan(mediaId, { status: "infected", result: verdict.signature, ts: this.now() });
      await this.quarantine.quarantine(mediaId, "antivirus", `infected: ${verdict.signature}`);
      this.log.warn({ media_id: mediaId, signature: verdict.signature }, "antivirus: infected upload quarantined");
      return "infected";
    } catch (e) {
      obj.stream.destroy();
      if (!(e instanceof ScannerUnavailableError)) throw e;
      this.log.warn({ media_id: mediaId, err: { message: e.message } }, "antivirus: scanner unavailable");
      await this.repo.setScan(mediaId, { status: "unscanned", result: e.message.slice(0, 500), ts: this.now() });
      return "unavailable";
    }
  }
}
