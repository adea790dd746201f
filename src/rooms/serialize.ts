// Stored events → the client event format (client-server API "Room event format"), with unsigned
// data (age, prev_content, transaction_id for the sending device, redacted_because) and the
// server-side aggregations the spec requires ("Aggregations of child events": m.replace, m.thread,
// m.reference; annotations are not aggregated since spec v1.7).
import type { Storage } from "../storage/database.js";
import { eventsRepo, type EventRow } from "../storage/events.js";
import { accountDataRepo } from "../storage/account-data.js";
import type { PDU } from "../matrix/pdu.js";
import { HistoryVisibility, type VisibilityView } from "./visibility.js";
import { relationOf } from "./relations-index.js";
import { relationSummaries, type ChildSummary } from "./relation-batch.js";

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

export interface SerializeOptions {
  /** false: no bundled aggregations (state lists, stripped contexts). */
  aggregate?: boolean;
  /**
   * The viewer's history-visibility views by room, when the caller already holds them; views of
   * other rooms are built on demand. Child events the viewer may not see are left out of the
   * aggregations (spec "Aggregations of child events", history visibility warning).
   */
  views?: ReadonlyMap<string, VisibilityView>;
  /**
   * The children of some events, already read with them (events.ts rangeWithChildren: unredacted,
   * with one of BUNDLED's rel_types, oldest first): used instead of a query when every event
   * serialised is one of `parents`.
   */
  children?: { parents: ReadonlySet<string>; rows: readonly ChildSummary[] };
}

/** The rel_types the server bundles (annotations are not, spec v1.7 "Event annotations"). */
export const BUNDLED = ["m.replace", "m.thread", "m.reference"];

/**
 * The parsed PDU of a stored row, parsed once per row object and kept on it (a non-enumerable
 * symbol property: invisible to JSON, spreads and Object.keys). The long-polls one event wakes
 * share the same row objects (RoomActivity.sharedRange): 1,000 of them parsed the same JSON 1,000
 * times. A WeakMap did the same but every row serialised once (state, /messages) added an
 * ephemeron the young-generation collections had to process. What is parsed is never modified:
 * events built from it share its `content` and stored `unsigned` values (read-only; every
 * ClientEvent gets its own `unsigned` object). Rows are never modified either (snapshots of the
 * database).
 */
const PARSED = Symbol("parsed PDU");
function parsedPdu(row: Row): PDU {
  const held = (row as { [PARSED]?: PDU })[PARSED];
  if (held !== undefined) return held;
  const pdu = JSON.parse(row.json) as PDU;
  if (Object.isExtensible(row)) Object.defineProperty(row, PARSED, { value: pdu });
  return pdu;
}

/** One event without aggregations (state lists, stripped contexts). */
export function toClientEvent(row: Row, viewer: Viewer | undefined, now: number, redactedBecause?: ClientEvent): ClientEvent {
  const pdu = parsedPdu(row);
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
export async function serializeEvents(storage: Storage, rows: Row[], viewer: Viewer | undefined, now: number, opts: SerializeOptions = {}): Promise<ClientEvent[]> {
  if (rows.length === 0) return [];
  const out = await withRedactions(storage, rows, viewer, now);
  if (opts.aggregate === false) return out;
  const ctx = new AggregationContext(storage, viewer, now, opts.views);
  await bundleAggregations(ctx, rows, out, true, opts.children);
  return out;
}

async function withRedactions(storage: Storage, rows: Row[], viewer: Viewer | undefined, now: number): Promise<ClientEvent[]> {
  const repo = eventsRepo(storage.db);
  const redactionIds = [...new Set(rows.map((r) => r.redacted_by).filter((x): x is string => x !== null))];
  const redactions = new Map<string, ClientEvent>();
  for (const r of await repo.getMany(redactionIds)) redactions.set(r.event_id, toClientEvent(r, viewer, now));
  return rows.map((r) => toClientEvent(r, viewer, now, r.redacted_by ? redactions.get(r.redacted_by) : undefined));
}


/** What aggregation needs about the viewer, loaded once per serialisation and only when used. */
class AggregationContext {
  readonly repo;
  private readonly views = new Map<string, Promise<VisibilityView>>();
  private ignored?: Promise<Set<string>>;

  constructor(
    readonly storage: Storage,
    readonly viewer: Viewer | undefined,
    readonly now: number,
    given: ReadonlyMap<string, VisibilityView> | undefined,
  ) {
    this.repo = eventsRepo(storage.db);
    for (const [roomId, v] of given ?? []) this.views.set(roomId, Promise.resolve(v));
  }

  /** Users the viewer ignores (spec "Ignoring users"): their events are left out of aggregations. */
  ignoredUsers(): Promise<Set<string>> {
    const viewer = this.viewer;
    if (!viewer) return Promise.resolve(new Set());
    this.ignored ??= accountDataRepo(this.storage.db)
      .get(viewer.userId, "", "m.ignored_user_list")
      .then((row) => {
        const content = row ? (JSON.parse(row.content) as { ignored_users?: unknown }) : {};
        const users = content.ignored_users;
        return new Set(typeof users === "object" && users !== null && !Array.isArray(users) ? Object.keys(users) : []);
      });
    return this.ignored;
  }

  view(roomId: string): Promise<VisibilityView> | undefined {
    if (!this.viewer) return undefined;
    let v = this.views.get(roomId);
    if (!v) {
      v = new HistoryVisibility(this.storage).view(roomId, this.viewer.userId);
      this.views.set(roomId, v);
    }
    return v;
  }
}

/**
 * Adds unsigned["m.relations"] to each event of `out` (parallel to `rows`). `threads` is false for
 * the thread's latest_event, which cannot itself be a thread root (spec "Threading": no nesting).
 */
async function bundleAggregations(ctx: AggregationContext, rows: Row[], out: ClientEvent[], threads: boolean, prefetched?: SerializeOptions["children"]): Promise<void> {
  // State events do not receive bundled aggregations (spec "Aggregations of child events").
  const parents = out.filter((ev) => ev.state_key === undefined);
  if (parents.length === 0) return;
  const relTypes = threads ? BUNDLED : BUNDLED.filter((t) => t !== "m.thread");
  const ids = new Set(parents.map((p) => p.event_id));
  // Read with the page when the caller did (/messages, rangeWithChildren); otherwise batched with
  // the other requests asking at the same moment (relation-batch.ts).
  const children =
    prefetched && [...ids].every((id) => prefetched.parents.has(id))
      ? prefetched.rows.filter((c) => ids.has(c.relates_to!) && relTypes.includes(c.rel_type!))
      : await relationSummaries(ctx.storage.db, [...ids], relTypes);
  if (children.length === 0) return;

  // Only children in the parent's room (spec "Forming relationships between events"), visible to
  // the viewer, and not sent by a user they ignore.
  const ignored = await ctx.ignoredUsers();
  const roomOf = new Map(parents.map((p) => [p.event_id, p.room_id]));
  const byParent = new Map<string, ChildSummary[]>();
  for (const c of children) {
    const roomId = roomOf.get(c.relates_to!);
    if (roomId === undefined || c.room_id !== roomId || ignored.has(c.sender)) continue;
    const view = await ctx.view(roomId);
    if (view && !view.canSee(c)) continue;
    const list = byParent.get(c.relates_to!) ?? [];
    list.push(c);
    byParent.set(c.relates_to!, list);
  }
  if (byParent.size === 0) return;

  const rowById = new Map(rows.map((r) => [r.event_id, r]));
  const edits = await latestEdits(ctx, parents, rowById, byParent);
  const latestThreadIds = new Map<string, string>();
  const relations = new Map<string, Record<string, unknown>>();

  for (const ev of parents) {
    const kids = byParent.get(ev.event_id);
    if (!kids) continue;
    const rel: Record<string, unknown> = {};
    const edit = edits.get(ev.event_id);
    if (edit) rel["m.replace"] = edit;
    // m.thread only on an event that can be a thread root: one without a rel_type of its own.
    const thread = threads && relationOf(ev) === undefined ? kids.filter((k) => k.rel_type === "m.thread") : [];
    if (thread.length > 0) {
      const latest = thread[thread.length - 1]!;
      latestThreadIds.set(ev.event_id, latest.event_id);
      rel["m.thread"] = {
        latest_event: undefined,
        count: thread.length,
        // Spec "Server-side aggregation of m.thread relationships": the root's sender, or the
        // sender of any m.thread child.
        current_user_participated: ctx.viewer !== undefined && (ev.sender === ctx.viewer.userId || thread.some((t) => t.sender === ctx.viewer!.userId)),
      };
    }
    const refs = kids.filter((k) => k.rel_type === "m.reference");
    if (refs.length > 0) rel["m.reference"] = { chunk: refs.map((r) => ({ event_id: r.event_id })) };
    if (Object.keys(rel).length > 0) relations.set(ev.event_id, rel);
  }

  // latest_event is "serialized in the same form as the event itself", with its own aggregations.
  if (latestThreadIds.size > 0) {
    const latestRows = await ctx.repo.getMany([...latestThreadIds.values()]);
    const latestOut = await withRedactions(ctx.storage, latestRows, ctx.viewer, ctx.now);
    await bundleAggregations(ctx, latestRows, latestOut, false);
    const byId = new Map(latestOut.map((e) => [e.event_id, e]));
    for (const [rootId, latestId] of latestThreadIds) {
      const t = relations.get(rootId)?.["m.thread"] as Record<string, unknown> | undefined;
      const latest = byId.get(latestId);
      if (t && latest) t.latest_event = latest;
      else if (t) delete relations.get(rootId)!["m.thread"];
    }
  }

  for (const ev of parents) {
    const rel = relations.get(ev.event_id);
    if (rel && Object.keys(rel).length > 0) ev.unsigned["m.relations"] = rel;
  }
}

/**
 * The most recent valid replacement of each parent (spec "Validity of replacement events" and
 * "Server-side aggregation of m.replace relationships"): same room (ensured by the caller), same
 * sender, same type, neither a state event, the original not itself an edit nor redacted, and an
 * m.new_content object (unless encrypted); the most recent by origin_server_ts, ties to the larger
 * event id.
 */
async function latestEdits(ctx: AggregationContext, parents: ClientEvent[], rowById: Map<string, Row>, byParent: Map<string, ChildSummary[]>): Promise<Map<string, ClientEvent>> {
  const candidates = new Map<string, ChildSummary[]>();
  for (const ev of parents) {
    // A redacted original gets no m.replace bundle, whatever its edits (spec "Redactions of edited events").
    if (rowById.get(ev.event_id)?.redacted_by != null || relationOf(ev)?.relType === "m.replace") continue;
    const edits = (byParent.get(ev.event_id) ?? []).filter((k) => k.rel_type === "m.replace" && k.sender === ev.sender && k.type === ev.type && k.state_key === null);
    if (edits.length === 0) continue;
    edits.sort((a, b) => Number(b.origin_server_ts) - Number(a.origin_server_ts) || (b.event_id > a.event_id ? 1 : b.event_id < a.event_id ? -1 : 0));
    candidates.set(ev.event_id, edits);
  }
  const result = new Map<string, ClientEvent>();
  if (candidates.size === 0) return result;
  const full = new Map((await ctx.repo.getMany([...candidates.values()].flat().map((k) => k.event_id))).map((r) => [r.event_id, r]));
  for (const [parentId, edits] of candidates) {
    for (const k of edits) {
      const row = full.get(k.event_id);
      if (!row || row.redacted_by !== null) continue;
      // An encrypted edit carries m.new_content in its ciphertext, which only clients can check.
      const newContent = (JSON.parse(row.json) as PDU).content?.["m.new_content"];
      if (row.type !== "m.room.encrypted" && (typeof newContent !== "object" || newContent === null || Array.isArray(newContent))) continue;
      result.set(parentId, toClientEvent(row, ctx.viewer, ctx.now));
      break;
    }
  }
  return result;
}
