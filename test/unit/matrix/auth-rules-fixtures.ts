/**
 * Fixtures for the authorization-rule tests: a small room (create, creator join, power levels,
 * join rules, members) whose state map is what `authorizeEvent` checks against, and an event
 * builder that fills `auth_events` with the spec's auth events selection so that each test only
 * breaks the rule it is about.
 */
import assert from "node:assert/strict";
import { selectAuthEventIds } from "../../../src/matrix/auth-events.js";
import { type AuthResult, type AuthorizeOptions, authorizeEvent } from "../../../src/matrix/auth-rules.js";
import { type PDU, type StateKey, stateKey } from "../../../src/matrix/pdu.js";

export const VERSIONS = ["10", "11", "12"] as const;
export type Version = (typeof VERSIONS)[number];

/** Creator (100 in v10/11 power levels, infinite in v12). */
export const ALICE = "@alice:a.example";
/** Moderator (50). */
export const BOB = "@bob:a.example";
/** Ordinary member of another server (users_default 0). */
export const CAROL = "@carol:b.example";
/** Outsider. */
export const DAVE = "@dave:b.example";
export const EVE = "@eve:c.example";

/**
 * The spec's rule number for a version: v12 inserted rule 2, so its top-level rules from 2 on are
 * v10/11's plus one, and in the power-levels rule v12 inserted 10.4, shifting 9.4–9.9 to 10.5–10.10.
 */
export function num(version: Version, base: string): string {
  if (version !== "12") return base;
  const [top, sub, ...rest] = base.split(".").map(Number) as [number, ...number[]];
  const parts = [top >= 2 ? top + 1 : top];
  if (sub !== undefined) parts.push(top === 9 && sub >= 4 ? sub + 1 : sub);
  return [...parts, ...rest].join(".");
}

let seq = 0;
export function newEventId(label: string): string {
  seq += 1;
  return `$${label.replace(/[^A-Za-z0-9]/g, "")}${seq}`;
}

/** The power levels a freshly created room gets in these tests. */
export function standardPowerLevels(version: Version, extraUsers: Record<string, number> = {}): Record<string, unknown> {
  return {
    ban: 50,
    kick: 50,
    redact: 50,
    invite: 0,
    events_default: 0,
    state_default: 50,
    users_default: 0,
    events: { "m.room.power_levels": 100, "m.room.name": 50, "m.room.tombstone": 150 },
    notifications: { room: 50 },
    // v12 rule 10.4: creators may not be listed.
    users: { ...(version === "12" ? {} : { [ALICE]: 100 }), [BOB]: 50, ...extraUsers },
  };
}

export interface RoomOptions {
  creator?: string;
  /** v12 `additional_creators` (also written for other versions, where it means nothing). */
  additionalCreators?: unknown;
  /** Merged into the create event's content. */
  createContent?: Record<string, unknown>;
  /** `null`: the room has no power levels event. Default: {@link standardPowerLevels}. */
  powerLevels?: Record<string, unknown> | null;
  /** `null`: no join rules event. Default `invite`. */
  joinRule?: string | null;
  /** Members put straight into the state (after the creator's join). */
  members?: Record<string, string>;
}

export interface EventFields {
  type: string;
  sender: string;
  state_key?: string;
  content?: Record<string, unknown>;
  prev_events?: string[];
  auth_events?: string[];
  room_id?: string;
  event_id?: string;
}

export class Room {
  readonly create: PDU;
  readonly roomId: string;
  readonly state = new Map<StateKey, PDU>();
  private last: string;
  private depth = 1;

  constructor(
    readonly version: Version,
    opts: RoomOptions = {},
  ) {
    const creator = opts.creator ?? ALICE;
    this.create = makeCreateEvent(version, creator, {
      ...(opts.additionalCreators !== undefined ? { additional_creators: opts.additionalCreators } : {}),
      ...opts.createContent,
    });
    this.roomId = version === "12" ? `!${this.create.event_id.slice(1)}` : this.create.room_id;
    this.state.set(stateKey("m.room.create", ""), this.create);
    this.last = this.create.event_id;
    this.put(this.event({ type: "m.room.member", sender: creator, state_key: creator, content: { membership: "join" } }));
    if (opts.powerLevels !== null) {
      this.put(this.event({ type: "m.room.power_levels", sender: creator, state_key: "", content: opts.powerLevels ?? standardPowerLevels(version) }));
    }
    if (opts.joinRule !== null) {
      this.put(this.event({ type: "m.room.join_rules", sender: creator, state_key: "", content: { join_rule: opts.joinRule ?? "invite" } }));
    }
    for (const [user, membership] of Object.entries(opts.members ?? {})) this.setMember(user, membership);
  }

  /** An event of this room on top of the latest one, citing the auth events the selection picks. */
  event(f: EventFields): PDU {
    const ev: PDU = {
      event_id: f.event_id ?? newEventId(f.type),
      room_id: f.room_id ?? this.roomId,
      type: f.type,
      ...(f.state_key !== undefined ? { state_key: f.state_key } : {}),
      sender: f.sender,
      content: f.content ?? {},
      origin_server_ts: 1_700_000_000_000 + this.depth,
      prev_events: f.prev_events ?? [this.last],
      auth_events: [],
      depth: this.depth + 1,
    };
    ev.auth_events = f.auth_events ?? this.authEventIds(ev);
    return ev;
  }

  authEventIds(ev: Pick<PDU, "type" | "sender" | "state_key" | "content">): string[] {
    return selectAuthEventIds(ev, this.state, this.version);
  }

  /** Adds a state event to the state without checking it (fixture setup). */
  put(ev: PDU): PDU {
    assert.equal(typeof ev.state_key, "string", "only state events go into the state");
    this.state.set(stateKey(ev.type, ev.state_key as string), ev);
    this.last = ev.event_id;
    this.depth += 1;
    return ev;
  }

  /** Sets a user's membership directly (as if an earlier, valid event had done it). */
  setMember(user: string, membership: string, content: Record<string, unknown> = {}): PDU {
    const sender = membership === "ban" || membership === "invite" ? this.create.sender : user;
    return this.put(this.event({ type: "m.room.member", sender, state_key: user, content: { membership, ...content } }));
  }

  member(sender: string, membership: string, target = sender, content: Record<string, unknown> = {}): PDU {
    return this.event({ type: "m.room.member", sender, state_key: target, content: { membership, ...content } });
  }

  setPowerLevels(content: Record<string, unknown>): PDU {
    return this.put(this.event({ type: "m.room.power_levels", sender: this.create.sender, state_key: "", content }));
  }

  setJoinRule(rule: string, extra: Record<string, unknown> = {}): PDU {
    return this.put(this.event({ type: "m.room.join_rules", sender: this.create.sender, state_key: "", content: { join_rule: rule, ...extra } }));
  }

  powerLevelsContent(): Record<string, unknown> {
    return structuredClone(this.state.get(stateKey("m.room.power_levels", ""))?.content ?? {});
  }

  /** `authorizeEvent` against the current state, with the create event supplied (needed in v12). */
  check(ev: PDU, opts: AuthorizeOptions = {}): AuthResult {
    return authorizeEvent(ev, this.state, this.version, { createEvent: this.create, ...opts });
  }
}

export function makeCreateEvent(version: Version, creator: string, extraContent: Record<string, unknown> = {}): PDU {
  const content: Record<string, unknown> = { room_version: version, ...extraContent };
  if (version === "10" && !Object.hasOwn(extraContent, "creator")) content["creator"] = creator;
  const ev: Record<string, unknown> = {
    event_id: newEventId("create"),
    type: "m.room.create",
    state_key: "",
    sender: creator,
    content,
    origin_server_ts: 1_700_000_000_000,
    prev_events: [],
    auth_events: [],
    depth: 1,
  };
  // v12: "If the event has a room_id, reject" — the create event carries none on the wire.
  if (version !== "12") ev["room_id"] = `!room${seq}:${creator.slice(creator.indexOf(":") + 1)}`;
  return ev as unknown as PDU;
}

export function assertAllowed(r: AuthResult): void {
  assert.deepEqual(r, { allowed: true }, r.allowed ? "" : `refused: ${r.reason}`);
}

/** Refused, by the given rule number when one is given (checked against the reason's prefix). */
export function assertRefused(r: AuthResult, rule?: string): void {
  assert.equal(r.allowed, false, "expected a refusal");
  if (!r.allowed && rule !== undefined) {
    assert.ok(r.reason.startsWith(`auth rule ${rule}:`), `expected rule ${rule}, got: ${r.reason}`);
  }
}
