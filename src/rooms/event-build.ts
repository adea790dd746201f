// Building one event and its row, shared by the room writer (rooms/writer.ts, one event at a time)
// and the bulk importer (rooms/importer.ts, batches of history): both must produce exactly the
// same PDU (prev_events, auth_events, depth, hashes, signature, event id), authorised by the room
// version's rules against the state it extends, and the same stored row.
import type { EventRow } from "../storage/events.js";
import type { SigningKey } from "../matrix/signing.js";
import { signNewEvent, verifyJsonSignature } from "../matrix/signing.js";
import { authorizeEvent } from "../matrix/auth-rules.js";
import { authEventTypesFor } from "../matrix/auth-events.js";
import { stateKey, type PDU, type StateKey } from "../matrix/pdu.js";
import { requireRoomVersion, type RoomVersionId } from "../matrix/room-versions.js";
import { MatrixError, badJson, forbidden } from "../http/errors.js";
import { CanonicalJsonError } from "../matrix/canonical-json.js";
import type { EventSigner, SignedEvent } from "../matrix/signer.js";
import { relationOf } from "./relations-index.js";

/** The spec's limit on a whole event (client-server API "Size limits"). */
export const MAX_EVENT_BYTES = 65536;

/** What an event is built on: the room's version, create event, state and forward extremity. */
export interface BuildBase {
  roomId: string;
  version: RoomVersionId;
  createEvent: PDU;
  state: ReadonlyMap<StateKey, PDU>;
  latest: { eventId: string; depth: number };
}

export interface BuildDraft {
  type: string;
  sender: string;
  content: Record<string, unknown>;
  state_key?: string;
  redacts?: string;
}

/**
 * Builds, signs and authorises the event that `draft` becomes on top of `base` at time `ts`.
 * Throws 413 M_TOO_LARGE, 400 M_BAD_JSON (content with no Canonical JSON form: floats, lone
 * surrogates…) or 403 M_FORBIDDEN (with the rule's reason); never writes anything.
 */
export function buildEvent(base: BuildBase, draft: BuildDraft, ts: number, serverName: string, key: SigningKey): PDU {
  const { pdu, authEvents } = unsignedEvent(base, draft, ts);
  return authorised(base, signed(() => signNewEvent(pdu, base.version, serverName, key)), authEvents, serverName);
}

/** buildEvent, with the hashing and signing done by `signer` (on its thread when `offload`). */
export async function buildEventWith(base: BuildBase, draft: BuildDraft, ts: number, serverName: string, signer: EventSigner, offload: boolean): Promise<PDU> {
  const { pdu, authEvents } = unsignedEvent(base, draft, ts);
  let result: SignedEvent<Record<string, unknown>>;
  try {
    result = await signer.sign(pdu, base.version, offload);
  } catch (e) {
    throw invalidContent(e);
  }
  return authorised(base, result, authEvents, serverName);
}

function unsignedEvent(base: BuildBase, draft: BuildDraft, ts: number): { pdu: Record<string, unknown>; authEvents: PDU[] } {
  const rv = requireRoomVersion(base.version);
  // The auth events, looked up once and handed to the rules: without them the rules index the
  // whole room state per event, which made every send cost O(members) (quadratic on import).
  const authEvents: PDU[] = [];
  for (const [type, k] of authEventTypesFor({ type: draft.type, sender: draft.sender, content: draft.content, state_key: draft.state_key }, base.version)) {
    const found = base.state.get(stateKey(type, k));
    if (found) authEvents.push(found);
  }
  const pdu: Record<string, unknown> = {
    room_id: base.roomId,
    type: draft.type,
    sender: draft.sender,
    content: draft.content,
    origin_server_ts: ts,
    prev_events: [base.latest.eventId],
    depth: base.latest.depth + 1,
    auth_events: authEvents.map((a) => a.event_id),
  };
  if (draft.state_key !== undefined) pdu.state_key = draft.state_key;
  if (draft.type === "m.room.redaction" && draft.redacts) {
    // v11 moved `redacts` into content; older versions keep it top-level.
    if (rv.redactsInContent) pdu.content = { ...draft.content, redacts: draft.redacts };
    else pdu.redacts = draft.redacts;
  }
  return { pdu, authEvents };
}

/** One pass: hashes, signature and event id from the same Canonical JSON (matrix/signing.ts). */
function signed(sign: () => SignedEvent<Record<string, unknown>>): SignedEvent<Record<string, unknown>> {
  try {
    return sign();
  } catch (e) {
    throw invalidContent(e);
  }
}

/** Room versions 6+ require Canonical JSON ("Event format"): content without one is the client's error. */
function invalidContent(e: unknown): unknown {
  return e instanceof CanonicalJsonError ? badJson(`Event is not valid Canonical JSON: ${e.message}`) : e;
}

function authorised(base: BuildBase, result: SignedEvent<Record<string, unknown>>, authEvents: PDU[], serverName: string): PDU {
  const { event: signedEvent, eventId, canonicalBytes: size } = result;
  // Leaves room for what signing added and federation would add (spec limit on the whole event).
  if (size > MAX_EVENT_BYTES - 1024) throw new MatrixError(413, "M_TOO_LARGE", `Event is too large (${size} bytes)`);
  const full = { ...signedEvent, event_id: eventId } as unknown as PDU;
  const auth = authorizeEvent(full, base.state, base.version, {
    createEvent: base.createEvent,
    authEvents,
    verifySignature: verifyJsonSignature,
    // Every event here was just signed by this server.
    isSignedByServer: (_ev, server) => server === serverName,
  });
  if (!auth.allowed) throw forbidden(auth.reason);
  return full;
}

/** The row stored for `pdu` at `position`, and what it means for state. */
export function eventRowFor(
  roomId: string,
  pdu: PDU,
  position: number,
  state: ReadonlyMap<StateKey, PDU>,
  txn?: { deviceId: string; txnId: string },
): { row: EventRow; stored: PDU; key: StateKey | undefined; membership: string | null } {
  const isState = typeof pdu.state_key === "string";
  const key = isState ? stateKey(pdu.type, pdu.state_key!) : undefined;
  const replaced = key ? state.get(key) : undefined;
  const stored: PDU = { ...pdu };
  if (replaced) {
    // Served to clients as unsigned.prev_content (client-server API "State events").
    stored.unsigned = { ...(pdu.unsigned ?? {}), replaces_state: replaced.event_id, prev_content: replaced.content, prev_sender: replaced.sender };
  }
  const rel = relationOf(pdu);
  const membership = pdu.type === "m.room.member" && typeof pdu.content.membership === "string" ? pdu.content.membership : null;
  const row: EventRow = {
    stream_ordering: position,
    event_id: pdu.event_id,
    room_id: roomId,
    type: pdu.type,
    state_key: isState ? pdu.state_key! : null,
    sender: pdu.sender,
    origin_server_ts: pdu.origin_server_ts,
    depth: pdu.depth,
    membership,
    rel_type: rel?.relType ?? null,
    relates_to: rel?.eventId ?? null,
    thread_root: rel?.threadRoot ?? null,
    redacted_by: null,
    device_id: txn?.deviceId ?? null,
    txn_id: txn?.txnId ?? null,
    json: JSON.stringify(stored),
  };
  return { row, stored, key, membership };
}
