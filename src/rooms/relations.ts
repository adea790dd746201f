// Reading relationships between events (client-server API "Relationships API",
// GET /rooms/{roomId}/relations/{eventId}[/{relType}[/{eventType}]]) and jumping to a date
// (GET /rooms/{roomId}/timestamp_to_event). Every event served passes the reader's history
// visibility; the relation index is written by the room writer (relations-index.ts).
import type { Storage } from "../storage/database.js";
import { eventsRepo, type EventRow } from "../storage/events.js";
import { notFound } from "../http/errors.js";
import type { RoomWriter } from "./writer.js";
import type { RoomReader } from "./history.js";
import type { VisibilityView } from "./visibility.js";
import { serializeEvents, type ClientEvent, type Viewer } from "./serialize.js";
import { parseRoomToken, roomToken } from "./tokens.js";

/**
 * How deep `recurse=true` follows relations of relations (spec v1.10 "recurse": servers SHOULD
 * traverse at least 3 levels and MUST NOT recurse infinitely). 3 covers the chains clients build:
 * a thread reply (1), its edit or reaction (2), a reference to that (3).
 */
export const RELATIONS_RECURSION_DEPTH = 3;
export const RELATIONS_DEFAULT_LIMIT = 50;
export const RELATIONS_MAX_LIMIT = 500;

/** Rounds of fetching when invisible events thin out a page, before returning a short page. */
const MAX_ROUNDS = 8;
const TIMESTAMP_BATCH = 100;
const TIMESTAMP_ROUNDS = 20;

export interface RelationsQuery {
  relType?: string;
  eventType?: string;
  from?: string;
  to?: string;
  dir: "b" | "f";
  limit: number;
  /** undefined when the client did not send the parameter (then recursion_depth is absent). */
  recurse?: boolean;
}

export interface RelationsResult {
  chunk: ClientEvent[];
  next_batch?: string;
  prev_batch?: string;
  recursion_depth?: number;
}

/**
 * Pages through rows in stream order, keeping those `keep` accepts, until `limit` are kept or the
 * range ends. Positions follow the room tokens (tokens.ts): going back from N includes N; going
 * forward from N starts after N. Returns the kept rows and, when rows remain, the next token.
 */
export async function pageByPosition<R extends { stream_ordering: number }>(
  fetch: (bounds: { after?: number; upTo?: number }, n: number) => Promise<R[]>,
  keep: (row: R) => boolean,
  q: { dir: "b" | "f"; limit: number; from: number; to?: number },
): Promise<{ rows: R[]; next?: string }> {
  const rows: R[] = [];
  let cursor = q.from;
  let more = true;
  for (let round = 0; round < MAX_ROUNDS && rows.length < q.limit && more; round++) {
    const want = Math.max(q.limit - rows.length, 10);
    const bounds = q.dir === "b" ? { upTo: cursor, after: q.to } : { after: cursor, upTo: q.to };
    // One row beyond what we want tells whether anything remains.
    const batch = await fetch(bounds, want + 1);
    let i = 0;
    for (; i < batch.length && i < want && rows.length < q.limit; i++) {
      const row = batch[i]!;
      cursor = q.dir === "b" ? Number(row.stream_ordering) - 1 : Number(row.stream_ordering);
      if (keep(row)) rows.push(row);
    }
    more = i < batch.length;
  }
  return more ? { rows, next: roomToken(cursor) } : { rows };
}

export class Relations {
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
   * GET /rooms/{roomId}/relations/{eventId}...: the parent's children, newest first by default.
   * 404 when the room, or the parent, is unknown or not visible to the reader (the spec's only
   * error here: "not found or the user does not have permission to read this event").
   */
  async children(viewer: Viewer, roomId: string, eventId: string, q: RelationsQuery): Promise<RelationsResult> {
    const view = await this.readableView(viewer, roomId);
    if (!view) throw notFound("Event not found");
    const parent = await this.events.get(eventId);
    if (!parent || parent.room_id !== roomId || !view.canSee(parent)) throw notFound("Event not found");

    const depth = q.recurse ? RELATIONS_RECURSION_DEPTH : 1;
    // Never past what is fully persisted (a later page must not skip an event still being written),
    // nor past what the reader may read.
    const ceiling = Math.min(this.writer.currentPosition(), view.readLimit());
    const from = q.from !== undefined ? parseRoomToken(q.from) : q.dir === "b" ? ceiling : 0;
    const to = q.to !== undefined ? parseRoomToken(q.to) : undefined;
    const page = await pageByPosition<EventRow>(
      (b, n) =>
        this.events.relationTree(roomId, eventId, {
          relType: q.relType,
          eventType: q.eventType,
          depth,
          after: b.after,
          upTo: b.upTo === undefined ? ceiling : Math.min(b.upTo, ceiling),
          dir: q.dir,
          limit: n,
        }),
      (row) => view.canSee(row),
      { dir: q.dir, limit: q.limit, from, to },
    );
    const result: RelationsResult = {
      chunk: await serializeEvents(this.storage, page.rows, viewer, this.now(), { views: new Map([[roomId, view]]) }),
    };
    if (page.next !== undefined) result.next_batch = page.next;
    // The start of this page: absent on the first page (spec: "absence ... means this is the
    // start of the result set").
    if (q.from !== undefined) result.prev_batch = q.from;
    // Mandatory whenever the client sent `recurse` (spec v1.10): the depth actually followed.
    if (q.recurse !== undefined) result.recursion_depth = depth;
    return result;
  }

  /**
   * GET /rooms/{roomId}/timestamp_to_event (spec v1.6): the visible event closest to `ts` in the
   * direction `dir` (at or after it for `f`, at or before it for `b`).
   */
  async timestampToEvent(viewer: Viewer, roomId: string, ts: number, dir: "b" | "f"): Promise<{ event_id: string; origin_server_ts: number }> {
    const view = await this.reader.viewFor(viewer, roomId);
    const upTo = Math.min(this.writer.currentPosition(), view.readLimit());
    let afterKey: { ts: number; pos: number } | undefined;
    for (let round = 0; round < TIMESTAMP_ROUNDS; round++) {
      const batch = await this.events.nearTimestamp(roomId, ts, dir, { upTo, afterKey, limit: TIMESTAMP_BATCH });
      for (const row of batch) {
        if (view.canSee(row)) return { event_id: row.event_id, origin_server_ts: Number(row.origin_server_ts) };
      }
      if (batch.length < TIMESTAMP_BATCH) break;
      const last = batch[batch.length - 1]!;
      afterKey = { ts: Number(last.origin_server_ts), pos: Number(last.stream_ordering) };
    }
    throw notFound(`Unable to find event from ${ts} in ${dir === "f" ? "forward" : "backward"} direction`);
  }

  /** The reader's view when they may read the room at all; undefined for an unknown room too. */
  private async readableView(viewer: Viewer, roomId: string): Promise<VisibilityView | undefined> {
    if (!(await this.writer.roomExists(roomId))) return undefined;
    const view = await this.reader.visibility.view(roomId, viewer.userId);
    return view.canReadRoom() ? view : undefined;
  }
}
