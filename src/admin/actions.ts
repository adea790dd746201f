// The seam between admin actions and the audit trail: every admin API call that reads or changes
// something records one AdminAction here. The lead connects `onAction` to the audit trail; until
// then each action is logged (ids and flags only: never passwords, tokens or message bodies).
import type { Logger } from "pino";

export interface AdminAction {
  /** The admin who acted (for "refused.not_admin": the non-admin who tried). */
  admin: string;
  /** What was done, e.g. "user.deactivate", "room.delete", "server_notice.send". */
  action: string;
  /** What it was done to: a user id, a room id, a report id… */
  target?: string;
  /** Non-secret details (flags, counts). */
  details?: Record<string, unknown>;
}

export type AdminActionListener = (action: AdminAction & { ts: number }) => void;

export class AdminActions {
  private listeners: AdminActionListener[] = [];

  constructor(
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  onAction(listener: AdminActionListener): void {
    this.listeners.push(listener);
  }

  record(action: AdminAction): void {
    const entry = { ...action, ts: this.now() };
    this.log.info({ admin_action: action.action, admin: action.admin, target: action.target, details: action.details }, "admin action");
    for (const l of this.listeners) {
      try {
        l(entry);
      } catch (e) {
        this.log.warn({ err: e, admin_action: action.action }, "admin action listener failed");
      }
    }
  }
}
