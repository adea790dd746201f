// What happens after a successful login, whatever the entry point (password, m.login.token): new
// device / new network alerts subscribe here. A hook's failure never fails the login.
import type { Logger } from "pino";

export type LoginHook = (userId: string, deviceId: string, ip: string, userAgent: string | null) => Promise<void>;

export class LoginHooks {
  private hooks: LoginHook[] = [];

  constructor(private readonly log: Logger) {}

  on(hook: LoginHook): void {
    this.hooks.push(hook);
  }

  async loggedIn(userId: string, deviceId: string, ip: string, userAgent: string | null): Promise<void> {
    for (const h of this.hooks) {
      try {
        await h(userId, deviceId, ip, userAgent);
      } catch (e) {
        this.log.warn({ err: { message: (e as Error).message }, user_id: userId }, "login hook failed");
      }
    }
  }
}
