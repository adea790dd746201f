// The forensic report service (docs/read-gate.md "Forensic report"): verifies the audit chain,
// then reconstructs what an account read, or who read a room or an event. Used by the admin API
// (through App), by `rempart forensics` (on the configured database, server stopped or running)
// and by the breach replay harness (totals()).
import type { KeyObject } from "node:crypto";
import type { Storage } from "../../storage/database.js";
import { verifyTrail } from "../audit/verify.js";
import { collectReaders, collectUser } from "./collect.js";
import type { ReverseReport, Totals, TrailCheck, UserReport } from "./model.js";

export interface Period {
  since?: number;
  until?: number;
}

export class Forensics {
  constructor(
    private readonly storage: Storage,
    private readonly publicKey: KeyObject,
    private readonly serverName: string,
    /** Writes queued audit records first, so a report sees every read up to now. */
    private readonly flush: () => Promise<void> = async () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  async verify(): Promise<TrailCheck> {
    const r = await verifyTrail(this.storage, this.publicKey, this.serverName);
    return { verified: r.ok, records: r.records, checkpoints: r.checkpoints, ...(r.bad ? { problem: `record ${r.bad.seq}: ${r.bad.reason}` } : {}) };
  }

  async userReport(userId: string, p: Period = {}): Promise<UserReport> {
    await this.flush();
    const { since, until } = this.period(p);
    const trail = await this.verify();
    return { ...(await collectUser(this.storage.db, userId, since, until)), trail };
  }

  async readersReport(roomId: string, eventId: string | undefined, p: Period = {}): Promise<ReverseReport> {
    await this.flush();
    const { since, until } = this.period(p);
    const trail = await this.verify();
    const readers = await collectReaders(this.storage.db, roomId, eventId, since, until);
    return { kind: eventId === undefined ? "room" : "event", room_id: roomId, ...(eventId !== undefined ? { event_id: eventId } : {}), since, until, trail, readers };
  }

  /** What an account received through gated reads since `sinceMs` (no chain verification: the
   * breach harness compares these with what its intruder counted). */
  async totals(userId: string, sinceMs: number): Promise<Totals> {
    await this.flush();
    return (await collectUser(this.storage.db, userId, sinceMs, Number.MAX_SAFE_INTEGER)).totals;
  }

  private period(p: Period): { since: number; until: number } {
    return { since: p.since ?? 0, until: p.until ?? this.now() + 1 };
  }
}
