// Password logins from any entry point (the Matrix /login API, Rempart's web login page): the login
// guard first, then the constant-work password check, then what the outcome teaches the guard.
import type { Accounts } from "../accounts/accounts.js";
import { MatrixError } from "../http/errors.js";
import type { SecurityEvents } from "./events.js";
import type { LoginGuard } from "./login-guard.js";

export class PasswordLogin {
  constructor(
    private readonly accounts: Accounts,
    readonly guard: LoginGuard,
    private readonly events: SecurityEvents,
  ) {}

  /** Returns the user id, or throws the Matrix error to answer (the same for unknown users and
   * wrong passwords). */
  async attempt(typedUser: string, password: string, ip: string): Promise<string> {
    const userId = this.accounts.resolveUserIdentifier(typedUser);
    await this.guard.check(userId, ip);
    try {
      const id = await this.accounts.checkPassword(userId, password);
      await this.guard.succeeded(userId, ip);
      return id;
    } catch (e) {
      if (e instanceof MatrixError && e.errcode === "M_FORBIDDEN") {
        await this.guard.failed(userId, ip);
        this.events.emit({ type: "login.failed", userId, ip });
      } else {
        // Right password on a deactivated or locked account: not a guess, but not a login either.
        await this.guard.succeeded(userId, ip);
      }
      throw e;
    }
  }
}
