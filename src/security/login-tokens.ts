// Short-lived single-use login tokens for m.login.token (client-server API "Login" › "Token-based
// login"), issued by the web login once both factors are done. Stored as SHA-256 hashes only.
import type { Storage } from "../storage/database.js";
import { loginTokensRepo } from "../storage/login-security.js";
import { hashToken, randomToken } from "../accounts/secrets.js";

export class LoginTokens {
  private readonly repo;

  constructor(
    storage: Storage,
    private readonly lifetimeMs: () => number,
    private readonly now: () => number,
  ) {
    this.repo = loginTokensRepo(storage.db);
  }

  async issue(userId: string): Promise<string> {
    const token = randomToken("rpl_");
    await this.repo.insert({ token_hash: hashToken(token), user_id: userId, expires_ts: this.now() + this.lifetimeMs() });
    if (Math.random() < 0.05) await this.repo.deleteExpired(this.now());
    return token;
  }

  /** The user the token was issued to, once; undefined if unknown, used or expired. */
  consume(token: string): Promise<string | undefined> {
    return this.repo.consume(hashToken(token), this.now());
  }
}
