// Stored events → the client event format (client-server API "Room event format"), with unsigned
// data (age, prev_content, transaction_id for the sending device, redacted_because) and the
// server-side aggregations the spec requires (m.replace, m.thread, m.reference; annotations are
// not aggregated, spec v1.7).
import type { Storage } from "../storage/database.js";
import { eventsRepo, type EventRow } from "../storage/events.js";
import type { PDU } from "../matrix/pdu.js";

export interface ClientEvent {
  event_id: string;
  room_id: string;
  type: string;
  sender: string;
  content: Record<string, unknown>;
  origin_server_ts: number;
  state_key?: string;
  redacts?: string;
  unsigned: Record<string, unknown>;
}

export interface Viewer {
  userId: string;
  deviceId?: string;
}

type Row = Pick<EventRow, "event_id" | "room_id" | "json" | "device_id" | "txn_id" | "redacted_by" | "sender" | "stream_ordering">;

/** One event without aggregations (state lists, stripped contexts). */
export function toClientEvent(row: Row, viewer: Viewer | undefined, now: number, redactedBecause?: ClientEvent): ClientEvent {
  const pdu = JSON.parse(row.json) as PDU;
  const unsigned: Record<string, unknown> = {};
  const stored = pdu.unsigned ?? {};
  for (const k of ["prev_content", "prev_sender", "replaces_state"]) if (k in stored) unsigned[k] = stored[k];
  unsigned.age = Math.max(0, now - pdu.origin_server_ts);
  if (viewer && row.txn_id && row.device_id && viewer.userId === row.sender && viewer.deviceId === row.device_id) {
    unsigned.transaction_id = row.txn_id;
  }
  if (redactedBecause) unsigned.redacted_because = redactedBecause;
  const ev: ClientEvent = {
    event_id: row.event_id,
    room_id: row.room_id,
    type: pdu.type,
    sender: pdu.sender,
    content: pdu.content ?? {},
    origin_server_ts: pdu.origin_server_ts,
    unsigned,
  };
  if (typeof pdu.state_key === "string") ev.state_key = pdu.state_key;
  if (pdu.type === "m.room.redaction") {
    // Room v11 moved redacts into content; clients written for older rooms read the top level.
    const r = typeof pdu.redacts === "string" ? pdu.redacts : pdu.content?.redacts;
    if (typeof r === "string") ev.redacts = r;
  }
  return ev;
}

/**
 * Serialises a batch of events for one viewer: redactions and aggregations are loaded once for
 * the whole batch, not per event.
 */
export async function serializeEvents(storage: Storage, rows: Row[], viewer: Viewer | undefined, now: number, opts: { aggregate?: boolean } = {}): Promise<ClientEvent[]> {
  if (rows.length === 0) return [];
  const repo = eventsRepo(storage.db);
  const redactionIds = [...new Set(rows.map((r) => r.redacted_by).filter((x): x is string => x !== null))];
  const redactions = new Map<string, ClientEvent>();
  for (const r of await repo.getMany(redactionIds)) redactions.set(r.event_id, toClientEvent(r, viewer, now));

  const out = rows.map((r) => toClientEvent(r, viewer, now, r.redacted_by ? redactions.get(r.redacted_by) : undefined));
  if (opts.aggregate === false) return out;

  const ids = rows.filter((r) => r.redacted_by === null).map((r) => r.event_id);
  const children = await repo.relationsOfMany(ids);
  if (children.length === 0) return out;
  const byParent = new Map<string, EventRow[]>();
  for (const c of children) {
    const list = byParent.get(c.relates_to!) ?? [];
    list.push(c);
    byParent.set(c.relates_to!, list);
  }
  for (const ev of out) {
    const kids = byParent.get(ev.event_id);
    if (!kids) continue;
    const relations: Record<string, unknown> = {};
    const edit = latestValidEdit(ev, kids);
    if (edit) relations["m.replace"] = toClientEvent(edit, viewer, now);
    const thread = kids.filter((k) => k.rel_type === "m.thread");
    if (thread.length > 0) {
      const latest = thread[thread.length - 1]!;
      relations["m.thread"] = {
        latest_event: toClientEvent(latest, viewer, now),
        count: thread.length,
        current_user_participated: viewer !== undefined && (ev.sender === viewer.userId || thread.some((t) => t.sender === viewer.userId)),
      };
    }
    const refs = kids.filter((k) => k.rel_type === "m.reference");
    if (refs.length > 0) relations["m.reference"] = { chunk: refs.map((r) => ({ event_id: r.event_id })) };
    if (Object.keys(relations).length > 0) ev.unsigned["m.relations"] = relations;
  }
  return out;
}

/** Spec "Validity of replacement events": same sender, same type, no state key, the original not
 * itself an edit; the most recent by origin_server_ts, ties broken by the larger event id. */
function latestValidEdit(original: ClientEvent, kids: EventRow[]): EventRow | undefined {
  if (original.state_key !== undefined) return undefined;
  const origRel = original.content["m.relates_to"] as { rel_type?: string } | undefined;
  if (origRel?.rel_type === "m.replace") return undefined;
  let best: EventRow | undefined;
  for (const k of kids) {
    if (k.rel_type !== "m.replace" || k.sender !== original.sender || k.type !== original.type || k.state_key !== null) continue;
    if (!best || k.origin_server_ts > best.origin_server_ts || (k.origin_server_ts === best.origin_server_ts && k.event_id > best.event_id)) best = k;
  }
  return best;
}
