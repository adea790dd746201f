// Pushers (client-server API "POST /pushers/set", "GET /pushers"): where a user's notifications go.
// Only HTTP pushers are delivered (push-gateway-api); email pushers are refused rather than
// accepted and silently never sent.
import type { Storage } from "../storage/database.js";
import { pushersRepo, type PusherRow } from "../storage/pushers.js";
import { MatrixError, invalidParam, missingParam } from "../http/errors.js";

export interface PusherBody {
  pushkey: string;
  kind: string | null;
  app_id: string;
  app_display_name?: string;
  device_display_name?: string;
  profile_tag?: string;
  lang?: string;
  data?: Record<string, unknown>;
  append?: boolean;
}

const NOTIFY_PATH = "/_matrix/push/v1/notify";
const CACHE_USERS = 20_000;
const MAX_PUSHERS_PER_USER = 50;

export class Pushers {
  private readonly repo;
  private cache = new Map<string, PusherRow[]>();
  private owners: Promise<Set<string>> | undefined;

  constructor(
    storage: Storage,
    private readonly allowHttp: boolean,
    private readonly now: () => number,
  ) {
    this.repo = pushersRepo(storage.db);
  }

  async list(userId: string): Promise<Array<Record<string, unknown>>> {
    return (await this.forUser(userId)).map((p) => {
      const out: Record<string, unknown> = {
        pushkey: p.pushkey,
        kind: p.kind,
        app_id: p.app_id,
        app_display_name: p.app_display_name,
        device_display_name: p.device_display_name,
        lang: p.lang,
        data: JSON.parse(p.data) as Record<string, unknown>,
      };
      if (p.profile_tag !== null) out.profile_tag = p.profile_tag;
      return out;
    });
  }

  /**
   * Those of `userIds` who have a pusher. The sender asks it for every member an event notifies
   * (a room of 1,000: 1,000 per message), most of whom have none: one set of owners, loaded once
   * and dropped whenever a pusher is added or removed, answers without a lookup per member.
   */
  async withPushers(userIds: string[]): Promise<string[]> {
    const load = (this.owners ??= this.repo.owners().then((ids) => new Set(ids)));
    // A failed read is not kept: the next event asks again.
    const owners = await load.catch((e: unknown) => {
      if (this.owners === load) this.owners = undefined;
      throw e;
    });
    return owners.size === 0 ? [] : userIds.filter((u) => owners.has(u));
  }

  /** Cached per user: the sender looks pushers up for every notified user. */
  async forUser(userId: string): Promise<PusherRow[]> {
    let rows = this.cache.get(userId);
    if (!rows) {
      rows = await this.repo.forUser(userId);
      this.cache.set(userId, rows);
      if (this.cache.size > CACHE_USERS) this.cache.delete(this.cache.keys().next().value!);
    }
    return rows;
  }

  /** `deviceId`: the device whose session sets it; the pusher goes when that device does. */
  async set(userId: string, deviceId: string, body: PusherBody): Promise<void> {
    if (Buffer.byteLength(body.pushkey, "utf8") > 512) throw invalidParam("pushkey is longer than 512 bytes");
    if (body.app_id.length > 64) throw invalidParam("app_id is longer than 64 characters");
    if (body.kind === null) {
      await this.repo.remove(userId, body.app_id, body.pushkey);
      this.changed(); // removal may concern another user's cached list too (append)
      return;
    }
    if (body.kind !== "http") throw invalidParam(`Unsupported pusher kind: ${body.kind}`);
    for (const f of ["app_display_name", "device_display_name", "lang", "data"] as const) if (body[f] === undefined) throw missingParam(`Missing ${f}`);
    if (body.profile_tag !== undefined && body.profile_tag.length > 32) throw invalidParam("profile_tag is longer than 32 characters");
    const data = body.data!;
    this.checkUrl(data.url);
    if (data.format !== undefined && data.format !== "event_id_only") throw invalidParam("data.format must be event_id_only when given");
    const existing = await this.repo.forUser(userId);
    if (existing.length >= MAX_PUSHERS_PER_USER && !existing.some((p) => p.app_id === body.app_id && p.pushkey === body.pushkey)) {
      throw new MatrixError(400, "M_LIMIT_EXCEEDED", "Too many pushers");
    }
    await this.repo.set(
      {
        user_id: userId,
        kind: "http",
        app_id: body.app_id,
        pushkey: body.pushkey,
        app_display_name: body.app_display_name!,
        device_display_name: body.device_display_name!,
        profile_tag: body.profile_tag ?? null,
        lang: body.lang!,
        data: JSON.stringify(data),
        created_ts: this.now(),
        device_id: deviceId,
      },
      body.append === true,
    );
    this.changed();
  }

  /** A gateway said this pushkey is rejected: the pusher goes (push-gateway-api "rejected"). */
  async reject(userId: string, appId: string, pushkey: string): Promise<void> {
    await this.repo.remove(userId, appId, pushkey);
    this.changed(userId);
  }

  /** Devices logged out or deleted: the pushers their sessions set stop at once. */
  async removeForDevices(userId: string, deviceIds: string[]): Promise<void> {
    await this.repo.removeForDevices(userId, deviceIds);
    this.changed(userId);
  }

  /** Account deactivation and the like. */
  async removeAll(userId: string): Promise<void> {
    await this.repo.removeAllOf(userId);
    this.changed(userId);
  }

  /** A pusher was added or removed: `userId`'s cached list (every user's when not given) and the owners are read again. */
  private changed(userId?: string): void {
    if (userId === undefined) this.cache.clear();
    else this.cache.delete(userId);
    this.owners = undefined;
  }

  private checkUrl(raw: unknown): void {
    if (typeof raw !== "string") throw missingParam("data.url is required for http pushers");
    let u: URL;
    try {
      u = new URL(raw);
    } catch {
      throw invalidParam("data.url is not a valid URL");
    }
    if (u.protocol !== "https:" && !(this.allowHttp && u.protocol === "http:")) throw invalidParam("data.url must be an https URL");
    if (u.pathname !== NOTIFY_PATH) throw invalidParam(`data.url must be a full URL ending in ${NOTIFY_PATH}`);
    if (u.username || u.password) throw invalidParam("data.url must not hold credentials");
  }
}
