// Access tokens, refresh tokens and the authentication of each request.
// A small in-process cache avoids a database read per request; every revocation path goes through
// this class, which drops the revoked tokens from the cache at once (single-process assumption:
// with several processes this cache must be invalidated through the notifier).
import type { Storage } from "../storage/database.js";
import { tokensRepo, type SessionRow } from "../storage/tokens.js";
import { hashToken, randomToken } from "./secrets.js";
import { unknownToken, userLocked } from "../http/errors.js";
import { usersRepo } from "../storage/users.js";

export interface Requester {
  userId: string;
  deviceId: string;
  tokenId: number;
  isAdmin: boolean;
}

export interface IssuedTokens {
  access_token: string;
  refresh_token?: string;
  expires_in_ms?: number;
}

const CACHE_MAX = 10_000;

export class Sessions {
  private cache = new Map<string, SessionRow>();
  private lastUse = new Map<string, number>();
  private readonly startedAt: number;
  /** Session limits, set by the composition root from login_security (0: none). */
  limits = { idleMs: 0, maxLifetimeMs: 0 };
  private readonly tokens;
  private readonly users;

  constructor(
    storage: Storage,
    private readonly accessTokenLifetimeMs: number,
    private readonly now: () => number,
  ) {
    this.tokens = tokensRepo(storage.db);
    this.users = usersRepo(storage.db);
    this.startedAt = now();
  }

  /** Issues an access token (and a refresh token when the client supports them). */
  async issue(userId: string, deviceId: string, withRefresh: boolean, sessionStart?: number): Promise<IssuedTokens> {
    const ts = this.now();
    const session_start_ts = sessionStart ?? ts;
    const access = randomToken("rpt_");
    if (!withRefresh) {
      await this.tokens.insertAccess({ token_hash: hashToken(access), user_id: userId, device_id: deviceId, created_ts: ts, expires_ts: null, refresh_token_id: null, session_start_ts });
      return { access_token: access };
    }
    const refresh = randomToken("rpr_");
    const refreshId = await this.tokens.insertRefresh({ token_hash: hashToken(refresh), user_id: userId, device_id: deviceId, created_ts: ts, session_start_ts });
    await this.tokens.insertAccess({
      session_start_ts,
      token_hash: hashToken(access),
      user_id: userId,
      device_id: deviceId,
      created_ts: ts,
      expires_ts: ts + this.accessTokenLifetimeMs,
      refresh_token_id: refreshId,
    });
    return { access_token: access, refresh_token: refresh, expires_in_ms: this.accessTokenLifetimeMs };
  }

  /** Resolves an access token to its requester, or throws 401 M_UNKNOWN_TOKEN. An expired token
   * that can be refreshed answers with soft_logout so that clients refresh instead of logging out. */
  async authenticate(token: string, opts: { allowLocked?: boolean } = {}): Promise<Requester> {
    const h = hashToken(token);
    let row = this.cache.get(h);
    if (!row) {
      row = await this.tokens.findAccess(h);
      if (!row) throw unknownToken(false);
      if (this.cache.size >= CACHE_MAX) this.cache.delete(this.cache.keys().next().value!);
      this.cache.set(h, row);
    }
    if (row.expires_ts !== null && row.expires_ts <= this.now()) throw unknownToken(true, "Access token has expired");
    await this.checkLimits(h, row);
    // A deactivated account's sessions are gone (401 logs the client out), not merely forbidden:
    // 403 M_USER_DEACTIVATED is for /login (spec "Standard error response").
    if (row.deactivated) throw unknownToken(false, "This account has been deactivated");
    // Spec "Account locking": every endpoint but /logout and /logout/all answers M_USER_LOCKED.
    if (row.locked && !opts.allowLocked) throw userLocked();
    return { userId: row.user_id, deviceId: row.device_id, tokenId: row.token_id, isAdmin: row.admin === 1 };
  }

  /** Exchanges a refresh token for new tokens; the old pair stops working at once. */
  async refresh(refreshToken: string): Promise<IssuedTokens> {
    const row = await this.tokens.findRefresh(hashToken(refreshToken));
    if (!row) throw unknownToken(false, "Unknown refresh token");
    if ((await this.users.get(row.user_id))?.locked) throw userLocked();
    const start = row.session_start_ts === null || row.session_start_ts === undefined ? null : Number(row.session_start_ts);
    if (this.limits.maxLifetimeMs > 0 && start !== null && this.now() - start >= this.limits.maxLifetimeMs) {
      await this.revokeDevices(row.user_id, [row.device_id]);
      throw unknownToken(true, "Session has reached its maximum lifetime; log in again");
    }
    const hashes = await this.tokens.accessHashesFor(row.user_id, [row.device_id]);
    if (!(await this.tokens.consumeRefresh(row.id))) throw unknownToken(false, "Unknown refresh token");
    for (const h of hashes) this.cache.delete(h);
    return this.issue(row.user_id, row.device_id, true, start ?? undefined);
  }

  /** Session limits (NIST SP 800-63B-4 § 2.2.3 reauthentication): an idle session or one older than
   * the maximum lifetime ends; the device's tokens go, and the client is told to log in again with
   * soft_logout (it keeps its device and encryption state). Idle time is tracked in memory from
   * each token's last use (after a restart, from the restart). */
  private async checkLimits(hash: string, row: SessionRow): Promise<void> {
    const { idleMs, maxLifetimeMs } = this.limits;
    if (idleMs <= 0 && maxLifetimeMs <= 0) return;
    const t = this.now();
    const start = row.session_start_ts == null ? Number(row.created_ts) : Number(row.session_start_ts);
    const last = this.lastUse.get(hash) ?? Math.max(Number(row.created_ts), this.startedAt);
    const tooOld = maxLifetimeMs > 0 && t - start >= maxLifetimeMs;
    const idle = idleMs > 0 && t - last >= idleMs;
    if (tooOld || idle) {
      this.lastUse.delete(hash);
      await this.revokeDevices(row.user_id, [row.device_id]);
      throw unknownToken(true, tooOld ? "Session has reached its maximum lifetime; log in again" : "Session ended after a period of inactivity; log in again");
    }
    if (this.lastUse.size >= CACHE_MAX * 5) this.lastUse.clear();
    this.lastUse.set(hash, t);
  }

  async revokeToken(requester: Requester): Promise<void> {
    await this.dropCached(requester.userId, [requester.deviceId]);
    await this.tokens.deleteAccessById(requester.tokenId);
  }

  async revokeDevices(userId: string, deviceIds: string[]): Promise<void> {
    await this.dropCached(userId, deviceIds);
    await this.tokens.deleteForDevices(userId, deviceIds);
  }

  /** Ends every session of a user, optionally keeping the one making the request. */
  async revokeAll(userId: string, keep?: Requester): Promise<void> {
    await this.dropCached(userId);
    await this.tokens.deleteAllForUser(userId, keep?.tokenId);
    await this.tokens.deleteRefreshForUser(userId, keep?.deviceId);
  }

  /** Forgets cached sessions of a user whose flags changed (admin, lock, deactivation). */
  async forgetUser(userId: string): Promise<void> {
    await this.dropCached(userId);
  }

  private async dropCached(userId: string, deviceIds?: string[]): Promise<void> {
    for (const h of await this.tokens.accessHashesFor(userId, deviceIds)) this.cache.delete(h);
  }
}
