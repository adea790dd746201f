/**
 * Auth events selection (content/server-server-api.md "Auth events selection"): which state
 * entries an event's `auth_events` must point at. Used both to build `auth_events` for a new
 * event and by auth rule 2.2 (3.2 in v12) to refuse events that cite anything else.
 */
import { type PDU, type StateKey, requireAuthVersionRules, stateKey } from "./pdu.js";

export type AuthEventSubject = Pick<PDU, "type" | "sender" | "content"> & { state_key?: string };

/**
 * The `(type, state_key)` pairs an event's `auth_events` may contain, in selection order:
 *
 * - the `m.room.create` event — except in room version 12, where it "MUST NOT be selected"
 *   (the `room_id` implies it; content/rooms/v12.md, auth rule 3.2);
 * - the current `m.room.power_levels` event;
 * - the sender's `m.room.member` event;
 * - for `m.room.member` events: the target's member event; the `m.room.join_rules` event when
 *   `membership` is `join`, `invite` or `knock`; for an invite with `third_party_invite`, the
 *   `m.room.third_party_invite` event whose state key is `content.third_party_invite.signed.token`;
 *   for a join with `content.join_authorised_via_users_server` (every supported version has
 *   restricted rooms), that user's member event.
 *
 * `m.room.create` itself has no auth events. Each entry is listed once (the sender is often the
 * target). "If any" applies: the caller keeps only the entries that exist in the state.
 * Throws a RangeError for a room version we do not support.
 */
export function authEventTypesFor(event: AuthEventSubject, roomVersion: string): Array<[type: string, stateKey: string]> {
  const rules = requireAuthVersionRules(roomVersion);
  if (event.type === "m.room.create") return [];
  const out: Array<[string, string]> = [];
  const add = (type: string, key: string) => {
    if (!out.some(([t, k]) => t === type && k === key)) out.push([type, key]);
  };
  if (rules.createInAuthEvents) add("m.room.create", "");
  add("m.room.power_levels", "");
  add("m.room.member", event.sender);
  if (event.type === "m.room.member" && typeof event.state_key === "string") {
    const content = isRecord(event.content) ? event.content : {};
    const membership = content["membership"];
    add("m.room.member", event.state_key);
    if (membership === "join" || membership === "invite" || membership === "knock") add("m.room.join_rules", "");
    if (membership === "invite" && content["third_party_invite"] !== undefined) {
      const tpi = content["third_party_invite"];
      const signed = isRecord(tpi) ? tpi["signed"] : undefined;
      const token = isRecord(signed) ? signed["token"] : undefined;
      if (typeof token === "string") add("m.room.third_party_invite", token);
    }
    if (membership === "join") {
      const via = content["join_authorised_via_users_server"];
      if (typeof via === "string") add("m.room.member", via);
    }
  }
  return out;
}

/**
 * The selection applied to a state map: the event ids to put in a new event's `auth_events`,
 * skipping entries the state does not have.
 */
export function selectAuthEventIds(
  event: AuthEventSubject,
  state: ReadonlyMap<StateKey, Pick<PDU, "event_id">>,
  roomVersion: string,
): string[] {
  const ids: string[] = [];
  for (const [type, key] of authEventTypesFor(event, roomVersion)) {
    const found = state.get(stateKey(type, key));
    if (found) ids.push(found.event_id);
  }
  return ids;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
