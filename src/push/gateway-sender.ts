// Sends notifications to push gateways (push-gateway-api "POST /_matrix/push/v1/notify") once an
// event that notified someone is published. Each (event, pusher) delivery retries with exponential
// backoff on network errors, 5xx and 429, a bounded number of times; a pushkey the gateway lists in
// `rejected` loses its pusher. Event content goes only to gateways that did not ask for
// `event_id_only` (spec "Security considerations" recommends that format).
import type { Logger } from "pino";
import type { Notifier } from "../rooms/notifier.js";
import type { PushEvaluator, PendingPush } from "./evaluator.js";
import type { Pushers } from "./pushers.js";
import type { Notifications } from "./notifications.js";
import type { PusherRow } from "../storage/pushers.js";
import type { PushAction } from "../matrix/push-rules.js";

export interface SenderOptions {
  enabled: boolean;
  timeoutMs: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
}

export class GatewaySender {
  private off?: () => void;
  private timers = new Set<NodeJS.Timeout>();
  private inflight = new Set<Promise<void>>();
  private closed = false;

  constructor(
    notifier: Notifier,
    private readonly evaluator: PushEvaluator,
    private readonly pushers: Pushers,
    private readonly notifications: Notifications,
    private readonly opts: SenderOptions,
    private readonly log: Logger,
  ) {
    this.off = notifier.onRoomEvent((n) => {
      const p = this.evaluator.take(n.eventId);
      if (p && this.opts.enabled && !this.closed) this.track(this.dispatch(p));
    });
  }

  private track(p: Promise<void>): void {
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  private async dispatch(p: PendingPush): Promise<void> {
    try {
      const actionsOf = new Map<string, string>();
      for (const u of await this.pushers.withPushers(p.sharedUsers)) actionsOf.set(u, p.sharedActions!);
      const own = p.rows.filter((r) => r.notify === 1);
      const ownPushers = new Set(await this.pushers.withPushers(own.map((r) => r.user_id)));
      for (const r of own) if (ownPushers.has(r.user_id)) actionsOf.set(r.user_id, r.actions);
      for (const [userId, json] of actionsOf) {
        const pushers = await this.pushers.forUser(userId);
        if (pushers.length === 0) continue;
        const unread = await this.notifications.totalUnread(userId);
        const actions = JSON.parse(json) as PushAction[];
        for (const pusher of pushers) this.attempt(pusher, buildPayload(p, userId, actions, unread, pusher), 1);
      }
    } catch (e) {
      this.log.warn({ err: { message: (e as Error).message } }, "push dispatch failed");
    }
  }

  private attempt(pusher: PusherRow, payload: unknown, n: number): void {
    if (this.closed) return;
    this.track(
      this.post(pusher, payload).then((outcome) => {
        if (outcome === "retry" && n < this.opts.maxAttempts && !this.closed) {
          const delay = Math.min(this.opts.retryBaseMs * 2 ** (n - 1), this.opts.retryMaxMs);
          const t = setTimeout(() => {
            this.timers.delete(t);
            this.attempt(pusher, payload, n + 1);
          }, delay);
          t.unref();
          this.timers.add(t);
        } else if (outcome === "retry") {
          this.log.warn({ app_id: pusher.app_id, attempts: n }, "push gateway unreachable; notification dropped");
        }
      }),
    );
  }

  /** One POST; "retry" for transient failures. Never logs the pushkey or the payload. */
  private async post(pusher: PusherRow, payload: unknown): Promise<"done" | "retry"> {
    const url = (JSON.parse(pusher.data) as { url: string }).url;
    let res: Response;
    try {
      res = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(payload), signal: AbortSignal.timeout(this.opts.timeoutMs), redirect: "error" });
    } catch {
      return "retry";
    }
    if (res.status >= 500 || res.status === 429) {
      await res.body?.cancel();
      return "retry";
    }
    if (res.status !== 200) {
      await res.body?.cancel();
      this.log.warn({ app_id: pusher.app_id, status: res.status }, "push gateway refused a notification");
      return "done";
    }
    try {
      const body = (await res.json()) as { rejected?: unknown };
      if (Array.isArray(body.rejected) && body.rejected.includes(pusher.pushkey)) {
        await this.pushers.reject(pusher.user_id, pusher.app_id, pusher.pushkey);
        this.log.info({ app_id: pusher.app_id }, "push gateway rejected a pushkey; pusher removed");
      }
    } catch {
      // A 200 with an unreadable body still delivered the notification.
    }
    return "done";
  }

  /** Stops retries and waits for requests under way (server shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    this.off?.();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.inflight]);
  }
}

/** The /notify body for one pusher (push-gateway-api "Notification"). */
export function buildPayload(p: PendingPush, userId: string, actions: PushAction[], unread: number, pusher: PusherRow): { notification: Record<string, unknown> } {
  const tweaks: Record<string, unknown> = {};
  for (const a of actions) if (typeof a === "object" && typeof a.set_tweak === "string") tweaks[a.set_tweak] = a.value === undefined && a.set_tweak === "highlight" ? true : a.value;
  const { url: _url, ...data } = JSON.parse(pusher.data) as Record<string, unknown>;
  const device = { app_id: pusher.app_id, pushkey: pusher.pushkey, pushkey_ts: Math.floor(Number(pusher.created_ts) / 1000), data, tweaks };
  // "high" wakes the device; notifications that neither sound nor highlight can wait.
  const prio = tweaks.sound !== undefined || tweaks.highlight === true ? "high" : "low";
  const base: Record<string, unknown> = { event_id: p.pdu.event_id, room_id: p.roomId, counts: { unread }, devices: [device], prio };
  if (data.format === "event_id_only") return { notification: base };
  const n: Record<string, unknown> = { ...base, type: p.pdu.type, sender: p.pdu.sender, content: p.pdu.content };
  if (p.senderDisplayName) n.sender_display_name = p.senderDisplayName;
  if (p.roomName) n.room_name = p.roomName;
  if (p.roomAlias) n.room_alias = p.roomAlias;
  if (p.pdu.type === "m.room.member") n.user_is_target = p.pdu.state_key === userId;
  return { notification: n };
}
