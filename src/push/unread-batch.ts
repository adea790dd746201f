// Unread counts of many users asked for at about the same time (1,000 long-polls woken by one
// message each ask the counts of that room): one query per group of users asking about the same
// rooms (storage/read-batch.ts). Each user still gets their own counts: the query groups by user,
// and each user's read position is their own receipts (spec "Marking notifications as read").
import type { UnreadRow } from "../storage/push-actions.js";
import { ReadBatch } from "../storage/read-batch.js";

export interface UnreadSource {
  unreadMany(userIds: string[], roomIds: string[]): Promise<Array<UnreadRow & { user_id: string }>>;
}

const SEP = "\u0000";

export class UnreadBatch {
  private readonly batch: ReadBatch<string, UnreadRow[]>;

  constructor(source: UnreadSource) {
    this.batch = new ReadBatch(async (group, userIds) => {
      const byUser = new Map<string, UnreadRow[]>(userIds.map((u) => [u, []]));
      for (const { user_id, ...row } of await source.unreadMany([...byUser.keys()], group.split(SEP))) byUser.get(user_id)?.push(row);
      return userIds.map((u) => byUser.get(u)!);
    });
  }

  /** The unread rows of `userId` in `roomIds` (at most 500 rooms: with 500 users per query, well
   * under both databases' bind-parameter limits). */
  get(userId: string, roomIds: string[]): Promise<UnreadRow[]> {
    return roomIds.length === 0 ? Promise.resolve([]) : this.batch.get(roomIds.join(SEP), userId);
  }
}
