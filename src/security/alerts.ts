// Security alerts for admins: stored in the database and POSTed to a configured webhook (JSON).
// Server notices and email are later channels; they read the same table.
import type { Logger } from "pino";
import type { Storage } from "../storage/database.js";
import { alertsRepo } from "../storage/audit.js";

export interface SecurityAlert {
  userId: string;
  kind: string;
  detail: Record<string, unknown>;
}

const RETRY_DELAYS_MS = [0, 500, 2000, 8000];

export class SecurityAlerts {
  private readonly repo;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    storage: Storage,
    private readonly webhookUrl: string | undefined,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {
    this.repo = alertsRepo(storage.db);
  }

  /** Stores the alert, then delivers it in the background (retried; never blocks the request). */
  async raise(a: SecurityAlert): Promise<number> {
    const ts = this.now();
    const id = await this.repo.insert({ ts, user_id: a.userId, kind: a.kind, detail: JSON.stringify(a.detail) });
    this.log.warn({ alert_id: id, user_id: a.userId, kind: a.kind }, "security alert");
    if (this.webhookUrl) {
      const p = this.deliver(id, { id, ts, user_id: a.userId, kind: a.kind, detail: a.detail }).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
    return id;
  }

  list(limit?: number) {
    return this.repo.list(limit);
  }

  /** Waits for deliveries in progress (tests, shutdown). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async deliver(id: number, body: Record<string, unknown>): Promise<void> {
    for (const delay of RETRY_DELAYS_MS) {
      if (delay) await new Promise((r) => setTimeout(r, delay).unref());
      try {
        const res = await fetch(this.webhookUrl!, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
          signal: AbortSignal.timeout(5000),
        });
        if (res.ok) {
          await this.repo.markDelivered(id);
          return;
        }
      } catch {
        // retried below
      }
    }
    this.log.error({ alert_id: id }, "security alert webhook unreachable; the alert stays in the database");
  }
}
