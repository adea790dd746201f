// Step-up by soft logout (client-server API "Soft logout"): the session's access token is revoked
// and remembered, so that it answers 401 M_UNKNOWN_TOKEN with soft_logout: true and the client
// signs in again (same device, keys kept) instead of discarding the session.
import type { Requester, Sessions } from "../accounts/sessions.js";
import type { Storage } from "../storage/database.js";
import { readGateRepo } from "../storage/audit.js";
import { hashToken } from "../accounts/secrets.js";

export class SteppedUpSessions {
  private readonly hashes = new Set<string>();
  private readonly repo;

  private constructor(
    storage: Storage,
    private readonly sessions: Sessions,
    private readonly now: () => number,
  ) {
    this.repo = readGateRepo(storage.db);
  }

  static async open(storage: Storage, sessions: Sessions, now: () => number): Promise<SteppedUpSessions> {
    const s = new SteppedUpSessions(storage, sessions, now);
    for (const h of await s.repo.steppedUpHashes()) s.hashes.add(h);
    return s;
  }

  /** True when `token` belongs to a session ended by a step-up (checked before authentication). */
  isSteppedUp(token: string): boolean {
    return this.hashes.size > 0 && this.hashes.has(hashToken(token));
  }

  async softLogout(who: Requester): Promise<void> {
    const hash = await this.repo.tokenHashById(who.tokenId);
    if (hash) {
      await this.repo.insertSteppedUp(hash, who.userId, this.now());
      this.hashes.add(hash);
    }
    await this.sessions.revokeToken(who);
  }
}
