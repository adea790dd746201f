// Typing notifications (client-server API "Typing Notifications"): in memory only, as they are
// ephemeral. Each change bumps a position; syncs send a room's typing list when its position moved.
import type { Notifier } from "../rooms/notifier.js";

const MAX_TIMEOUT_MS = 120_000;
const DEFAULT_TIMEOUT_MS = 30_000;

export class Typing {
  private rooms = new Map<string, Map<string, NodeJS.Timeout>>();
  private changedAt = new Map<string, number>();
  private position: number;

  /**
   * Positions start at the clock (ms) rather than 0: typing lives in memory, so after a restart a
   * token from before it must not look "up to date" once the new counter reaches its old value.
   */
  constructor(
    private readonly notifier: Notifier,
    start: number = Date.now(),
  ) {
    this.position = start;
  }

  current(): number {
    return this.position;
  }

  set(roomId: string, userId: string, typing: boolean, timeoutMs?: number): void {
    let users = this.rooms.get(roomId);
    const existing = users?.get(userId);
    if (existing) clearTimeout(existing);
    if (typing) {
      if (!users) this.rooms.set(roomId, (users = new Map()));
      const ms = Math.min(Math.max(timeoutMs ?? DEFAULT_TIMEOUT_MS, 0), MAX_TIMEOUT_MS);
      const timer = setTimeout(() => this.set(roomId, userId, false), ms);
      timer.unref();
      const wasTyping = existing !== undefined;
      users.set(userId, timer);
      // Renewing an ongoing "typing" changes nothing a client can see.
      if (wasTyping) return;
    } else {
      if (!existing) return;
      users!.delete(userId);
      if (users!.size === 0) this.rooms.delete(roomId);
    }
    this.changedAt.set(roomId, ++this.position);
    this.notifier.publishToRoom("typing", roomId);
  }

  /** The rooms (of those given) whose typing list changed after `since`, with their lists. A
   * `since` ahead of the current position comes from before a restart: everything counts. */
  changes(roomIds: string[], since: number): Map<string, string[]> {
    const from = since > this.position ? 0 : since;
    const out = new Map<string, string[]>();
    for (const r of roomIds) {
      const at = this.changedAt.get(r);
      if (at !== undefined && at > from) out.set(r, [...(this.rooms.get(r)?.keys() ?? [])]);
    }
    return out;
  }
}
