// Room upgrades (client-server API "Room Upgrades", server behaviour steps 1-6): a replacement
// room with the old room's transferable state, local aliases and directory publication moved to
// it, a tombstone in the old room, and the old room's power levels restricted. Every event goes
// through the room writer. The steps span two rooms and cannot share one transaction: the
// permission check comes first so that an upgrade which starts normally completes.
import type { Storage } from "../storage/database.js";
import { directoryRepo } from "../storage/directory.js";
import { stateKey, type PDU } from "../matrix/pdu.js";
import { isSupportedRoomVersion, requireRoomVersion, type RoomVersionId } from "../matrix/room-versions.js";
import { isValidRoomId, isValidUserId } from "../matrix/identifiers.js";
import { powerLevelsFrom, requiredLevelForEvent, userPowerLevel } from "../matrix/power-levels.js";
import { MatrixError, forbidden, invalidParam } from "../http/errors.js";
import type { EventDraft, RoomWriter } from "./writer.js";
import type { Membership } from "./membership.js";
import type { RoomDirectory } from "./directory.js";
import type { Profiles } from "../accounts/profile.js";
import { KeyedMutex } from "./keyed-mutex.js";

/**
 * Step 3's recommended list, plus Tchap's access rule (government-model.md: the rule is part of
 * what the room is) and the canonical alias, whose aliases move with step 4.
 */
export const TRANSFERABLE_STATE = [
  "m.room.join_rules",
  "m.room.history_visibility",
  "m.room.guest_access",
  "m.room.name",
  "m.room.topic",
  "m.room.avatar",
  "m.room.encryption",
  "m.room.server_acl",
  "im.vector.room.access_rules",
  "m.room.canonical_alias",
] as const;

export interface UpgradeRequest {
  new_version: string;
  additional_creators?: string[];
}

type Json = Record<string, unknown>;

export class RoomUpgrades {
  private readonly mutex = new KeyedMutex();
  private readonly directoryRepo;

  constructor(
    storage: Storage,
    private readonly writer: RoomWriter,
    private readonly membership: Membership,
    private readonly directory: RoomDirectory,
    private readonly profiles: Profiles,
  ) {
    this.directoryRepo = directoryRepo(storage.db);
  }

  /** POST /rooms/{roomId}/upgrade. Upgrades of one room run one at a time. */
  async upgrade(userId: string, roomId: string, req: UpgradeRequest): Promise<{ replacement_room: string }> {
    if (!isValidRoomId(roomId)) throw invalidParam("Invalid room ID");
    const version = req.new_version;
    if (!isSupportedRoomVersion(version)) throw new MatrixError(400, "M_UNSUPPORTED_ROOM_VERSION", `Room version ${version} is not supported`);
    for (const u of req.additional_creators ?? []) if (!isValidUserId(u, { historical: true })) throw invalidParam(`Invalid user ID in additional_creators: ${u}`);
    return this.mutex.run(roomId, () => this.run(userId, roomId, version, req.additional_creators ?? []));
  }

  private async run(userId: string, oldRoomId: string, version: RoomVersionId, additionalCreators: string[]): Promise<{ replacement_room: string }> {
    const old = await this.writer.snapshot(oldRoomId);
    const get = (type: string, key = ""): PDU | undefined => old.state.get(stateKey(type, key));
    const oldPl = powerLevelsFrom(get("m.room.power_levels")?.content, old.createEvent, old.version);
    const oldLevel = userPowerLevel(oldPl, userId, old.createEvent, old.version);
    // Step 1: "Checks that the user has permission to send m.room.tombstone events in the room."
    if (get("m.room.member", userId)?.content.membership !== "join") throw forbidden("You are not in this room");
    if (oldLevel < requiredLevelForEvent(oldPl, "m.room.tombstone", true)) throw forbidden("You cannot upgrade this room");

    // Step 2: the create event names its predecessor and keeps the room's type.
    const rv = requireRoomVersion(version);
    const createContent: Json = { predecessor: { room_id: oldRoomId, event_id: old.latest.eventId } };
    const type = get("m.room.create")?.content.type;
    if (typeof type === "string") createContent.type = type;
    // v1.16: additional creators are not carried over; only those named in the request count.
    const creators = [userId];
    if (rv.creatorsHavePower && additionalCreators.length) {
      createContent.additional_creators = [...new Set(additionalCreators.filter((u) => u !== userId))];
      creators.push(...(createContent.additional_creators as string[]));
    }

    // Step 3: copy the power levels and the transferable state.
    const plContent = structuredClone(get("m.room.power_levels")?.content ?? {}) as Json;
    const users: Json = { ...((plContent.users as Json | undefined) ?? {}) };
    let restorePl: Json | undefined;
    if (rv.creatorsHavePower) {
      // v12 auth rules refuse power levels that list a creator; creators are infinitely powerful.
      for (const c of creators) delete users[c];
    } else {
      // Earlier versions: the upgrader must be able to send the copied state. Raise them for the
      // creation if needed, then put the copied levels back (as Synapse does).
      const target = oldLevel === Infinity ? 100 : oldLevel;
      if (oldLevel === Infinity) users[userId] = 100;
      const newPl = powerLevelsFrom({ ...plContent, users }, undefined, version);
      const needed = Math.max(
        target,
        requiredLevelForEvent(newPl, "m.room.power_levels", true),
        ...TRANSFERABLE_STATE.map((t) => requiredLevelForEvent(newPl, t, true)),
      );
      if (needed > target) {
        restorePl = { ...plContent, users: { ...users } };
        users[userId] = needed;
      }
    }
    plContent.users = users;

    const profile = await this.profiles.get(userId).catch(() => ({}) as Json);
    const member: Json = { membership: "join" };
    for (const k of ["displayname", "avatar_url"] as const) if (typeof (profile as Json)[k] === "string") member[k] = (profile as Json)[k];
    const drafts: EventDraft[] = [
      { type: "m.room.member", state_key: userId, sender: userId, content: member },
      { type: "m.room.power_levels", state_key: "", sender: userId, content: plContent },
    ];
    for (const t of TRANSFERABLE_STATE) {
      const ev = get(t);
      // Redacted or emptied state (e.g. a removed name) is not worth copying.
      if (ev && Object.keys(ev.content ?? {}).length > 0) drafts.push({ type: t, state_key: "", sender: userId, content: structuredClone(ev.content) });
    }
    if (restorePl) drafts.push({ type: "m.room.power_levels", state_key: "", sender: userId, content: restorePl });
    const { roomId: newRoomId } = await this.writer.createRoom(userId, version, createContent, () => drafts);

    // Step 4: local aliases now lead to the new room; the directory listing follows them.
    await this.directoryRepo.repointAliases(oldRoomId, newRoomId);
    await this.directory.transferPublication(oldRoomId, newRoomId);

    // Step 5: the tombstone.
    await this.writer.send(oldRoomId, {
      type: "m.room.tombstone",
      state_key: "",
      sender: userId,
      content: { body: "This room has been replaced", replacement_room: newRoomId },
    });

    // Step 6: "If possible", stop sending and inviting in the old room: events_default and invite
    // to the greater of 50 and users_default + 1. Not possible when the upgrader may not change
    // the power levels; the tombstone still stands.
    await this.restrictOldRoom(userId, oldRoomId).catch(() => undefined);

    // Users invited to the old room but not yet in would otherwise be left with an invite to a
    // dead room: they are invited to the replacement (best effort: each is one ordinary invite).
    // Bans carry over too, so an upgrade is no way back in.
    for (const [key, ev] of old.state) {
      if (!key.startsWith("m.room.member\u0000") || ev.state_key === userId) continue;
      const m = ev.content.membership;
      if (m === "invite") await this.membership.invite(userId, newRoomId, ev.state_key!).catch(() => undefined);
      else if (m === "ban") await this.membership.ban(userId, newRoomId, ev.state_key!, { reason: typeof ev.content.reason === "string" ? ev.content.reason : undefined }).catch(() => undefined);
    }
    return { replacement_room: newRoomId };
  }

  private async restrictOldRoom(userId: string, roomId: string): Promise<void> {
    const snap = await this.writer.snapshot(roomId);
    const content = structuredClone(snap.state.get(stateKey("m.room.power_levels", ""))?.content ?? {}) as Json;
    const pl = powerLevelsFrom(content, snap.createEvent, snap.version);
    const level = Math.max(50, pl.users_default + 1);
    if (pl.events_default >= level && pl.invite >= level) return;
    content.events_default = Math.max(pl.events_default, level);
    content.invite = Math.max(pl.invite, level);
    await this.writer.send(roomId, { type: "m.room.power_levels", state_key: "", sender: userId, content });
  }
}
