// Account locking (client-server API "Account moderation" › "Account locking", v1.12; admin
// endpoints v1.18). A locked account is refused everywhere with 401 M_USER_LOCKED, soft_logout true,
// except /logout and /logout/all. Rempart goes one step further than the spec's SHOULD NOT
// "invalidate access tokens": locking is our answer to a taken-over account, so every session ends
// at once (no request is served from that moment, web sessions are deleted) and the access and
// refresh tokens are revoked when the lock is lifted: the owner logs in again (soft_logout lets
// clients keep their encryption state), the intruder's tokens never work again.
import type { Storage } from "../storage/database.js";
import { locksRepo } from "../storage/login-security.js";
import type { Sessions } from "./sessions.js";
import type { SecurityEvents } from "../security/events.js";
import { notFound } from "../http/errors.js";

export interface LockStatus {
  locked: boolean;
  reason?: string | null;
  locked_by?: string | null;
  locked_ts?: number;
}

type Listener = (userId: string, by: string | null) => Promise<void> | void;

export class AccountLocks {
  private readonly repo;
  private lockListeners: Listener[] = [];
  private unlockListeners: Listener[] = [];

  constructor(
    storage: Storage,
    private readonly sessions: Sessions,
    private readonly events: SecurityEvents,
    private readonly now: () => number,
  ) {
    this.repo = locksRepo(storage.db);
  }

  onLock(l: Listener): void {
    this.lockListeners.push(l);
  }

  onUnlock(l: Listener): void {
    this.unlockListeners.push(l);
  }

  /** Locks a local user; 404 M_NOT_FOUND for an unknown one. Idempotent (the reason is updated). */
  async lock(userId: string, reason: string | null, by: string | null): Promise<void> {
    if (!(await this.repo.lock(userId, reason, by, this.now()))) throw notFound("Unknown user");
    await this.sessions.forgetUser(userId);
    this.events.emit({ type: "account.locked", userId, by: by ?? undefined, detail: { reason } });
    for (const l of this.lockListeners) await l(userId, by);
  }

  /** Lifts the lock; the sessions that existed when it was applied are ended for good. */
  async unlock(userId: string, by: string | null): Promise<void> {
    const r = await this.repo.unlock(userId);
    if (r === "missing") throw notFound("Unknown user");
    if (r === "was-locked") await this.sessions.revokeAll(userId);
    await this.sessions.forgetUser(userId);
    this.events.emit({ type: "account.unlocked", userId, by: by ?? undefined });
    for (const l of this.unlockListeners) await l(userId, by);
  }

  async status(userId: string): Promise<LockStatus> {
    const row = await this.repo.get(userId);
    if (!row) return { locked: false };
    return { locked: true, reason: row.reason, locked_by: row.locked_by, locked_ts: Number(row.locked_ts) };
  }
}
