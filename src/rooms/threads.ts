// Listing a room's threads (client-server API "Threading" → "Querying threads in a room",
// GET /rooms/{roomId}/threads, spec v1.4): thread roots ordered by their latest reply, newest
// first, each with its bundled m.thread aggregation.
import type { Storage } from "../storage/database.js";
import { eventsRepo, type EventRow } from "../storage/events.js";
import { accountDataRepo } from "../storage/account-data.js";
import { redactEvent } from "../matrix/redaction.js";
import type { RoomWriter } from "./writer.js";
import type { RoomReader } from "./history.js";
import { serializeEvents, type ClientEvent, type Viewer } from "./serialize.js";
import { parseRoomToken, roomToken } from "./tokens.js";

export const THREADS_DEFAULT_LIMIT = 20;
export const THREADS_MAX_LIMIT = 100;
const MAX_ROUNDS = 8;

export interface ThreadsQuery {
  include: "all" | "participated";
  from?: string;
  limit: number;
}

export class Threads {
  private readonly events;

  constructor(
    private readonly storage: Storage,
    private readonly reader: RoomReader,
    private readonly writer: RoomWriter,
    private readonly now: () => number,
  ) {
    this.events = eventsRepo(storage.db);
  }

  /**
   * The token is a stream position: the next page holds threads whose latest reply is at or before
   * it. Only roots the reader may see are listed, and only replies they may read order them.
   */
  async list(viewer: Viewer, roomId: string, q: ThreadsQuery): Promise<{ chunk: ClientEvent[]; next_batch?: string }> {
    // 403 for a reader who cannot view the room (the spec's documented error for this endpoint).
    const view = await this.reader.viewFor(viewer, roomId);
    const upTo = Math.min(this.writer.currentPosition(), view.readLimit());
    let cursor = q.from !== undefined ? parseRoomToken(q.from) : upTo;
    const roots: EventRow[] = [];
    let more = true;
    for (let round = 0; round < MAX_ROUNDS && roots.length < q.limit && more; round++) {
      const want = Math.max(q.limit - roots.length, 10);
      const batch = await this.events.threadRoots(roomId, {
        upTo,
        latestAtMost: cursor,
        participant: q.include === "participated" ? viewer.userId : undefined,
        limit: want + 1,
      });
      const rows = new Map((await this.events.getMany(batch.slice(0, want).map((b) => b.root_id))).map((r) => [r.event_id, r]));
      let i = 0;
      for (; i < batch.length && i < want && roots.length < q.limit; i++) {
        cursor = batch[i]!.latest - 1;
        const root = rows.get(batch[i]!.root_id);
        if (root && view.canSee(root)) roots.push(root);
      }
      more = i < batch.length;
    }
    const chunk = await serializeEvents(this.storage, await this.hideIgnored(viewer, roomId, roots), viewer, this.now(), { views: new Map([[roomId, view]]) });
    return more ? { chunk, next_batch: roomToken(cursor) } : { chunk };
  }

  /** A root sent by a user the reader ignores is returned redacted (spec, /threads response). */
  private async hideIgnored(viewer: Viewer, roomId: string, roots: EventRow[]): Promise<EventRow[]> {
    if (roots.length === 0) return roots;
    const row = await accountDataRepo(this.storage.db).get(viewer.userId, "", "m.ignored_user_list");
    const users = row ? (JSON.parse(row.content) as { ignored_users?: unknown }).ignored_users : undefined;
    if (typeof users !== "object" || users === null || Array.isArray(users)) return roots;
    const ignored = new Set(Object.keys(users));
    if (!roots.some((r) => ignored.has(r.sender))) return roots;
    const { version } = await this.writer.snapshot(roomId);
    return roots.map((r) => {
      if (!ignored.has(r.sender) || r.redacted_by !== null) return r;
      const redacted = redactEvent(JSON.parse(r.json) as Record<string, unknown>, version);
      return { ...r, json: JSON.stringify({ ...redacted, event_id: r.event_id }) };
    });
  }
}
