// Event reports for operators (Synapse admin API "Event Reports"): list with filters, one report
// with the reported event, delete. Reports are written by /rooms/{roomId}/report.
import type { Storage } from "../storage/database.js";
import { adminReportsRepo, type ReportListQuery } from "../storage/admin-reports.js";
import { eventsRepo } from "../storage/events.js";
import type { PDU } from "../matrix/pdu.js";
import { invalidParam, notFound } from "../http/errors.js";

type ReportRow = Awaited<ReturnType<ReturnType<typeof adminReportsRepo>["get"]>> & {};

export class AdminReports {
  private readonly repo;
  private readonly events;

  constructor(storage: Storage) {
    this.repo = adminReportsRepo(storage.db);
    this.events = eventsRepo(storage.db);
  }

  /** Name and canonical alias of each room, for the operator's list (one read per distinct room). */
  private async roomLabels(roomIds: string[]): Promise<Map<string, { name: string | null; canonical_alias: string | null }>> {
    const out = new Map<string, { name: string | null; canonical_alias: string | null }>();
    for (const id of new Set(roomIds)) {
      const read = async (type: string, key: string) => {
        const ev = await this.events.currentStateEvent(id, type, "");
        const v = ev ? (JSON.parse(ev.json) as PDU).content?.[key] : undefined;
        return typeof v === "string" ? v : null;
      };
      out.set(id, { name: await read("m.room.name", "name"), canonical_alias: await read("m.room.canonical_alias", "alias") });
    }
    return out;
  }

  private json(r: ReportRow, labels: Map<string, { name: string | null; canonical_alias: string | null }>) {
    const l = labels.get(r.room_id);
    return {
      id: Number(r.id),
      received_ts: Number(r.received_ts),
      room_id: r.room_id,
      name: l?.name ?? null,
      canonical_alias: l?.canonical_alias ?? null,
      // null for a report of a whole room (client-server API "Reporting content": /rooms/{roomId}/report).
      event_id: r.event_id,
      user_id: r.user_id,
      reason: r.reason,
      score: r.score === null ? null : Number(r.score),
      // The event's sender; null once the room has been purged.
      sender: r.sender ?? null,
    };
  }

  async list(q: ReportListQuery) {
    const { rows, total } = await this.repo.list(q);
    const labels = await this.roomLabels(rows.map((r) => r.room_id));
    const out: Record<string, unknown> = { event_reports: rows.map((r) => this.json(r, labels)), total };
    if (q.from + rows.length < total) out.next_token = q.from + rows.length;
    return out;
  }

  private parseId(id: string): number {
    if (!/^\d{1,15}$/.test(id)) throw invalidParam("The report id must be a positive integer");
    return Number(id);
  }

  async get(id: string) {
    const r = await this.repo.get(this.parseId(id));
    if (!r) throw notFound("Event report not found");
    const json = this.json(r, await this.roomLabels([r.room_id]));
    return { ...json, event_json: r.json ? (JSON.parse(r.json) as PDU) : null };
  }

  async delete(id: string): Promise<void> {
    if (!(await this.repo.delete(this.parseId(id)))) throw notFound("Event report not found");
  }
}
