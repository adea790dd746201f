// One-time and fallback keys (client-server API "One-time and fallback keys"): uploaded by a
// device, claimed by others to start an Olm session. A claim takes a one-time key for good; when
// none is left the device's fallback key is served (and marked used) instead.
import type { Storage, Db } from "../storage/database.js";
import { e2eKeysRepo } from "../storage/e2ee-keys.js";
import { e2eStreamsRepo } from "../storage/e2ee-streams.js";
import { invalidParam } from "../http/errors.js";
import { parseUserId } from "../matrix/identifiers.js";
import { checkOneTimeKey, type Json } from "./key-objects.js";
import { ReadBatch } from "../storage/read-batch.js";

/** A device holds at most this many unclaimed one-time keys (clients keep ~50). */
export const MAX_ONE_TIME_KEYS_PER_DEVICE = 1000;

export interface KeyCounts {
  oneTimeKeyCounts: Record<string, number>;
  unusedFallbackKeyTypes: string[];
}

/** Users whose devices' counts are kept in memory (a device's entry is ~200 bytes). */
const MAX_CACHED_USERS = 50_000;

export class OneTimeKeys {
  private readonly repo;
  private readonly batch = new ReadBatch<{ userId: string; deviceId: string }, KeyCounts>((_group, devices) => this.countsOf(devices));
  /**
   * Each device's counts as last read, sent in every /sync (1,000 woken long-polls each asked the
   * database again for counts that change only when keys are uploaded, claimed or deleted). A
   * cache of the database, kept right by the key writes of this process: each runs inside
   * `writing()`, which drops the user's entries when it starts and again when it has committed,
   * and no read overlapping a write of that user is kept (`epoch`, `inFlight`). Every key write
   * goes through this class's callers (upload, claim, device deletion, dehydrated devices,
   * deactivation); a second process writing keys to the same database would need a notice to
   * drop entries, as the other sync caches would (docs/sync-and-push.md, "Serving HTTP on more
   * than one core").
   */
  private readonly cached = new Map<string, Map<string, KeyCounts>>();
  /** Per user: bumped when a key write starts and when it ends. */
  private readonly epoch = new Map<string, number>();
  /** Loads under way (their epochs are compared when they end). */
  private loading = 0;
  /** Per user: key writes under way. */
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly storage: Storage,
    private readonly serverName: string,
  ) {
    this.repo = e2eKeysRepo(storage.db);
  }

  /** Stores uploaded one-time keys (re-uploading the same key is a no-op; a different one under
   * a used id is refused) and fallback keys (one per algorithm, replacing the previous one). The
   * caller's transaction runs inside `writing()` for the user. */
  async store(tx: Db, userId: string, deviceId: string, ed25519: string | undefined, oneTimeKeys: Json | undefined, fallbackKeys: Json | undefined): Promise<void> {
    const repo = e2eKeysRepo(tx);
    if (oneTimeKeys) {
      const byAlg = new Map<string, Array<{ keyId: string; json: string }>>();
      for (const [id, v] of Object.entries(oneTimeKeys)) {
        const k = checkOneTimeKey(id, v, userId, deviceId, ed25519, "one_time_keys");
        const list = byAlg.get(k.algorithm) ?? [];
        list.push({ keyId: k.keyId, json: k.json });
        byAlg.set(k.algorithm, list);
      }
      const counts = new Map((await repo.countOneTimeKeys(userId, deviceId)).map((c) => [c.algorithm, Number(c.n)]));
      for (const [algorithm, keys] of byAlg) {
        const existing = new Map((await repo.oneTimeKeys(userId, deviceId, algorithm, keys.map((k) => k.keyId))).map((r) => [r.key_id, r.key_json]));
        const fresh = keys.filter((k) => {
          const old = existing.get(k.keyId);
          if (old !== undefined && old !== k.json) throw invalidParam(`One-time key ${algorithm}:${k.keyId} already exists with another value`);
          return old === undefined;
        });
        if ((counts.get(algorithm) ?? 0) + fresh.length > MAX_ONE_TIME_KEYS_PER_DEVICE) {
          throw invalidParam(`A device may hold at most ${MAX_ONE_TIME_KEYS_PER_DEVICE} one-time keys`);
        }
        for (let i = 0; i < fresh.length; i += 200) {
          await repo.insertOneTimeKeys(fresh.slice(i, i + 200).map((k) => ({ user_id: userId, device_id: deviceId, algorithm, key_id: k.keyId, key_json: k.json })));
        }
      }
    }
    if (fallbackKeys) {
      const seen = new Set<string>();
      for (const [id, v] of Object.entries(fallbackKeys)) {
        const k = checkOneTimeKey(id, v, userId, deviceId, ed25519, "fallback_keys");
        if (seen.has(k.algorithm)) throw invalidParam(`fallback_keys: one key per algorithm`);
        seen.add(k.algorithm);
        const old = await repo.fallbackKey(userId, deviceId, k.algorithm);
        const same = old !== undefined && old.key_id === k.keyId && old.key_json === k.json;
        await repo.putFallbackKey({ user_id: userId, device_id: deviceId, algorithm: k.algorithm, key_id: k.keyId, key_json: k.json, used: same ? old.used : 0 });
      }
    }
  }

  /**
   * A device's one-time-key counts and unused fallback key types (every /sync and /keys/upload
   * reports them). Devices asking at about the same time (1,000 long-polls woken together) are
   * answered by one query for all of them (storage/read-batch.ts), each with its own counts.
   */
  counts(userId: string, deviceId: string): Promise<KeyCounts> {
    const hit = this.cached.get(userId)?.get(deviceId);
    if (hit) return Promise.resolve(copyCounts(hit));
    return this.load(userId, deviceId);
  }

  /** The counts when memory has them (no promise to wait for), else undefined: then `counts()`. */
  cachedCounts(userId: string, deviceId: string): KeyCounts | undefined {
    const hit = this.cached.get(userId)?.get(deviceId);
    return hit && copyCounts(hit);
  }

  private async load(userId: string, deviceId: string): Promise<KeyCounts> {
    const epoch = this.epoch.get(userId) ?? 0;
    this.loading++;
    try {
      const c = await this.batch.get("", { userId, deviceId });
      // Kept only when no key write of the user started, ran or ended meanwhile: the read then saw
      // every committed write and nothing uncommitted.
      if ((this.epoch.get(userId) ?? 0) === epoch && !this.inFlight.has(userId)) {
        let devices = this.cached.get(userId);
        if (!devices) {
          if (this.cached.size >= MAX_CACHED_USERS) this.cached.delete(this.cached.keys().next().value!);
          this.cached.set(userId, (devices = new Map()));
        }
        devices.set(deviceId, copyCounts(c));
      }
      return c;
    } finally {
      // Epochs only matter to loads under way: with none left they all go (the map stays small).
      if (--this.loading === 0) this.epoch.clear();
    }
  }

  /**
   * Runs `work`, a transaction that writes keys of these users (uploads, claims, deletions), and
   * keeps the cached counts right: call it around the whole transaction, commit included.
   */
  async writing<T>(userIds: Iterable<string>, work: () => Promise<T>): Promise<T> {
    const users = [...new Set(userIds)];
    for (const u of users) {
      this.inFlight.set(u, (this.inFlight.get(u) ?? 0) + 1);
      this.forget(u);
    }
    try {
      return await work();
    } finally {
      for (const u of users) {
        const n = this.inFlight.get(u)! - 1;
        if (n === 0) this.inFlight.delete(u);
        else this.inFlight.set(u, n);
        this.forget(u);
      }
    }
  }

  private forget(userId: string): void {
    if (this.loading > 0) this.epoch.set(userId, (this.epoch.get(userId) ?? 0) + 1);
    this.cached.delete(userId);
  }

  private async countsOf(devices: Array<{ userId: string; deviceId: string }>): Promise<KeyCounts[]> {
    const users = [...new Set(devices.map((d) => d.userId))];
    const key = (u: string, d: string) => `${u}\u0000${d}`;
    const out = new Map<string, KeyCounts>();
    for (const d of devices) {
      // signed_curve25519 is always reported, 0 included: it is how clients learn to top up.
      out.set(key(d.userId, d.deviceId), { oneTimeKeyCounts: { signed_curve25519: 0 }, unusedFallbackKeyTypes: [] });
    }
    for (const r of await this.repo.keyCountsOf(users)) {
      const c = out.get(key(r.user_id, r.device_id));
      if (!c) continue;
      const n = Number(r.n);
      if (n < 0) c.unusedFallbackKeyTypes.push(r.algorithm);
      else c.oneTimeKeyCounts[r.algorithm] = n;
    }
    // Each device gets its own copy (two requests of one device must not share an object).
    return devices.map((d) => {
      const c = out.get(key(d.userId, d.deviceId))!;
      return { oneTimeKeyCounts: { ...c.oneTimeKeyCounts }, unusedFallbackKeyTypes: [...c.unusedFallbackKeyTypes].sort() };
    });
  }

  /**
   * POST /keys/claim. Unknown users and devices, and devices without keys, are left out of the
   * result as the spec says; a malformed user id is a 400.
   */
  async claim(request: Record<string, Record<string, string>>): Promise<{ one_time_keys: Record<string, Record<string, Json>>; failures: Json }> {
    const out: Record<string, Record<string, Json>> = {};
    const failures: Json = {};
    const local: Array<[string, Record<string, string>]> = [];
    for (const [userId, devices] of Object.entries(request)) {
      const parsed = parseUserId(userId);
      if (!parsed) throw invalidParam(`Invalid user id: ${userId.slice(0, 100)}`);
      if (parsed.serverName !== this.serverName) failures[parsed.serverName] = { errcode: "M_UNAVAILABLE", error: "This server does not federate" };
      else local.push([userId, devices]);
    }
    // One transaction for the whole claim: one commit instead of one per device.
    await this.writing(local.map(([u]) => u), () => this.storage.db.transaction().execute(async (tx) => {
      const repo = e2eKeysRepo(tx);
      // Only devices that exist: keys left behind by a device removed some other way are not served.
      const existing = new Set<string>();
      const users = local.map(([u]) => u);
      for (let i = 0; i < users.length; i += 500) {
        for (const d of await e2eStreamsRepo(tx).devicesOf(users.slice(i, i + 500))) existing.add(`${d.user_id}\u0000${d.device_id}`);
      }
      const wanted: Array<{ user_id: string; device_id: string; algorithm: string }> = [];
      for (const [userId, devices] of local) {
        for (const [deviceId, algorithm] of Object.entries(devices)) {
          if (existing.has(`${userId}\u0000${deviceId}`)) wanted.push({ user_id: userId, device_id: deviceId, algorithm });
        }
      }
      // Batched, in chunks that bound the SQL. SQLite (one writer at a time): one query finds a key
      // per device, one deletes them all. PostgreSQL: one statement that skips keys other claims
      // are taking, so concurrent claims neither wait nor collide.
      const taken = new Map<string, Json>();
      const k = (x: { user_id: string; device_id: string; algorithm: string }) => `${x.user_id}\u0000${x.device_id}\u0000${x.algorithm}`;
      for (let i = 0; i < wanted.length; i += 100) {
        const chunk = wanted.slice(i, i + 100);
        let rows;
        if (this.storage.dialect === "postgres") rows = await repo.takeFirstOneTimeKeysSkipLocked(chunk);
        else {
          const first = new Map((await repo.firstOneTimeKeys([...new Set(chunk.map((w) => w.user_id))])).map((r) => [k(r), r]));
          rows = await repo.takeOneTimeKeys(chunk.map((w) => first.get(k(w))).filter((r) => r !== undefined));
        }
        for (const r of rows) taken.set(k(r), { [`${r.algorithm}:${r.key_id}`]: JSON.parse(r.key_json) as unknown });
      }
      for (const w of wanted) {
        // Not taken in the batch (none left, or a concurrent claim won it): one by one, then fallback.
        const key = taken.get(k(w)) ?? (await this.claimOne(repo, w.user_id, w.device_id, w.algorithm));
        if (key) (out[w.user_id] ??= {})[w.device_id] = key;
      }
    }));
    return { one_time_keys: out, failures };
  }

  private async claimOne(repo: ReturnType<typeof e2eKeysRepo>, userId: string, deviceId: string, algorithm: string): Promise<Json | undefined> {
    const otk = this.storage.dialect === "postgres" ? await repo.claimOneTimeKeySkipLocked(userId, deviceId, algorithm) : await repo.claimOneTimeKey(userId, deviceId, algorithm);
    if (otk) return { [`${algorithm}:${otk.key_id}`]: JSON.parse(otk.key_json) as unknown };
    const fb = await repo.fallbackKey(userId, deviceId, algorithm);
    if (!fb) return undefined;
    if (!fb.used) await repo.markFallbackUsed(userId, deviceId, algorithm);
    return { [`${algorithm}:${fb.key_id}`]: JSON.parse(fb.key_json) as unknown };
  }
}

/** Each answer gets its own objects (two requests of one device must not share one). */
function copyCounts(c: KeyCounts): KeyCounts {
  return { oneTimeKeyCounts: { ...c.oneTimeKeyCounts }, unusedFallbackKeyTypes: [...c.unusedFallbackKeyTypes] };
}
