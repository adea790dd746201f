// Server notices (Synapse admin API "Server Notices"): a room per user owned by the server notices
// user (config server_notices.localpart), created on first use with the user invited (or joined,
// server_notices.auto_join) and tagged m.server_notice; notices are sent through the room writer.
// Notifying every user is a loop over the user list (synadm notice send --regex does it).
import type { Storage } from "../storage/database.js";
import { adminUsersRepo } from "../storage/admin-users.js";
import { roomsRepo } from "../storage/rooms.js";
import { usersRepo } from "../storage/users.js";
import { stateKey } from "../matrix/pdu.js";
import { isValidEventType, parseUserId } from "../matrix/identifiers.js";
import { MatrixError, invalidParam, notFound } from "../http/errors.js";
import type { ResolvedConfig } from "../config/schema.js";
import type { Accounts } from "../accounts/accounts.js";
import type { AccountData } from "../accounts/account-data.js";
import type { RoomWriter } from "../rooms/writer.js";
import type { Membership } from "../rooms/membership.js";
import type { Rooms } from "../rooms/rooms.js";
import { KeyedMutex } from "../rooms/keyed-mutex.js";

export interface NoticeRequest {
  user_id: string;
  content: Record<string, unknown>;
  type?: string;
  state_key?: string;
}

export class ServerNotices {
  private readonly repo;
  private readonly rooms;
  private readonly users;
  private readonly perUser = new KeyedMutex();

  constructor(
    storage: Storage,
    private readonly config: ResolvedConfig,
    private readonly accounts: Accounts,
    private readonly accountData: AccountData,
    private readonly writer: RoomWriter,
    private readonly membership: Membership,
    private readonly roomService: Rooms,
    private readonly now: () => number,
  ) {
    this.repo = adminUsersRepo(storage.db);
    this.rooms = roomsRepo(storage.db);
    this.users = usersRepo(storage.db);
  }

  get noticesUserId(): string {
    return this.accounts.userId(this.config.server_notices.localpart);
  }

  /** Sends one notice; returns its event id. */
  async send(req: NoticeRequest, opts: { join?: boolean } = {}): Promise<string> {
    const p = parseUserId(req.user_id, { historical: true });
    if (!p) throw invalidParam("Invalid user ID");
    if (p.serverName !== this.config.server_name) throw invalidParam("Server notices can only be sent to local users");
    const target = await this.users.get(req.user_id);
    if (!target) throw notFound("User not found");
    if (target.deactivated) throw new MatrixError(400, "M_UNKNOWN", "Cannot send a server notice to a deactivated user");
    if (req.user_id === this.noticesUserId) throw invalidParam("Cannot send a server notice to the server notices user");
    const type = req.type ?? "m.room.message";
    if (!isValidEventType(type)) throw invalidParam("Invalid event type");

    const roomId = await this.perUser.run(req.user_id, () => this.roomFor(req.user_id, opts.join === true || this.config.server_notices.auto_join));
    const content = { ...req.content };
    // Notices are shown as notices (client-server API "m.notice": sent by automated clients).
    if (type === "m.room.message" && (content.msgtype === undefined || content.msgtype === "m.text")) content.msgtype = "m.notice";
    const sent = await this.writer.send(roomId, { type, sender: this.noticesUserId, content, state_key: req.state_key });
    return sent.eventId;
  }

  private async ensureNoticesUser(): Promise<void> {
    if (await this.users.exists(this.noticesUserId)) return;
    try {
      // No password: nobody logs in as the notices user.
      await this.accounts.createUser(this.config.server_notices.localpart, null, { displayname: this.config.server_notices.display_name });
    } catch (e) {
      if (!(e instanceof MatrixError && e.errcode === "M_USER_IN_USE")) throw e;
    }
  }

  /** The user's notices room: created on first use; the user invited again if they left it. */
  /** `join`: the user is joined rather than invited (security alerts must be seen at once). */
  private async roomFor(userId: string, join: boolean): Promise<string> {
    await this.ensureNoticesUser();
    const known = await this.repo.noticeRoom(userId);
    if (known && (await this.rooms.get(known.room_id))) {
      const snap = await this.writer.snapshot(known.room_id);
      const m = snap.state.get(stateKey("m.room.member", userId))?.content.membership;
      if (m !== "join" && m !== "invite") await this.membership.invite(this.noticesUserId, known.room_id, userId);
      if (m !== "join" && join) await this.membership.join(userId, known.room_id);
      return known.room_id;
    }
    const { room_id: roomId } = await this.roomService.create(
      { userId: this.noticesUserId, deviceId: "" },
      {
        preset: "private_chat",
        name: this.config.server_notices.room_name,
        invite: [userId],
        // Only the server speaks here (Synapse: users_default -10).
        power_level_content_override: { users_default: -10 },
        creation_content: { "m.federate": false },
      },
    );
    await this.repo.setNoticeRoom(userId, roomId, this.now());
    await this.accountData.put(userId, roomId, "m.tag", { tags: { "m.server_notice": { order: 0.5 } } });
    if (join) await this.membership.join(userId, roomId);
    return roomId;
  }
}
