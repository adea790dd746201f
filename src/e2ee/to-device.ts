// Send-to-device messaging (client-server API "Send-to-Device messaging"). Messages wait in the
// recipient device's inbox until that device acknowledges them by syncing with a later token
// (or, for a dehydrated device, by the next_batch of its events endpoint).
import type { Storage } from "../storage/database.js";
import { e2eStreamsRepo } from "../storage/e2ee-streams.js";
import type { Notifier } from "../rooms/notifier.js";
import type { SyncExtension, SyncResponse, SyncUser } from "../sync/sync.js";
import { formatToken, parseToken } from "../sync/token.js";
import { invalidParam, tooLarge } from "../http/errors.js";
import { parseUserId } from "../matrix/identifiers.js";
import { E2eStream } from "./streams.js";
import type { OneTimeKeys } from "./one-time-keys.js";

/** The spec caps a whole event at 64 KiB; one to-device message gets the same ceiling. */
export const MAX_TO_DEVICE_MESSAGE_BYTES = 65536;
/** At most this many messages per sync response; the rest come with the next one. */
const SYNC_LIMIT = 100;
const MAX_RECIPIENT_DEVICES = 10_000;
const ACKED_MAX = 100_000;

type Json = Record<string, unknown>;

export class ToDevice implements SyncExtension {
  readonly stream = "to_device" as const;
  private readonly repo;
  private otk?: OneTimeKeys;
  /** Per device: the position it last acknowledged and the highest one delivered to it since. */
  private readonly devices = new Map<string, { acked: number; delivered: number }>();

  private constructor(
    private readonly storage: Storage,
    private readonly serverName: string,
    private readonly notifier: Notifier,
    private readonly positions: E2eStream,
    private readonly now: () => number,
  ) {
    this.repo = e2eStreamsRepo(storage.db);
  }

  static async open(storage: Storage, serverName: string, notifier: Notifier, now: () => number): Promise<ToDevice> {
    const s = await E2eStream.open(storage.db, "to_device", await e2eStreamsRepo(storage.db).maxToDeviceId());
    return new ToDevice(storage, serverName, notifier, s, now);
  }

  /** One-time key counts ride along with to-device messages in every sync response. */
  setOneTimeKeys(otk: OneTimeKeys): void {
    this.otk = otk;
  }

  current(): number {
    return this.positions.current();
  }

  /**
   * PUT /sendToDevice/{eventType}/{txnId}: idempotent per (device, txnId). Every message is checked
   * before anything is stored; unknown users and devices are skipped, as the spec allows.
   */
  async send(sender: { userId: string; deviceId: string }, type: string, txnId: string, messages: Record<string, Record<string, Json>>): Promise<void> {
    if (await this.repo.getTxn(sender.userId, sender.deviceId, txnId)) return;
    const targets: Array<{ userId: string; deviceIds: string[] | "*"; json: string }> = [];
    let total = 0;
    for (const [userId, byDevice] of Object.entries(messages)) {
      const parsed = parseUserId(userId);
      if (!parsed) throw invalidParam(`Invalid user id in messages: ${userId.slice(0, 100)}`);
      for (const [deviceId, content] of Object.entries(byDevice)) {
        const json = JSON.stringify({ type, sender: sender.userId, content });
        if (Buffer.byteLength(json) > MAX_TO_DEVICE_MESSAGE_BYTES) throw tooLarge(`A to-device message is larger than ${MAX_TO_DEVICE_MESSAGE_BYTES} bytes`);
        // No federation yet: messages for other servers have nowhere to go.
        if (parsed.serverName !== this.serverName) continue;
        targets.push({ userId, deviceIds: deviceId === "*" ? "*" : [deviceId], json });
        total++;
      }
    }
    if (total > MAX_RECIPIENT_DEVICES) throw tooLarge(`At most ${MAX_RECIPIENT_DEVICES} recipients per request`);
    const recipients = new Set<string>();
    await this.positions.write(this.storage.db, async (tx, position) => {
      const repo = e2eStreamsRepo(tx);
      const rows = new Map<string, { user_id: string; device_id: string; stream_id: number; message_json: string }>();
      const known = new Map<string, Set<string>>();
      for (const u of [...new Set(targets.map((t) => t.userId))]) known.set(u, new Set());
      const users = [...known.keys()];
      for (let i = 0; i < users.length; i += 500) {
        for (const d of await e2eStreamsRepo(tx).devicesOf(users.slice(i, i + 500))) known.get(d.user_id)!.add(d.device_id);
      }
      for (const t of targets) {
        const mine = known.get(t.userId)!;
        const ids = t.deviceIds === "*" ? [...mine] : t.deviceIds.filter((d) => mine.has(d));
        // A device named explicitly wins over "*" for the same user.
        for (const d of ids) {
          const k = `${t.userId}\u0000${d}`;
          if (t.deviceIds === "*" && rows.has(k)) continue;
          rows.set(k, { user_id: t.userId, device_id: d, stream_id: position, message_json: t.json });
          recipients.add(t.userId);
        }
      }
      await repo.insertMessages([...rows.values()]);
      await repo.insertTxn(sender.userId, sender.deviceId, txnId, this.now());
    });
    if (recipients.size) this.notifier.publishToUsers("to_device", [...recipients]);
  }

  /** Messages for a device after `after`, and the position to acknowledge them with. */
  async pending(userId: string, deviceId: string, after: number, limit = SYNC_LIMIT): Promise<{ events: Json[]; last: number; more: boolean }> {
    const upTo = this.current();
    const rows = await this.repo.messages(userId, deviceId, after, upTo, limit);
    const events = rows.map((r) => JSON.parse(r.message_json) as Json);
    const last = rows.length ? Number(rows[rows.length - 1]!.stream_id) : after;
    return { events, last, more: rows.length === limit };
  }

  acknowledge(userId: string, deviceId: string, upTo: number): Promise<unknown> {
    return this.repo.deleteMessagesUpTo(userId, deviceId, upTo);
  }

  private note(device: string, v: { acked: number; delivered: number }): void {
    if (!this.devices.has(device) && this.devices.size >= ACKED_MAX) this.devices.delete(this.devices.keys().next().value!);
    this.devices.set(device, v);
  }

  deleteInboxes(userId: string, deviceIds?: string[]): Promise<void> {
    return this.repo.deleteInboxes(userId, deviceIds);
  }

  async fill(user: SyncUser, since: number | undefined, upTo: number, response: SyncResponse): Promise<boolean> {
    if (this.otk) {
      // From memory once read (e2ee/one-time-keys.ts): no promise to wait for on a woken poll.
      const counts = this.otk.cachedCounts(user.userId, user.deviceId) ?? (await this.otk.counts(user.userId, user.deviceId));
      response.device_one_time_keys_count = counts.oneTimeKeyCounts;
      response.device_unused_fallback_key_types = counts.unusedFallbackKeyTypes;
    }
    // The client has what it got up to `since`: those messages may go now. Skipped when nothing
    // can be left to delete: everything up to `since` committed before the token was issued, and
    // a device this process acknowledged and has delivered nothing to since holds no delivered
    // message (saves a write per idle sync).
    const device = `${user.userId}|${user.deviceId}`;
    const seen = this.devices.get(device);
    if (since !== undefined && since > 0 && (!seen || (since > seen.acked && seen.delivered > seen.acked))) {
      await this.acknowledge(user.userId, user.deviceId, since);
      this.note(device, { acked: since, delivered: seen?.delivered ?? 0 });
    }
    // No position after the token: no message can be waiting (saves a query per idle sync).
    if (since !== undefined && since >= upTo) return false;
    const rows = await this.repo.messages(user.userId, user.deviceId, since ?? 0, upTo, SYNC_LIMIT);
    if (rows.length === 0) return false;
    const last = Number(rows[rows.length - 1]!.stream_id);
    const now = this.devices.get(device);
    // A device never acknowledged in this process stays unknown (its next sync acknowledges).
    if (now) now.delivered = Math.max(now.delivered, last);
    response.to_device = { events: rows.map((r) => JSON.parse(r.message_json) as Json) };
    if (rows.length === SYNC_LIMIT) {
      // More are waiting: acknowledge only what this response carries.
      const t = parseToken(response.next_batch);
      t.to_device = Number(rows[rows.length - 1]!.stream_id);
      response.next_batch = formatToken(t);
    }
    return true;
  }
}
