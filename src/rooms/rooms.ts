// Room operations a client asks for: create, send, set state, redact, aliases. Everything is
// written through the RoomWriter; this module validates requests and shapes content.
import type { Storage } from "../storage/database.js";
import { roomsRepo } from "../storage/rooms.js";
import { canonicalJson } from "../matrix/canonical-json.js";
import { stateKey } from "../matrix/pdu.js";
import { isSupportedRoomVersion, type RoomVersionId } from "../matrix/room-versions.js";
import { isValidEventType, isValidRoomAlias, isValidRoomId, isValidEventId } from "../matrix/identifiers.js";
import { MatrixError, badJson, forbidden, invalidParam, notFound } from "../http/errors.js";
import { NEWCOMER_HISTORY_EVENT, checkOverride } from "./newcomer-history.js";
import type { Persisted, RoomWriter } from "./writer.js";
import type { Membership } from "./membership.js";
import type { Profiles } from "../accounts/profile.js";
import { planRoom, type CreateRoomRequest } from "./create-room.js";
import { powerLevelsFrom, userPowerLevel } from "../matrix/power-levels.js";

export interface Sender {
  userId: string;
  deviceId: string;
}

/** A server policy's say on a createRoom request: refuse it (throw) or return it adjusted. */
export type CreateRoomCheck = (creator: string, req: CreateRoomRequest) => Promise<CreateRoomRequest>;
/** Work after the room and its invites exist (e.g. src/policy acting on invite_3pid). */
export type AfterCreate = (creator: string, roomId: string, req: CreateRoomRequest) => Promise<void>;

export class Rooms {
  private readonly repo;
  private createChecks: CreateRoomCheck[] = [];
  private afterCreate: AfterCreate[] = [];

  constructor(
    storage: Storage,
    private readonly writer: RoomWriter,
    private readonly membership: Membership,
    private readonly profiles: Profiles,
    private readonly serverName: string,
    private readonly defaultVersion: RoomVersionId,
    private readonly now: () => number,
  ) {
    this.repo = roomsRepo(storage.db);
  }

  addCreateCheck(check: CreateRoomCheck): void {
    this.createChecks.push(check);
  }

  addAfterCreate(hook: AfterCreate): void {
    this.afterCreate.push(hook);
  }

  async create(who: Sender, request: CreateRoomRequest): Promise<{ room_id: string; room_alias?: string }> {
    let req = request;
    for (const c of this.createChecks) req = await c(who.userId, req);
    const version = req.room_version ?? this.defaultVersion;
    if (!isSupportedRoomVersion(version)) throw new MatrixError(400, "M_UNSUPPORTED_ROOM_VERSION", `Room version ${version} is not supported`);
    let alias: string | undefined;
    if (req.room_alias_name !== undefined) {
      alias = `#${req.room_alias_name}:${this.serverName}`;
      if (!isValidRoomAlias(alias) || /[:\s#]/.test(req.room_alias_name)) throw invalidParam("Invalid room_alias_name");
      if (await this.repo.getAlias(alias)) throw new MatrixError(400, "M_ROOM_IN_USE", "Room alias already taken");
    }
    for (const u of req.invite ?? []) {
      if (u === who.userId) throw invalidParam("You cannot invite yourself");
    }
    for (const e of req.initial_state ?? []) if (!isValidEventType(e.type)) throw badJson("initial_state: invalid event type");
    const profile: Record<string, unknown> = { ...(await this.profiles.get(who.userId).catch(() => ({}))) };
    const plan = planRoom(req, who.userId, version, profile, alias);
    const { roomId } = await this.writer.createRoom(who.userId, version, plan.createContent, plan.initial);
    if (alias && !(await this.repo.insertAlias({ alias, room_id: roomId, creator: who.userId, created_ts: this.now() }))) {
      throw new MatrixError(400, "M_ROOM_IN_USE", "Room alias already taken");
    }
    if (req.visibility === "public") await this.repo.setPublic(roomId, true);
    for (const u of new Set(req.invite ?? [])) await this.membership.invite(who.userId, roomId, u, { isDirect: req.is_direct });
    for (const h of this.afterCreate) await h(who.userId, roomId, req);
    return alias ? { room_id: roomId, room_alias: alias } : { room_id: roomId };
  }

  /** PUT /rooms/{roomId}/send/{eventType}/{txnId}. */
  async send(who: Sender, roomId: string, type: string, content: Record<string, unknown>, txnId: string): Promise<Persisted> {
    this.checkRoomId(roomId);
    if (!isValidEventType(type)) throw invalidParam("Invalid event type");
    const redacts = type === "m.room.redaction" && typeof content.redacts === "string" ? content.redacts : undefined;
    return this.writer.send(roomId, { type, sender: who.userId, content, redacts }, { txn: { deviceId: who.deviceId, txnId } });
  }

  /** PUT /rooms/{roomId}/state/{eventType}/{stateKey}; an identical resend returns the same event. */
  async setState(who: Sender, roomId: string, type: string, key: string, content: Record<string, unknown>): Promise<string> {
    this.checkRoomId(roomId);
    if (!isValidEventType(type)) throw invalidParam("Invalid event type");
    if (Buffer.byteLength(key, "utf8") > 255) throw invalidParam("State key too long");
    if (type === "m.room.canonical_alias") await this.checkCanonicalAlias(roomId, content);
    const badOverride = type === NEWCOMER_HISTORY_EVENT ? checkOverride(key, content) : undefined;
    if (badOverride) throw badJson(badOverride);
    const snap = await this.writer.snapshot(roomId);
    if (type === "m.room.member") {
      // Clients set a per-room display name this way; any other membership change has its own
      // endpoint (and checks), which this path must not bypass.
      const current = snap.state.get(stateKey("m.room.member", key))?.content.membership;
      if (key !== who.userId || content.membership !== "join" || current !== "join") throw forbidden("Use the membership endpoints to change membership");
    }
    const existing = snap.state.get(stateKey(type, key));
    if (existing && existing.sender === who.userId && canonicalJson(existing.content) === canonicalJson(content)) return existing.event_id;
    const p = await this.writer.send(roomId, { type, state_key: key, sender: who.userId, content });
    return p.eventId;
  }

  /** PUT /rooms/{roomId}/redact/{eventId}/{txnId}. */
  async redact(who: Sender, roomId: string, eventId: string, reason: string | undefined, txnId: string): Promise<string> {
    this.checkRoomId(roomId);
    if (!isValidEventId(eventId)) throw invalidParam("Invalid event ID");
    const content: Record<string, unknown> = {};
    if (reason !== undefined) content.reason = reason;
    const p = await this.writer.send(roomId, { type: "m.room.redaction", sender: who.userId, content, redacts: eventId }, { txn: { deviceId: who.deviceId, txnId } });
    return p.eventId;
  }

  // --- aliases (client-server API "Room aliases") ---

  async resolveAlias(alias: string): Promise<{ room_id: string; servers: string[] }> {
    if (!isValidRoomAlias(alias)) throw invalidParam("Invalid room alias");
    const a = await this.repo.getAlias(alias);
    if (!a) throw notFound("Room alias not found");
    return { room_id: a.room_id, servers: [this.serverName] };
  }

  async createAlias(who: Sender, alias: string, roomId: string): Promise<void> {
    if (!isValidRoomAlias(alias)) throw invalidParam("Invalid room alias");
    if (!alias.endsWith(`:${this.serverName}`)) throw invalidParam("Aliases must be on this server");
    this.checkRoomId(roomId);
    const snap = await this.writer.snapshot(roomId);
    if (snap.state.get(stateKey("m.room.member", who.userId))?.content.membership !== "join") throw forbidden("You are not in this room");
    if (!(await this.repo.insertAlias({ alias, room_id: roomId, creator: who.userId, created_ts: this.now() }))) throw new MatrixError(409, "M_UNKNOWN", "Room alias already exists");
  }

  /** Deleting an alias: its creator, or a room member allowed to set the canonical alias, or an admin. */
  async deleteAlias(who: Sender & { isAdmin?: boolean }, alias: string): Promise<void> {
    if (!isValidRoomAlias(alias)) throw invalidParam("Invalid room alias");
    const a = await this.repo.getAlias(alias);
    if (!a) throw notFound("Room alias not found");
    if (a.creator !== who.userId && !who.isAdmin) {
      const snap = await this.writer.snapshot(a.room_id);
      const pl = powerLevelsFrom(snap.state.get(stateKey("m.room.power_levels", ""))?.content, snap.createEvent, snap.version);
      const need = pl.events["m.room.canonical_alias"] ?? pl.state_default;
      if (userPowerLevel(pl, who.userId) < need) throw forbidden("You cannot delete this alias");
    }
    await this.repo.deleteAlias(alias);
  }

  async aliases(roomId: string): Promise<string[]> {
    return (await this.repo.aliasesOf(roomId)).map((a) => a.alias);
  }

  private async checkCanonicalAlias(roomId: string, content: Record<string, unknown>): Promise<void> {
    const all = [content.alias, ...(Array.isArray(content.alt_aliases) ? content.alt_aliases : [])].filter((a) => a !== undefined && a !== null);
    for (const a of all) {
      if (typeof a !== "string" || !isValidRoomAlias(a)) throw new MatrixError(400, "M_INVALID_PARAM", "Invalid alias in m.room.canonical_alias");
      const found = await this.repo.getAlias(a);
      if (!found || found.room_id !== roomId) throw new MatrixError(400, "M_BAD_ALIAS", `${a} does not point to this room`);
    }
  }

  private checkRoomId(roomId: string): void {
    if (!isValidRoomId(roomId)) throw invalidParam("Invalid room ID");
  }
}
