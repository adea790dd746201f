// The seam to the audit trail: every decision of the login-security code (lock, unlock, login
// refused or throttled, stuffing detected, factor added, alert sent…) is emitted here as one small
// record. The audit engineer's service subscribes with `app.securityEvents.on(...)`; nothing here
// stores or logs secrets (no passwords, codes or tokens ever go into an event).
export interface SecurityEvent {
  /** e.g. "account.locked", "login.failed", "login.throttled", "stuffing.detected", "mfa.totp.enrolled". */
  type: string;
  ts: number;
  userId?: string;
  ip?: string;
  /** Who acted, when not the user (an admin, the server). */
  by?: string;
  detail?: Record<string, string | number | boolean | null>;
}

export type SecurityEventListener = (event: SecurityEvent) => void;

export class SecurityEvents {
  private listeners: SecurityEventListener[] = [];

  constructor(private readonly now: () => number) {}

  on(listener: SecurityEventListener): () => void {
    this.listeners.push(listener);
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  emit(event: Omit<SecurityEvent, "ts">): void {
    const full = { ts: this.now(), ...event };
    // A listener's failure must never change a security decision.
    for (const l of this.listeners) {
      try {
        l(full);
      } catch {
        /* ignored */
      }
    }
  }
}
