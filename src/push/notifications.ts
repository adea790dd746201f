// Unread notification counts for /sync (client-server API "Receiving notifications", "Marking
// notifications as read", threaded counts) and the /notifications listing.
import type { Storage } from "../storage/database.js";
import { pushActionsRepo, type UnreadRow } from "../storage/push-actions.js";
import { UnreadBatch } from "./unread-batch.js";
import { eventsRepo } from "../storage/events.js";
import { receiptsRepo } from "../storage/receipts.js";
import type { UnreadCounts, SyncUser } from "../sync/sync.js";
import { toClientEvent } from "../rooms/serialize.js";
import { invalidParam } from "../http/errors.js";
import type { PushAction } from "../matrix/push-rules.js";

type Counts = { notification_count: number; highlight_count: number };

export class Notifications implements UnreadCounts {
  private readonly actions;
  private readonly events;
  private readonly receipts;
  private readonly batch: UnreadBatch;

  constructor(
    storage: Storage,
    private readonly now: () => number,
  ) {
    this.actions = pushActionsRepo(storage.db);
    this.events = eventsRepo(storage.db);
    this.receipts = receiptsRepo(storage.db);
    this.batch = new UnreadBatch(this.actions);
  }

  /** For /sync: per room, and per thread when the filter asks for unread_thread_notifications. */
  async forRooms(user: SyncUser, roomIds: string[], threaded: boolean): Promise<Map<string, { unread_notifications: Counts; unread_thread_notifications?: Record<string, Counts> }>> {
    const out = new Map<string, { unread_notifications: Counts; unread_thread_notifications?: Record<string, Counts> }>();
    for (const id of roomIds) out.set(id, threaded ? { unread_notifications: zero(), unread_thread_notifications: {} } : { unread_notifications: zero() });
    for (let i = 0; i < roomIds.length; i += 500) {
      for (const r of await this.batch.get(user.userId, roomIds.slice(i, i + 500))) {
        const entry = out.get(r.room_id)!;
        // Threaded: the room counts cover the main timeline only, threads are counted apart.
        if (threaded && r.thread_id !== "main") entry.unread_thread_notifications![r.thread_id] = add(entry.unread_thread_notifications![r.thread_id] ?? zero(), r);
        else add(entry.unread_notifications, r);
      }
    }
    return out;
  }

  /** Push gateway "counts.unread": unread notifications across all the user's rooms. */
  async totalUnread(userId: string): Promise<number> {
    let n = 0;
    for (const r of await this.actions.unread(userId)) n += r.notifications;
    return n;
  }

  /** GET /notifications: newest first; `from` is the next_token of a previous page. */
  async list(userId: string, opts: { from?: string; limit: number; only?: string }): Promise<{ notifications: unknown[]; next_token?: string }> {
    let before: number | undefined;
    if (opts.from !== undefined) {
      if (!/^\d{1,15}$/.test(opts.from)) throw invalidParam("Invalid from token");
      before = Number(opts.from);
    }
    const rows = await this.actions.page(userId, { before, limit: opts.limit, onlyHighlight: opts.only === "highlight" });
    const events = new Map((await this.events.getMany(rows.map((r) => r.event_id))).map((e) => [e.event_id, e]));
    const roomIds = [...new Set(rows.map((r) => r.room_id))];
    const read = new Map<string, number>();
    for (const p of await this.receipts.readPositions(userId, roomIds)) {
      const k = `${p.room_id}|${p.thread_id}`;
      read.set(k, Math.max(read.get(k) ?? 0, p.pos));
    }
    for (const r of await this.actions.implicitReads(userId, roomIds)) {
      const k = `${r.room_id}|`;
      read.set(k, Math.max(read.get(k) ?? 0, Number(r.stream_ordering)));
    }
    const now = this.now();
    const notifications: unknown[] = [];
    for (const r of rows) {
      const ev = events.get(r.event_id);
      if (!ev) continue;
      const readUpTo = Math.max(read.get(`${r.room_id}|`) ?? 0, read.get(`${r.room_id}|${r.thread_id}`) ?? 0);
      notifications.push({
        actions: JSON.parse(r.actions) as PushAction[],
        event: toClientEvent(ev, { userId, deviceId: "" }, now),
        read: r.stream_ordering <= readUpTo,
        room_id: r.room_id,
        ts: r.ts,
      });
    }
    const last = rows[rows.length - 1];
    return rows.length === opts.limit && last ? { notifications, next_token: String(last.stream_ordering) } : { notifications };
  }
}

const zero = (): Counts => ({ notification_count: 0, highlight_count: 0 });

function add(c: Counts, r: UnreadRow): Counts {
  c.notification_count += r.notifications;
  c.highlight_count += r.highlights;
  return c;
}
