// Membership changes (client-server API "Room membership"): join, invite, leave, kick, ban,
// unban, knock, forget. Each is one event through the room writer, whose authorization rules
// decide; this module supplies the content (profile, reason, restricted-join authoriser).
import type { Storage } from "../storage/database.js";
import { roomsRepo } from "../storage/rooms.js";
import { eventsRepo } from "../storage/events.js";
import { stateKey, type PDU } from "../matrix/pdu.js";
import { powerLevelsFrom, userPowerLevel } from "../matrix/power-levels.js";
import { isValidRoomAlias, isValidRoomId, isValidUserId, parseUserId } from "../matrix/identifiers.js";
import { MatrixError, forbidden, invalidParam, notFound } from "../http/errors.js";
import type { Persisted, RoomSnapshot, RoomWriter } from "./writer.js";
import type { Profiles } from "../accounts/profile.js";

export interface MembershipOptions {
  reason?: string;
  /** Transaction of the request (idempotent retries of membership endpoints). */
  txn?: { deviceId: string; txnId: string };
}

/** Runs before a user's own leave is written (e.g. the last-admin rule of src/policy). */
export type BeforeLeave = (userId: string, roomId: string) => Promise<void>;

export class Membership {
  private readonly rooms;
  private readonly events;
  private beforeLeaveHooks: BeforeLeave[] = [];

  constructor(
    storage: Storage,
    private readonly writer: RoomWriter,
    private readonly profiles: Profiles,
    private readonly serverName: string,
    private readonly userExists: (userId: string) => Promise<boolean>,
  ) {
    this.rooms = roomsRepo(storage.db);
    this.events = eventsRepo(storage.db);
  }

  /** Resolves a room id or alias (POST /join/{roomIdOrAlias}). */
  async resolveRoom(roomIdOrAlias: string): Promise<string> {
    if (roomIdOrAlias.startsWith("#")) {
      if (!isValidRoomAlias(roomIdOrAlias)) throw invalidParam("Invalid room alias");
      const a = await this.rooms.getAlias(roomIdOrAlias);
      if (!a) throw notFound("Room alias not found");
      return a.room_id;
    }
    if (!isValidRoomId(roomIdOrAlias)) throw invalidParam("Invalid room ID or alias");
    return roomIdOrAlias;
  }

  private async memberContent(userId: string, membership: string, reason?: string): Promise<Record<string, unknown>> {
    const content: Record<string, unknown> = { membership };
    try {
      const p = await this.profiles.get(userId);
      if (p.displayname !== undefined) content.displayname = p.displayname;
      if (p.avatar_url !== undefined) content.avatar_url = p.avatar_url;
    } catch {
      // No local profile (deactivated user): the event carries no profile.
    }
    if (reason !== undefined) content.reason = reason;
    return content;
  }

  async join(userId: string, roomIdOrAlias: string, opts: MembershipOptions = {}): Promise<string> {
    const roomId = await this.resolveRoom(roomIdOrAlias);
    const snap = await this.writer.snapshot(roomId).catch((e: unknown) => {
      if (e instanceof MatrixError && e.status === 404) throw notFound("No known servers for this room");
      throw e;
    });
    const current = snap.state.get(stateKey("m.room.member", userId))?.content.membership;
    const content = await this.memberContent(userId, "join", opts.reason);
    if (current !== "invite" && current !== "join") {
      const authoriser = await this.restrictedJoinAuthoriser(snap, userId);
      if (authoriser) content.join_authorised_via_users_server = authoriser;
    }
    await this.writer.send(roomId, { type: "m.room.member", state_key: userId, sender: userId, content }, { txn: opts.txn });
    await this.rooms.unforget(userId, roomId);
    return roomId;
  }

  /**
   * Restricted rooms (room versions 8+, "Restricted rooms"): a user joined to one of the allowed
   * rooms may join; the join names a local member able to invite as its authoriser.
   */
  private async restrictedJoinAuthoriser(snap: RoomSnapshot, userId: string): Promise<string | undefined> {
    const rules = snap.state.get(stateKey("m.room.join_rules", ""))?.content;
    const rule = rules?.join_rule;
    if (rule !== "restricted" && rule !== "knock_restricted") return undefined;
    const allow = Array.isArray(rules?.allow) ? (rules!.allow as Array<Record<string, unknown>>) : [];
    const allowedRooms = allow.filter((a) => a.type === "m.room_membership" && typeof a.room_id === "string").map((a) => a.room_id as string);
    if (!(await this.joinedToAny(userId, allowedRooms))) return undefined;
    const pl = powerLevelsFrom(snap.state.get(stateKey("m.room.power_levels", ""))?.content, snap.createEvent, snap.version);
    for (const [key, ev] of snap.state) {
      if (!key.startsWith("m.room.member\u0000") || ev.content.membership !== "join") continue;
      const member = ev.state_key!;
      if (parseUserId(member, { historical: true })?.serverName !== this.serverName) continue;
      if (userPowerLevel(pl, member) >= pl.invite) return member;
    }
    return undefined;
  }

  private async joinedToAny(userId: string, roomIds: string[]): Promise<boolean> {
    for (const r of roomIds) {
      const ev = await this.events.currentStateEvent(r, "m.room.member", userId);
      if (ev && (JSON.parse(ev.json) as PDU).content.membership === "join") return true;
    }
    return false;
  }

  async invite(sender: string, roomId: string, target: string, opts: MembershipOptions & { isDirect?: boolean } = {}): Promise<Persisted> {
    await this.checkTarget(target);
    const content = await this.memberContent(target, "invite", opts.reason);
    if (opts.isDirect) content.is_direct = true;
    return this.writer.send(roomId, { type: "m.room.member", state_key: target, sender, content }, { txn: opts.txn });
  }

  onBeforeLeave(hook: BeforeLeave): void {
    this.beforeLeaveHooks.push(hook);
  }

  async leave(userId: string, roomId: string, opts: MembershipOptions = {}): Promise<void> {
    if (!isValidRoomId(roomId)) throw invalidParam("Invalid room ID");
    const snap = await this.writer.snapshot(roomId);
    const current = snap.state.get(stateKey("m.room.member", userId))?.content.membership;
    if (current === undefined || current === "leave") throw forbidden("You are not in this room");
    for (const h of this.beforeLeaveHooks) await h(userId, roomId);
    const content: Record<string, unknown> = { membership: "leave" };
    if (opts.reason !== undefined) content.reason = opts.reason;
    await this.writer.send(roomId, { type: "m.room.member", state_key: userId, sender: userId, content }, { txn: opts.txn });
  }

  async kick(sender: string, roomId: string, target: string, opts: MembershipOptions = {}): Promise<void> {
    this.checkUserId(target);
    const content: Record<string, unknown> = { membership: "leave" };
    if (opts.reason !== undefined) content.reason = opts.reason;
    await this.writer.send(roomId, { type: "m.room.member", state_key: target, sender, content }, { txn: opts.txn });
  }

  async ban(sender: string, roomId: string, target: string, opts: MembershipOptions = {}): Promise<void> {
    this.checkUserId(target);
    const content: Record<string, unknown> = { membership: "ban" };
    if (opts.reason !== undefined) content.reason = opts.reason;
    await this.writer.send(roomId, { type: "m.room.member", state_key: target, sender, content }, { txn: opts.txn });
  }

  async unban(sender: string, roomId: string, target: string, opts: MembershipOptions = {}): Promise<void> {
    this.checkUserId(target);
    const snap = await this.writer.snapshot(roomId);
    if (snap.state.get(stateKey("m.room.member", target))?.content.membership !== "ban") throw forbidden("The user is not banned");
    const content: Record<string, unknown> = { membership: "leave" };
    if (opts.reason !== undefined) content.reason = opts.reason;
    await this.writer.send(roomId, { type: "m.room.member", state_key: target, sender, content }, { txn: opts.txn });
  }

  async knock(userId: string, roomIdOrAlias: string, opts: MembershipOptions = {}): Promise<string> {
    const roomId = await this.resolveRoom(roomIdOrAlias);
    const content = await this.memberContent(userId, "knock", opts.reason);
    await this.writer.send(roomId, { type: "m.room.member", state_key: userId, sender: userId, content }, { txn: opts.txn });
    return roomId;
  }

  /** POST /forget: only once the user is no longer in the room (spec: 400 otherwise). */
  async forget(userId: string, roomId: string): Promise<void> {
    if (!isValidRoomId(roomId)) throw invalidParam("Invalid room ID");
    const ev = await this.events.currentStateEvent(roomId, "m.room.member", userId);
    if (!ev) throw notFound("You have never been in this room");
    const m = (JSON.parse(ev.json) as PDU).content.membership;
    if (m === "join" || m === "invite" || m === "knock") throw new MatrixError(400, "M_UNKNOWN", "You must leave the room before forgetting it");
    await this.rooms.forget(userId, roomId);
  }

  async joinedRooms(userId: string): Promise<string[]> {
    return (await this.events.roomsForUser(userId, ["join"])).map((r) => r.room_id);
  }

  private checkUserId(userId: string): void {
    if (!isValidUserId(userId, { historical: true })) throw invalidParam("Invalid user ID");
  }

  /** Invites go to existing local users only: this server does not federate yet. */
  private async checkTarget(userId: string): Promise<void> {
    this.checkUserId(userId);
    const parsed = parseUserId(userId, { historical: true });
    if (parsed?.serverName !== this.serverName) throw forbidden("Users on other servers cannot be invited: federation is not enabled");
    if (!(await this.userExists(userId))) throw notFound("Unknown user");
  }
}
