// Receipts and read markers (client-server API "Receipts", "Fully read markers").
import type { Storage } from "../storage/database.js";
import { receiptsRepo, type ReceiptRow } from "../storage/receipts.js";
import { eventsRepo } from "../storage/events.js";
import { streamsRepo } from "../storage/streams.js";
import type { Notifier } from "../rooms/notifier.js";
import type { RoomReader } from "../rooms/history.js";
import type { AccountData } from "../accounts/account-data.js";
import { badJson, forbidden, invalidParam, notFound } from "../http/errors.js";

export const RECEIPT_TYPES = ["m.read", "m.read.private", "m.fully_read"] as const;

export class Receipts {
  private readonly repo;
  private readonly events;
  private position = 0;

  private constructor(
    storage: Storage,
    private readonly reader: RoomReader,
    private readonly accountData: AccountData,
    private readonly notifier: Notifier,
    private readonly now: () => number,
  ) {
    this.repo = receiptsRepo(storage.db);
    this.events = eventsRepo(storage.db);
  }

  static async open(storage: Storage, reader: RoomReader, accountData: AccountData, notifier: Notifier, now: () => number): Promise<Receipts> {
    const r = new Receipts(storage, reader, accountData, notifier, now);
    r.position = await streamsRepo(storage.db).current("receipts");
    return r;
  }

  current(): number {
    return this.position;
  }

  /** POST /rooms/{roomId}/receipt/{receiptType}/{eventId}. */
  async send(user: { userId: string; deviceId: string }, roomId: string, receiptType: string, eventId: string, threadId?: string): Promise<void> {
    if (!(RECEIPT_TYPES as readonly string[]).includes(receiptType)) throw invalidParam("Unknown receipt type");
    const view = await this.reader.viewFor(user, roomId);
    if (view.currentMembership !== "join") throw forbidden("You are not in this room");
    const ev = await this.events.get(eventId);
    if (!ev || ev.room_id !== roomId || !view.canSee(ev)) throw notFound("Event not found");
    if (receiptType === "m.fully_read") {
      await this.accountData.put(user.userId, roomId, "m.fully_read", { event_id: eventId });
      return;
    }
    if (threadId !== undefined) {
      if (threadId === "") throw badJson("thread_id must not be empty");
      // A threaded receipt must point into its thread (spec "Threaded read receipts").
      if (threadId !== "main" && ev.thread_root !== threadId && ev.event_id !== threadId) throw badJson("The event is not in that thread");
    }
    const streamId = await this.repo.put({
      room_id: roomId,
      receipt_type: receiptType,
      user_id: user.userId,
      thread_id: threadId ?? "",
      event_id: eventId,
      event_stream_ordering: Number(ev.stream_ordering),
      ts: this.now(),
    });
    if (streamId === undefined) return;
    this.position = Math.max(this.position, streamId);
    if (receiptType === "m.read.private") this.notifier.publishToUsers("receipts", [user.userId]);
    else this.notifier.publishToRoom("receipts", roomId);
  }

  /** POST /rooms/{roomId}/read_markers. */
  async readMarkers(user: { userId: string; deviceId: string }, roomId: string, markers: { fullyRead?: string; read?: string; readPrivate?: string }): Promise<void> {
    if (markers.fullyRead) await this.send(user, roomId, "m.fully_read", markers.fullyRead);
    if (markers.read) await this.send(user, roomId, "m.read", markers.read);
    if (markers.readPrivate) await this.send(user, roomId, "m.read.private", markers.readPrivate);
  }

  /** m.receipt EDUs per room for a sync: receipts changed after `since`; private ones only the user's own. */
  async changes(userId: string, roomIds: string[], since: number): Promise<Map<string, Record<string, unknown>>> {
    const rows = await this.repo.since(roomIds, since);
    const out = new Map<string, Record<string, unknown>>();
    for (const r of rows) {
      if (r.receipt_type === "m.read.private" && r.user_id !== userId) continue;
      const content = (out.get(r.room_id) ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
      const byType = (content[r.event_id] ??= {});
      const byUser = (byType[r.receipt_type] ??= {}) as Record<string, unknown>;
      byUser[r.user_id] = receiptData(r);
      out.set(r.room_id, content);
    }
    return out;
  }

  readPositions(userId: string, roomIds: string[]) {
    return this.repo.readPositions(userId, roomIds);
  }
}

function receiptData(r: ReceiptRow): Record<string, unknown> {
  const d: Record<string, unknown> = { ts: Number(r.ts) };
  if (r.thread_id !== "") d.thread_id = r.thread_id;
  return d;
}
