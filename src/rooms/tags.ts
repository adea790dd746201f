// Room tagging (client-server API "Room Tagging"): a user's tags of a room are the room account
// data event `m.tag` ({"tags": {name: {order?}}}), so /sync delivers them with the other room
// account data. Read-modify-write of that one event is serialised per user.
import type { AccountData } from "../accounts/account-data.js";
import { MatrixError, invalidParam } from "../http/errors.js";
import { isValidRoomId } from "../matrix/identifiers.js";
import { KeyedMutex } from "./keyed-mutex.js";

export type TagContent = Record<string, unknown>;
export interface Tags {
  tags: Record<string, TagContent>;
}

/** Tag names are at most 255 bytes (tags.yaml: "The tag to create ... 255 bytes" in m.tag). */
const MAX_TAG_BYTES = 255;
/** A bound on one room's tags, so one user cannot grow one account data row without limit. */
const MAX_TAGS_PER_ROOM = 100;

export class RoomTags {
  private readonly mutex = new KeyedMutex();

  constructor(private readonly accountData: AccountData) {}

  async get(userId: string, roomId: string): Promise<Tags> {
    this.checkRoom(roomId);
    return { tags: await this.current(userId, roomId) };
  }

  /** PUT /user/{userId}/rooms/{roomId}/tags/{tag}: the body is the tag's content (`order` in [0, 1]). */
  async put(userId: string, roomId: string, tag: string, content: TagContent): Promise<void> {
    this.checkRoom(roomId);
    this.checkTag(tag);
    if (content.order !== undefined && (typeof content.order !== "number" || !(content.order >= 0 && content.order <= 1))) {
      throw invalidParam("order must be a number between 0 and 1");
    }
    await this.mutex.run(userId, async () => {
      const tags = await this.current(userId, roomId);
      if (!Object.hasOwn(tags, tag) && Object.keys(tags).length >= MAX_TAGS_PER_ROOM) throw new MatrixError(400, "M_LIMIT_EXCEEDED", "Too many tags on this room");
      tags[tag] = content;
      await this.accountData.put(userId, roomId, "m.tag", { tags });
    });
  }

  /** DELETE: removing an absent tag succeeds (the end state is what was asked for). */
  async delete(userId: string, roomId: string, tag: string): Promise<void> {
    this.checkRoom(roomId);
    this.checkTag(tag);
    await this.mutex.run(userId, async () => {
      const tags = await this.current(userId, roomId);
      if (!Object.hasOwn(tags, tag)) return;
      delete tags[tag];
      await this.accountData.put(userId, roomId, "m.tag", { tags });
    });
  }

  private async current(userId: string, roomId: string): Promise<Record<string, TagContent>> {
    const content = await this.accountData.get(userId, roomId, "m.tag").catch((e: unknown) => {
      if (e instanceof MatrixError && e.status === 404) return {};
      throw e;
    });
    const tags = (content as { tags?: unknown }).tags;
    const out: Record<string, TagContent> = Object.create(null) as Record<string, TagContent>;
    if (tags && typeof tags === "object" && !Array.isArray(tags)) {
      for (const [k, v] of Object.entries(tags)) if (v && typeof v === "object" && !Array.isArray(v)) out[k] = v as TagContent;
    }
    return out;
  }

  private checkRoom(roomId: string): void {
    if (!isValidRoomId(roomId)) throw invalidParam("Invalid room ID");
  }

  private checkTag(tag: string): void {
    if (tag.length === 0 || Buffer.byteLength(tag, "utf8") > MAX_TAG_BYTES) throw invalidParam("Invalid tag name");
  }
}
