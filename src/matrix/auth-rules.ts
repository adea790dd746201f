/**
 * Authorization rules for room versions 10, 11 and 12 (content/rooms/v10.md, v11.md, v12.md,
 * "Authorisation rules"), applied in spec order. Pure: the caller supplies the state to check
 * against (server-server-api.md "Checks performed on receipt of a PDU": the event's auth events,
 * the state before the event, or the current state) and any signature verification.
 *
 * Rule numbers in refusal reasons follow the version being checked. v12 inserted a rule 2 (room
 * id derived from the create event), so its rules 3–11 are v10/11's rules 2–10, and its power
 * level rules 10.5–10.10 are v10/11's 9.4–9.9 (10.4 is new). v12 has no rule 3.4: "no create
 * event among auth events" is gone because the create event is never an auth event there.
 *
 * Not covered here, by design:
 * - "Events must be signed by the server denoted by the sender property": signature checks
 *   (receipt check 2) come before authorization.
 * - `m.room.redaction`: since room version 3 the auth rules treat it like any event (only its
 *   `events`/`events_default` level counts); whether the redaction is *applied* is decided by
 *   {@link canRedact} (send time) and {@link redactionAppliesOnReceipt} (v3 "Handling redactions").
 */
import { authEventTypesFor } from "./auth-events.js";
import {
  type PDU,
  type StateKey,
  authVersionRules,
  serverNameOf,
  isWellFormedUserId,
  requireAuthVersionRules,
  roomIdFromCreateEventId,
  stateKey,
} from "./pdu.js";
import {
  type PowerLevels,
  createEventCreator,
  powerLevelsChangeProblem,
  powerLevelsContentProblem,
  powerLevelsFrom,
  requiredLevelForEvent,
  roomCreators,
  userPowerLevel,
} from "./power-levels.js";

export type AuthResult = { allowed: true } | { allowed: false; reason: string };

/** Same shape as signing.ts `verifyJsonSignature`, injected so this module stays dependency-free. */
export type SignatureVerifier = (obj: object, signingName: string, keyId: string, publicKeyBase64: string) => boolean;

export interface AuthorizeOptions {
  /**
   * Verifies `content.third_party_invite.signed` against the public keys of the
   * `m.room.third_party_invite` event (rule 4.4.1.7). Without it every third-party invite is refused.
   */
  verifySignature?: SignatureVerifier;
  /**
   * The room's `m.room.create` event. Needed in v12 when `authState` is the event's auth events,
   * which never include it. Otherwise taken from `authState` (or from the auth events).
   */
  createEvent?: PDU;
  /**
   * Rule 4.2: "If the event is not validly signed by the homeserver of the user ID denoted by
   * [join_authorised_via_users_server], reject." Checking a PDU signature needs the server's keys
   * and the redaction algorithm, so it is injected. Without it such events are refused. For an
   * event the local server just signed, `(ev, server) => server === ourServerName` is correct.
   */
  isSignedByServer?: (event: PDU, serverName: string) => boolean;
  /**
   * The events cited by `event.auth_events`, for rule 2 (3 in v12). When omitted they are looked
   * up by event id among the values of `authState` (and `createEvent`); an id found in neither is
   * refused, so pass them explicitly when checking against a state that is not the auth events.
   */
  authEvents?: readonly PDU[];
  /**
   * Whether an event was itself rejected (rule 2.3 / 3.3; and v12 rule 2, "an accepted (not
   * rejected) m.room.create event"). Defaults to "not rejected": the room writer never keeps
   * rejected events in state.
   */
  isRejected?: (eventId: string) => boolean;
}

const CREATE = "m.room.create";
const MEMBER = "m.room.member";
const POWER_LEVELS = "m.room.power_levels";
const JOIN_RULES = "m.room.join_rules";
const THIRD_PARTY_INVITE = "m.room.third_party_invite";

/** content/rooms/_index.md "Complete list of room versions": what rule 1.3 calls "recognised". */
const SPEC_ROOM_VERSIONS = new Set(["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"]);

const ALLOW: AuthResult = Object.freeze({ allowed: true });

/** Thrown inside the rule walk to refuse with a numbered reason; caught by {@link authorizeEvent}. */
class Refusal {
  constructor(readonly reason: string) {}
}

/**
 * Decides whether `event` is authorised against `authState` (map from {@link stateKey} to the state
 * event) under the rules of `roomVersion`. Never throws: malformed input is refused.
 */
export function authorizeEvent(
  event: PDU,
  authState: ReadonlyMap<StateKey, PDU>,
  roomVersion: string,
  opts: AuthorizeOptions = {},
): AuthResult {
  const rules = authVersionRules(roomVersion);
  if (!rules) return { allowed: false, reason: `unsupported room version ${JSON.stringify(String(roomVersion).slice(0, 40))}` };
  try {
    const malformed = malformation(event);
    if (malformed) return { allowed: false, reason: `malformed event: ${malformed}` };
    return new Checker(event, authState, roomVersion, opts).run();
  } catch (e) {
    if (e instanceof Refusal) return { allowed: false, reason: e.reason };
    return { allowed: false, reason: `malformed event: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** The fields the rules read, checked for shape so that a hostile PDU cannot make us throw. */
function malformation(event: PDU): string | undefined {
  if (!isRecord(event)) return "not an object";
  if (typeof event.type !== "string") return "type is not a string";
  if (typeof event.sender !== "string") return "sender is not a string";
  if (typeof event.event_id !== "string") return "event_id is not a string";
  if (!isRecord(event.content)) return "content is not an object";
  if (event.state_key !== undefined && typeof event.state_key !== "string") return "state_key is not a string";
  if (!isStringArray(event.prev_events)) return "prev_events is not an array of strings";
  if (!isStringArray(event.auth_events)) return "auth_events is not an array of strings";
  return undefined;
}

class Checker {
  private readonly v12: boolean;
  private readonly version: ReturnType<typeof requireAuthVersionRules>;
  private create: PDU | undefined;
  private pl!: PowerLevels;

  constructor(
    private readonly event: PDU,
    private readonly state: ReadonlyMap<StateKey, PDU>,
    private readonly roomVersion: string,
    private readonly opts: AuthorizeOptions,
  ) {
    this.version = requireAuthVersionRules(roomVersion);
    this.v12 = this.version.roomIdFromCreate;
  }

  /** Rule number as printed in the spec for this version (see file comment). */
  private n(base: string): string {
    if (!this.v12) return base;
    const [top, sub, ...rest] = base.split(".").map(Number) as [number, ...number[]];
    const parts = [top >= 2 ? top + 1 : top];
    if (sub !== undefined) parts.push(top === 9 && sub >= 4 ? sub + 1 : sub);
    return [...parts, ...rest].join(".");
  }

  /** Refuse citing a v10/v11 rule number (mapped for v12). */
  private refuse(rule: string, why: string): never {
    throw new Refusal(`auth rule ${this.n(rule)}: ${why}`);
  }

  /** Refuse citing a rule number that only exists in v12. */
  private refuse12(rule: string, why: string): never {
    throw new Refusal(`auth rule ${rule}: ${why}`);
  }

  run(): AuthResult {
    const e = this.event;
    // Rule 1: m.room.create is checked on its own; it has no auth events and no state before it.
    if (e.type === CREATE) return this.checkCreate();

    this.create = this.resolveCreate();
    if (this.v12) this.checkRoomIdFromCreate(); // v12 rule 2
    const authEvents = this.checkAuthEvents(); // rule 2 (v12: 3)
    if (!this.v12 && !this.create) this.create = authEvents.find((a) => a.type === CREATE && a.state_key === "");
    if (!this.create) this.refuse("2.4", "the room's m.room.create event is not known");

    // Rule 3 (v12: 4): m.federate. Irrelevant to a single server, but kept for federation.
    if (this.create.content["m.federate"] === false && serverNameOf(e.sender) !== serverNameOf(this.create.sender)) {
      this.refuse("3", "the room is not federated (m.federate is false) and the sender is on another server");
    }

    const plEvent = this.state.get(stateKey(POWER_LEVELS, ""));
    this.pl = powerLevelsFrom(plEvent?.content, this.create, this.roomVersion);

    // Rule 4 (v12: 5)
    if (e.type === MEMBER) return this.checkMember();

    // Rule 5: "If the sender's current membership state is not join, reject."
    if (this.membership(e.sender) !== "join") this.refuse("5", "the sender is not joined to the room");

    // Rule 6: m.room.third_party_invite needs the invite level, nothing else.
    if (e.type === THIRD_PARTY_INVITE) {
      if (this.level(e.sender) >= this.pl.invite) return ALLOW;
      this.refuse("6.1", "the sender's power level is below the invite level");
    }

    // Rule 7: the event type's required power level.
    const required = requiredLevelForEvent(this.pl, e.type, typeof e.state_key === "string");
    if (required > this.level(e.sender)) {
      this.refuse("7", `sending ${e.type} needs power level ${required}`);
    }

    // Rule 8: a state_key starting with "@" is owned by that user.
    if (typeof e.state_key === "string" && e.state_key.startsWith("@") && e.state_key !== e.sender) {
      this.refuse("8", "the state_key starts with @ and is not the sender");
    }

    // Rule 9 (v12: 10)
    if (e.type === POWER_LEVELS) return this.checkPowerLevels(plEvent);

    // Rule 10 (v12: 11)
    return ALLOW;
  }

  // ---- Rule 1 -------------------------------------------------------------------------------

  private checkCreate(): AuthResult {
    const e = this.event;
    // 1.1 The create event is the root of the DAG.
    if (e.prev_events.length > 0) this.refuse("1.1", "m.room.create has prev_events");
    const roomId: unknown = (e as { room_id?: unknown }).room_id;
    if (this.v12) {
      // v12 1.2 "If the event has a room_id, reject": the room id is derived from this event's id.
      // We tolerate exactly the derived id, which the room writer may fill in for storage: a peer
      // cannot produce it, because the event id is the hash of the event *including* that room_id.
      if (roomId !== undefined && roomId !== roomIdFromCreateEventId(e.event_id)) {
        this.refuse12("1.2", "m.room.create has a room_id");
      }
    } else if (typeof roomId !== "string" || !serverNameOf(roomId) || serverNameOf(roomId) !== serverNameOf(e.sender)) {
      // v10/11 1.2: the room id's domain is the creator's server.
      this.refuse("1.2", "the domain of the room_id does not match the domain of the sender");
    }
    // 1.3 "If content.room_version is present and is not a recognised version, reject."
    const rv = e.content["room_version"];
    if (rv !== undefined && (typeof rv !== "string" || !SPEC_ROOM_VERSIONS.has(rv))) {
      this.refuse("1.3", "content.room_version is not a recognised room version");
    }
    // Not a numbered rule: the create event is what fixes the room version ("1" when absent, per
    // the m.room.create schema), so checking it under another version's rules is a caller bug.
    if ((rv ?? "1") !== this.roomVersion) {
      const found = JSON.stringify(rv ?? "1");
      this.refuse("1.3", `content.room_version ${found} is not the room version being checked (${this.roomVersion})`);
    }
    if (!this.version.implicitCreator && !Object.hasOwn(e.content, "creator")) {
      // v10 1.4 (dropped in v11 with the `creator` property itself).
      this.refuse("1.4", "content has no creator property");
    }
    if (this.v12 && Object.hasOwn(e.content, "additional_creators")) {
      // v12 1.4: each additional creator must pass the user ID validation applied to `sender`.
      const extra = e.content["additional_creators"];
      if (!Array.isArray(extra) || !extra.every((u) => isWellFormedUserId(u))) {
        this.refuse12("1.4", "additional_creators is not an array of valid user IDs");
      }
    }
    return ALLOW;
  }

  // ---- v12 rule 2, rule 2 (v12: 3) ----------------------------------------------------------

  private resolveCreate(): PDU | undefined {
    const fromState = this.state.get(stateKey(CREATE, ""));
    const given = this.opts.createEvent;
    if (given && fromState && given.event_id !== fromState.event_id) {
      throw new Refusal("opts.createEvent is not the m.room.create event found in authState");
    }
    const create = given ?? fromState;
    if (create && create.type !== CREATE) throw new Refusal("the supplied create event is not an m.room.create event");
    return create;
  }

  /** v12 rule 2: the room id must be the create event's id with `!` for `$`, and that event accepted. */
  private checkRoomIdFromCreate(): void {
    const create = this.create;
    if (!create) this.refuse12("2", "the room's m.room.create event is not known");
    if (this.event.room_id !== roomIdFromCreateEventId(create.event_id)) {
      this.refuse12("2", "room_id is not derived from the m.room.create event's id");
    }
    if (this.opts.isRejected?.(create.event_id)) this.refuse12("2", "the m.room.create event was rejected");
  }

  /** Rule 2.1–2.5 (v12: 3.1–3.3, 3.5) on the events cited by `auth_events`. Returns them. */
  private checkAuthEvents(): PDU[] {
    const e = this.event;
    const byId = new Map<string, PDU>();
    if (this.opts.authEvents) {
      for (const a of this.opts.authEvents) byId.set(a.event_id, a);
    } else {
      for (const a of this.state.values()) byId.set(a.event_id, a);
      if (this.create) byId.set(this.create.event_id, this.create);
    }
    const cited: PDU[] = [];
    for (const id of e.auth_events) {
      const a = byId.get(id);
      if (!a) throw new Refusal(`auth event ${id} is not available to check (pass opts.authEvents)`);
      cited.push(a);
    }
    // 2.1 One entry per (type, state_key).
    const seen = new Set<StateKey>();
    for (const a of cited) {
      const k = stateKey(a.type, typeof a.state_key === "string" ? a.state_key : "\u0000non-state:" + a.event_id);
      if (seen.has(k)) this.refuse("2.1", `auth_events has duplicate entries for (${a.type}, ${a.state_key ?? ""})`);
      seen.add(k);
    }
    // 2.2 Only what the auth events selection picks (in v12 that excludes m.room.create).
    const selected = new Set(authEventTypesFor(e, this.roomVersion).map(([t, k]) => stateKey(t, k)));
    for (const a of cited) {
      if (typeof a.state_key !== "string" || !selected.has(stateKey(a.type, a.state_key))) {
        const entry = `(${a.type}, ${a.state_key ?? "no state_key"})`;
        this.refuse("2.2", `auth_events has an entry ${entry} that the auth events selection does not pick`);
      }
    }
    // 2.3 No auth event that was itself rejected.
    for (const a of cited) {
      if (this.opts.isRejected?.(a.event_id)) this.refuse("2.3", `auth event ${a.event_id} was rejected`);
    }
    // 2.4 (v10, v11 only) The create event must be among them.
    if (this.version.createInAuthEvents && !cited.some((a) => a.type === CREATE && a.state_key === "")) {
      this.refuse("2.4", "there is no m.room.create event among the auth events");
    }
    // 2.5 All from this room.
    for (const a of cited) {
      if (a.room_id !== e.room_id) this.refuse("2.5", `auth event ${a.event_id} belongs to another room`);
    }
    return cited;
  }

  // ---- Rule 4 (v12: 5) ----------------------------------------------------------------------

  private checkMember(): AuthResult {
    const e = this.event;
    const content = e.content;
    // 4.1
    if (typeof e.state_key !== "string" || !Object.hasOwn(content, "membership")) {
      this.refuse("4.1", "m.room.member has no state_key or no content.membership");
    }
    const target = e.state_key;
    // 4.2 A restricted join names the member whose server vouches for it; that server must have signed.
    if (Object.hasOwn(content, "join_authorised_via_users_server")) {
      const via = content["join_authorised_via_users_server"];
      const isSigned = this.opts.isSignedByServer;
      const signed = isWellFormedUserId(via) && isSigned !== undefined && safely(() => isSigned(e, serverNameOf(via)));
      if (!signed) this.refuse("4.2.1", "the event is not signed by the server of join_authorised_via_users_server");
    }
    switch (content["membership"]) {
      case "join":
        return this.checkJoin(target);
      case "invite":
        return this.checkInvite(target);
      case "leave":
        return this.checkLeave(target);
      case "ban":
        return this.checkBan(target);
      case "knock":
        return this.checkKnock(target);
      default:
        this.refuse("4.8", "unknown membership");
    }
  }

  private checkJoin(target: string): AuthResult {
    const e = this.event;
    const create = this.create!;
    // 4.3.1 The creator's own first join, straight after the create event.
    const onlyAfterCreate = e.prev_events.length === 1 && e.prev_events[0] === create.event_id;
    if (onlyAfterCreate && target === createEventCreator(create, this.roomVersion)) return ALLOW;
    // 4.3.2
    if (e.sender !== target) this.refuse("4.3.2", "join: the sender does not match the state_key");
    const current = this.membership(e.sender);
    // 4.3.3
    if (current === "ban") this.refuse("4.3.3", "join: the sender is banned");
    const joinRule = this.joinRule();
    // 4.3.4
    if (joinRule === "invite" || joinRule === "knock") {
      if (current === "invite" || current === "join") return ALLOW;
      this.refuse("4.3.7", `join: the join rule is ${joinRule} and the sender is not invited`);
    }
    // 4.3.5
    if (joinRule === "restricted" || joinRule === "knock_restricted") {
      if (current === "join" || current === "invite") return ALLOW; // 4.3.5.1
      const via = e.content["join_authorised_via_users_server"];
      if (typeof via !== "string" || this.membership(via) !== "join") {
        this.refuse("4.3.5.2", "join: join_authorised_via_users_server is not a joined member of the room");
      }
      if (this.level(via) < this.pl.invite) {
        this.refuse("4.3.5.2", "join: join_authorised_via_users_server cannot invite users");
      }
      return ALLOW; // 4.3.5.3
    }
    // 4.3.6
    if (joinRule === "public") return ALLOW;
    // 4.3.7
    this.refuse("4.3.7", `join: the join rule ${JSON.stringify(joinRule)} does not allow joining`);
  }

  private checkInvite(target: string): AuthResult {
    const e = this.event;
    // 4.4.1 Third-party invite: the invitee proves ownership of the invited 3PID with `signed`.
    if (Object.hasOwn(e.content, "third_party_invite")) {
      if (this.membership(target) === "ban") this.refuse("4.4.1.1", "invite: the target user is banned");
      const tpi = e.content["third_party_invite"];
      const signed = isRecord(tpi) ? tpi["signed"] : undefined;
      if (!isRecord(signed)) this.refuse("4.4.1.2", "invite: third_party_invite has no signed property");
      const mxid = signed["mxid"];
      const token = signed["token"];
      if (typeof mxid !== "string" || typeof token !== "string") {
        this.refuse("4.4.1.3", "invite: third_party_invite.signed lacks mxid or token");
      }
      if (mxid !== target) this.refuse("4.4.1.4", "invite: signed.mxid does not match the state_key");
      const invite = this.state.get(stateKey(THIRD_PARTY_INVITE, token));
      if (!invite) this.refuse("4.4.1.5", "invite: no m.room.third_party_invite event has the token as state_key");
      if (invite.sender !== e.sender) {
        this.refuse("4.4.1.6", "invite: the sender is not the sender of the m.room.third_party_invite");
      }
      if (this.thirdPartySignatureMatches(signed, invite)) return ALLOW; // 4.4.1.7
      this.refuse("4.4.1.8", "invite: no signature in signed matches a public key of the m.room.third_party_invite");
    }
    // 4.4.2
    if (this.membership(e.sender) !== "join") this.refuse("4.4.2", "invite: the sender is not joined");
    // 4.4.3
    const targetMembership = this.membership(target);
    if (targetMembership === "join" || targetMembership === "ban") {
      this.refuse("4.4.3", `invite: the target user is ${targetMembership === "join" ? "already joined" : "banned"}`);
    }
    // 4.4.4
    if (this.level(e.sender) >= this.pl.invite) return ALLOW;
    // 4.4.5
    this.refuse("4.4.5", "invite: the sender's power level is below the invite level");
  }

  /** 4.4.1.7: any signature in `signed` against `public_key` or any `public_keys[].public_key`. */
  private thirdPartySignatureMatches(signed: Record<string, unknown>, invite: PDU): boolean {
    const verify = this.opts.verifySignature;
    if (!verify) return false; // no verifier injected: refuse rather than trust
    const keys: string[] = [];
    const c = isRecord(invite.content) ? invite.content : {};
    if (typeof c["public_key"] === "string") keys.push(c["public_key"]);
    if (Array.isArray(c["public_keys"])) {
      for (const k of c["public_keys"]) if (isRecord(k) && typeof k["public_key"] === "string") keys.push(k["public_key"]);
    }
    const signatures = signed["signatures"];
    if (!isRecord(signatures)) return false;
    for (const [server, byKey] of Object.entries(signatures)) {
      if (!isRecord(byKey)) continue;
      for (const keyId of Object.keys(byKey)) {
        for (const publicKey of keys) {
          if (safely(() => verify(signed, server, keyId, publicKey))) return true;
        }
      }
    }
    return false;
  }

  private checkLeave(target: string): AuthResult {
    const e = this.event;
    // 4.5.1 Leaving yourself: from invite (reject), join (leave) or knock (rescind).
    if (e.sender === target) {
      const m = this.membership(target);
      if (m === "invite" || m === "join" || m === "knock") return ALLOW;
      this.refuse("4.5.1", `leave: the user's current membership is ${m ?? "none"}`);
    }
    // 4.5.2
    if (this.membership(e.sender) !== "join") this.refuse("4.5.2", "kick: the sender is not joined");
    const senderLevel = this.level(e.sender);
    // 4.5.3 Unbanning needs the ban level (on top of the kick level below).
    if (this.membership(target) === "ban" && senderLevel < this.pl.ban) {
      this.refuse("4.5.3", "unban: the sender's power level is below the ban level");
    }
    // 4.5.4
    if (senderLevel >= this.pl.kick && this.level(target) < senderLevel) return ALLOW;
    // 4.5.5
    this.refuse("4.5.5", "kick: the sender's power level is below the kick level or not above the target's");
  }

  private checkBan(target: string): AuthResult {
    const e = this.event;
    // 4.6.1
    if (this.membership(e.sender) !== "join") this.refuse("4.6.1", "ban: the sender is not joined");
    const senderLevel = this.level(e.sender);
    // 4.6.2
    if (senderLevel >= this.pl.ban && this.level(target) < senderLevel) return ALLOW;
    // 4.6.3
    this.refuse("4.6.3", "ban: the sender's power level is below the ban level or not above the target's");
  }

  private checkKnock(target: string): AuthResult {
    const e = this.event;
    const joinRule = this.joinRule();
    // 4.7.1
    if (joinRule !== "knock" && joinRule !== "knock_restricted") {
      this.refuse("4.7.1", "knock: the join rule is neither knock nor knock_restricted");
    }
    // 4.7.2
    if (e.sender !== target) this.refuse("4.7.2", "knock: the sender does not match the state_key");
    // 4.7.3
    const m = this.membership(e.sender);
    if (m !== "ban" && m !== "invite" && m !== "join") return ALLOW;
    // 4.7.4
    this.refuse("4.7.4", `knock: the sender is already ${m === "ban" ? "banned" : m === "invite" ? "invited" : "joined"}`);
  }

  // ---- Rule 9 (v12: 10) ---------------------------------------------------------------------

  private checkPowerLevels(previous: PDU | undefined): AuthResult {
    const c = this.event.content;
    // 9.1–9.3 Integers only (v10 dropped numeric strings), users keyed by valid user IDs.
    const bad = powerLevelsContentProblem(c);
    if (bad) this.refuse(bad.rule, bad.reason);
    // v12 10.4 Creators' power is infinite and immutable: they may not be listed.
    if (this.v12) {
      const users = isRecord(c["users"]) ? c["users"] : {};
      const listed = roomCreators(this.create, this.roomVersion).find((u) => Object.hasOwn(users, u));
      if (listed !== undefined) this.refuse12("10.4", `users lists the room creator ${listed}`);
    }
    // 9.4 The first power levels event is free (beyond rule 7).
    if (!previous) return ALLOW;
    // 9.5–9.9 Nobody changes a level beyond their own reach.
    const old = isRecord(previous.content) ? previous.content : {};
    const change = powerLevelsChangeProblem(old, c, this.event.sender, this.level(this.event.sender));
    if (change) this.refuse(change.rule, change.reason);
    return ALLOW; // 9.10
  }

  // ---- lookups ------------------------------------------------------------------------------

  private membership(userId: string): string | undefined {
    const m = this.state.get(stateKey(MEMBER, userId))?.content?.["membership"];
    return typeof m === "string" ? m : undefined;
  }

  /**
   * The current join rule. No `m.room.join_rules` event (or no `join_rule` in it) counts as
   * `invite`, as Synapse and Ruma read it; the spec text leaves it undefined, which rule 4.3.7
   * would refuse even for invited users.
   */
  private joinRule(): string | undefined {
    const ev = this.state.get(stateKey(JOIN_RULES, ""));
    if (!ev || !Object.hasOwn(ev.content, "join_rule")) return "invite";
    const r = ev.content["join_rule"];
    return typeof r === "string" ? r : undefined;
  }

  private level(userId: string): number {
    return userPowerLevel(this.pl, userId, this.create, this.roomVersion);
  }
}

// ---- redactions (content/rooms/fragments/v3-handling-redactions.md) -----------------------------

/**
 * Send-time check for a local user's redaction (`m.room.power_levels` schema: "For redactions of a
 * user's own events, the required power level is determined by the m.room.redaction event power
 * level [...]. The power level required to redact an event sent by another user is additionally
 * governed by redact."). The `m.room.redaction` level itself is auth rule 7. `powerLevels` should
 * come from {@link powerLevelsFrom} with the create event, so that v12 creators count as infinite.
 */
export function canRedact(
  redactionSender: string,
  originalEvent: Pick<PDU, "sender">,
  powerLevels: PowerLevels,
  roomVersion: string,
): boolean {
  requireAuthVersionRules(roomVersion);
  if (redactionSender === originalEvent.sender) return true;
  return userPowerLevel(powerLevels, redactionSender) >= powerLevels.redact;
}

/**
 * Receipt-time rule ("Handling redactions", room versions 3+): a received, authorised redaction
 * is applied when its sender has the redact level, or is on the same server as the original
 * event's sender (that server vouches for its own users).
 */
export function redactionAppliesOnReceipt(
  redaction: Pick<PDU, "sender">,
  originalEvent: Pick<PDU, "sender">,
  powerLevels: PowerLevels,
  roomVersion: string,
): boolean {
  requireAuthVersionRules(roomVersion);
  if (userPowerLevel(powerLevels, redaction.sender) >= powerLevels.redact) return true;
  return serverNameOf(redaction.sender) !== "" && serverNameOf(redaction.sender) === serverNameOf(originalEvent.sender);
}

// ---- small helpers ----------------------------------------------------------------------------

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === "string");
}

/** Injected callbacks must not be able to crash authorization; a throw counts as "no". */
function safely(f: () => boolean): boolean {
  try {
    return f() === true;
  } catch {
    return false;
  }
}
