// Bulk import of history into an existing room, through the room writer (DESIGN.md invariant 1):
// under the writer's lock for the room, each event is built exactly as the writer builds it
// (rooms/event-build.ts: prev_events, auth_events, depth, hashes, signature, event id) and
// authorised by the room version's rules against the state as it evolves through the import, then
// the events are persisted in batches, one transaction per batch, with their stream positions,
// current state, search entries and relation columns (the same storage functions the writer uses),
// and published once per batch.
//
// Import is for history, so it differs from a send on purpose:
// - no push actions are computed and no pusher is called (nobody is notified of the past);
// - long-polls are woken once per batch (the room, and the users whose membership changed), not
//   once per event;
// - membership side effects are done in bulk per batch: forgotten-room flags, and device-list
//   changes through `onMemberships` listeners (src/e2ee/device-lists.ts);
// - redactions and transaction ids are not accepted (send those through the writer).
// Every event is built and authorised before anything is written: a refused event (e.g. a message
// from a sender who is not joined) refuses the whole call, and nothing of it is stored. A storage
// failure during persistence keeps the batches already committed (each one whole: events, state
// and positions agree) and throws.
import type { Storage, Db } from "../storage/database.js";
import { eventsRepo, type EventRow } from "../storage/events.js";
import { roomsRepo } from "../storage/rooms.js";
import { insertSearchEntries } from "../storage/search.js";
import { pushActionsRepo } from "../storage/push-actions.js";
import type { SigningKey } from "../matrix/signing.js";
import type { PDU, StateKey } from "../matrix/pdu.js";
import { MatrixError } from "../http/errors.js";
import { buildEvent, eventRowFor, type BuildDraft } from "./event-build.js";
import { searchEntriesFor } from "./search-index.js";
import type { Notifier } from "./notifier.js";
import type { EventDraft, RoomSnapshot, RoomWriter, WritableRoom } from "./writer.js";

export interface ImportDraft extends BuildDraft {
  /** origin_server_ts of the imported event (history keeps its own times). */
  ts: number;
}

export interface ImportOptions {
  /** Events per transaction (default 500). */
  batchSize?: number;
  /**
   * Called as soon as each event is built, before the next draft is read: a lazy `drafts`
   * iterable can refer to events of the same import (replies, edits, reactions, threads).
   */
  onBuilt?: (eventId: string, index: number) => void;
}

export interface ImportResult {
  eventIds: string[];
  /** Stream positions of the first and last imported events. */
  firstPosition: number;
  lastPosition: number;
}

export interface MembershipChange {
  userId: string;
  /** Membership before the import's batch (null: none). */
  prev: string | null;
  now: string;
}

/**
 * Work that commits with each imported membership event (e.g. refusing joins into blocked rooms),
 * given the room as it was before the batch. Only membership events: nothing else needs one yet.
 */
export type ImportHook = (tx: Db, room: RoomSnapshot, pdu: PDU) => Promise<void>;
/** Runs after a batch is committed with the memberships it changed (in event order). */
export type MembershipListener = (roomId: string, changes: MembershipChange[]) => Promise<void>;

interface Built {
  pdu: PDU;
  row: EventRow;
  key: StateKey | undefined;
  membership: string | null;
  prevMembership: string | null;
}

const DEFAULT_BATCH = 500;

export class RoomImporter {
  private hooks: ImportHook[] = [];
  private listeners: MembershipListener[] = [];

  constructor(
    private readonly storage: Storage,
    private readonly writer: RoomWriter,
    private readonly serverName: string,
    private readonly key: SigningKey,
    private readonly notifier: Notifier,
  ) {}

  addPersistHook(hook: ImportHook): void {
    this.hooks.push(hook);
  }

  onMemberships(listener: MembershipListener): void {
    this.listeners.push(listener);
  }

  /** Imports `drafts` into `roomId`, in order, after the room's current events. */
  async importEvents(roomId: string, drafts: Iterable<ImportDraft>, opts: ImportOptions = {}): Promise<ImportResult> {
    const batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH);
    return this.writer.withRoom(roomId, async (room, checks) => {
      const built = await this.buildAll(room, drafts, checks, opts.onBuilt);
      const result: ImportResult = { eventIds: built.map((b) => b.pdu.event_id), firstPosition: 0, lastPosition: 0 };
      for (let i = 0; i < built.length; i += batchSize) {
        const { first, last } = await this.persistBatch(room, built.slice(i, i + batchSize));
        if (i === 0) result.firstPosition = first;
        result.lastPosition = last;
      }
      return result;
    });
  }

  /** Builds and authorises every draft against the evolving state; writes nothing. */
  private async buildAll(room: WritableRoom, drafts: Iterable<ImportDraft>, checks: RoomWriterChecks, onBuilt?: ImportOptions["onBuilt"]): Promise<Built[]> {
    const state = new Map(room.state);
    // The room as the events being built see it (checks read it as a snapshot of the room).
    const base: RoomSnapshot = { roomId: room.roomId, version: room.version, createEvent: room.createEvent, state, latest: { ...room.latest } };
    const out: Built[] = [];
    let index = 0;
    for (const draft of drafts) {
      if (draft.type === "m.room.redaction") throw new MatrixError(400, "M_BAD_JSON", "Redactions cannot be imported; send them through the room writer");
      if (!Number.isSafeInteger(draft.ts) || draft.ts < 0) throw new MatrixError(400, "M_BAD_JSON", `Imported event ${index} has no valid timestamp`);
      const eventDraft: EventDraft = { type: draft.type, sender: draft.sender, content: draft.content, state_key: draft.state_key };
      for (const c of checks) await c(base, eventDraft);
      let pdu: PDU;
      try {
        pdu = buildEvent(base, eventDraft, draft.ts, this.serverName, this.key);
      } catch (e) {
        if (e instanceof MatrixError) throw new MatrixError(e.status, e.errcode, `Imported event ${index} refused: ${e.message}`);
        throw e;
      }
      const { row, key, membership } = eventRowFor(room.roomId, pdu, 0, state);
      const prev = key && membership !== null ? state.get(key)?.content.membership : undefined;
      out.push({ pdu, row, key, membership, prevMembership: typeof prev === "string" ? prev : null });
      if (key) state.set(key, pdu);
      base.latest = { eventId: pdu.event_id, depth: pdu.depth, streamOrdering: base.latest.streamOrdering };
      onBuilt?.(pdu.event_id, index++);
    }
    return out;
  }

  /** One transaction for the batch, then the room advances and long-polls hear of it once. */
  private async persistBatch(room: WritableRoom, batch: Built[]): Promise<{ first: number; last: number }> {
    const positions = batch.map(() => this.writer.streamIds.allocate());
    const snapshot: RoomSnapshot = room;
    try {
      await this.storage.db.transaction().execute(async (tx) => {
        const events = eventsRepo(tx);
        batch.forEach((b, i) => (b.row.stream_ordering = positions[i]!));
        await events.insertMany(batch.map((b) => b.row));
        // Only the last event of each state key in the batch is current.
        const current = new Map<StateKey, number>();
        batch.forEach((b, i) => b.key && current.set(b.key, i));
        await events.upsertCurrentStateMany(
          [...current.values()].map((i) => {
            const b = batch[i]!;
            return { room_id: room.roomId, type: b.pdu.type, state_key: b.pdu.state_key!, event_id: b.pdu.event_id, stream_ordering: positions[i]!, membership: b.membership };
          }),
        );
        const search = batch.flatMap((b, i) => searchEntriesFor(b.pdu).map((s) => ({ ...s, event_id: b.pdu.event_id, room_id: room.roomId, stream_ordering: positions[i]! })));
        await insertSearchEntries(tx, this.storage.dialect, search);
        for (const b of batch) if (b.membership !== null) for (const h of this.hooks) await h(tx, snapshot, b.pdu);
        // No push actions for the past, but who was joined when decides who counts later events.
        const spans = pushActionsRepo(tx);
        for (let i = 0; i < batch.length; i++) {
          const b = batch[i]!;
          if (b.membership !== null && b.pdu.state_key!.endsWith(`:${this.serverName}`)) await spans.membershipChanged(b.pdu.state_key!, room.roomId, b.prevMembership, b.membership, positions[i]!);
        }
        const joined = batch.filter((b) => b.membership === "join").map((b) => b.pdu.state_key!);
        if (joined.length) await roomsRepo(tx).unforgetMany([...new Set(joined)], room.roomId);
      });
    } finally {
      for (const p of positions) this.writer.streamIds.finish(p);
    }
    for (const b of batch) if (b.key) room.state.set(b.key, b.pdu);
    const last = batch[batch.length - 1]!;
    room.latest = { eventId: last.pdu.event_id, depth: last.pdu.depth, streamOrdering: positions[positions.length - 1]! };
    room.tip = { eventId: last.pdu.event_id, depth: last.pdu.depth };
    this.publish(room.roomId, last, positions[positions.length - 1]!);
    const changes = batch.filter((b) => b.membership !== null && b.membership !== b.prevMembership).map((b) => ({ userId: b.pdu.state_key!, prev: b.prevMembership, now: b.membership! }));
    if (changes.length) {
      // Whose long-poll must wake for their own membership (the room notice carries no member).
      this.notifier.publishToUsers("rooms", [...new Set(changes.map((c) => c.userId))]);
      for (const l of this.listeners) await l(room.roomId, changes);
    }
    return { first: positions[0]!, last: positions[positions.length - 1]! };
  }

  private publish(roomId: string, last: Built, position: number): void {
    // One notice per batch wakes the room's syncing members; no membershipOf, so per-event
    // listeners (device lists, push) do not treat it as a send.
    this.notifier.publishRoomEvent({ roomId, eventId: last.pdu.event_id, streamOrdering: position, type: last.pdu.type, stateKey: last.pdu.state_key ?? null, sender: last.pdu.sender });
  }
}

type RoomWriterChecks = Parameters<Parameters<RoomWriter["withRoom"]>[1]>[1];
