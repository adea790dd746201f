// Server-side key backups (client-server API "Server-side key backups"). The server stores
// session keys encrypted with the backup's public key: it can neither read nor check them, only
// keep the best copy of each session by the spec's rules.
import type { Storage } from "../storage/database.js";
import { e2eKeyBackupRepo, type RoomKeyRow } from "../storage/e2ee-key-backup.js";
import { MatrixError, notFound, invalidParam } from "../http/errors.js";
import { canonical, type Json } from "./key-objects.js";

export interface KeyBackupData {
  first_message_index: number;
  forwarded_count: number;
  is_verified: boolean;
  session_data: Json;
}

export type RoomsKeys = Record<string, { sessions: Record<string, KeyBackupData> }>;

const wrongVersion = (current: number) => new MatrixError(403, "M_WRONG_ROOM_KEYS_VERSION", "Wrong backup version", { current_version: String(current) });

/** Versions are decimal strings of positive integers; anything else names no version. */
function parseVersion(v: string | undefined): number | undefined {
  if (v === undefined || !/^[1-9]\d{0,14}$/.test(v)) return undefined;
  return Number(v);
}

/** The spec's rule: verified beats unverified, then the lower first_message_index, then the lower
 * forwarded_count. True if `fresh` should replace `old`. */
export function replaces(fresh: KeyBackupData, old: RoomKeyRow): boolean {
  const oldVerified = old.is_verified === 1;
  if (fresh.is_verified !== oldVerified) return fresh.is_verified;
  if (fresh.first_message_index !== Number(old.first_message_index)) return fresh.first_message_index < Number(old.first_message_index);
  return fresh.forwarded_count < Number(old.forwarded_count);
}

export class KeyBackup {
  private readonly repo;

  constructor(private readonly storage: Storage) {
    this.repo = e2eKeyBackupRepo(storage.db);
  }

  async createVersion(userId: string, algorithm: string, authData: Json): Promise<{ version: string }> {
    const json = canonical(authData, "auth_data");
    return this.storage.db.transaction().execute(async (tx) => {
      const repo = e2eKeyBackupRepo(tx);
      const version = (await repo.maxVersion(userId)) + 1;
      await repo.insertVersion(userId, version, algorithm, json);
      return { version: String(version) };
    });
  }

  /** GET /room_keys/version[/{version}]: without a version, the latest one. */
  async getVersion(userId: string, version?: string): Promise<Json> {
    const row = version === undefined ? await this.repo.latestVersion(userId) : await this.versionRow(userId, version);
    if (!row) throw notFound("No current backup version");
    return {
      algorithm: row.algorithm,
      auth_data: JSON.parse(row.auth_data) as Json,
      count: await this.repo.count(userId, Number(row.version)),
      etag: String(row.etag),
      version: String(row.version),
    };
  }

  private async versionRow(userId: string, version: string) {
    const n = parseVersion(version);
    return n === undefined ? undefined : this.repo.version(userId, n);
  }

  /** PUT /room_keys/version/{version}: only auth_data may change. */
  async updateVersion(userId: string, version: string, body: { algorithm: string; auth_data: Json; version?: string }): Promise<void> {
    const row = await this.versionRow(userId, version);
    if (!row) throw notFound("Unknown backup version");
    if (body.version !== undefined && body.version !== version) throw invalidParam("version in the body does not match the path");
    if (body.algorithm !== row.algorithm) throw invalidParam("algorithm cannot be changed");
    await this.repo.updateAuthData(userId, Number(row.version), canonical(body.auth_data, "auth_data"));
  }

  /** Deleting a version that was already deleted succeeds (the spec's DELETE /room_keys/version/{version}). */
  async deleteVersion(userId: string, version: string): Promise<void> {
    const n = parseVersion(version);
    if (n !== undefined && (await this.repo.versionEvenDeleted(userId, n))?.deleted === 1) return;
    const row = await this.versionRow(userId, version);
    if (!row) throw notFound("Unknown backup version");
    await this.storage.db.transaction().execute((tx) => e2eKeyBackupRepo(tx).deleteVersion(userId, Number(row.version)));
  }

  /** Writes go only to the latest version (M_WRONG_ROOM_KEYS_VERSION otherwise, with the current one). */
  private async writableVersion(userId: string, version: string | undefined): Promise<number> {
    const latest = await this.repo.latestVersion(userId);
    // As Synapse: no backup at all is a 404; a backup other than the current one a 403.
    if (!latest) throw notFound("No current backup version");
    const n = parseVersion(version);
    if (n !== Number(latest.version)) throw wrongVersion(Number(latest.version));
    return n;
  }

  private async readableVersion(userId: string, version: string | undefined): Promise<number> {
    const row = version === undefined ? undefined : await this.versionRow(userId, version);
    if (!row) throw notFound("Unknown backup version");
    return Number(row.version);
  }

  /** PUT /room_keys/keys[/{roomId}[/{sessionId}]]: keeps the better copy of each session. */
  async putKeys(userId: string, version: string | undefined, rooms: RoomsKeys): Promise<{ etag: string; count: number }> {
    const v = await this.writableVersion(userId, version);
    return this.storage.db.transaction().execute(async (tx) => {
      const repo = e2eKeyBackupRepo(tx);
      let changed = false;
      for (const [roomId, { sessions }] of Object.entries(rooms)) {
        const ids = Object.keys(sessions);
        const existing = new Map<string, RoomKeyRow>();
        for (let i = 0; i < ids.length; i += 500) for (const r of await repo.sessionsIn(userId, v, roomId, ids.slice(i, i + 500))) existing.set(r.session_id, r);
        for (const [sessionId, data] of Object.entries(sessions)) {
          const old = existing.get(sessionId);
          if (old && !replaces(data, old)) continue;
          await repo.putKey({
            user_id: userId,
            version: v,
            room_id: roomId,
            session_id: sessionId,
            first_message_index: data.first_message_index,
            forwarded_count: data.forwarded_count,
            is_verified: data.is_verified ? 1 : 0,
            session_data: canonical(data.session_data, "session_data"),
          });
          changed = true;
        }
      }
      if (changed) await repo.bumpEtag(userId, v);
      const row = await repo.version(userId, v);
      return { etag: String(row!.etag), count: await repo.count(userId, v) };
    });
  }

  async getKeys(userId: string, version: string | undefined, roomId?: string, sessionId?: string): Promise<Json> {
    const v = await this.readableVersion(userId, version);
    const rows = await this.repo.keys(userId, v, roomId, sessionId);
    const asData = (r: RoomKeyRow): KeyBackupData => ({
      first_message_index: Number(r.first_message_index),
      forwarded_count: Number(r.forwarded_count),
      is_verified: r.is_verified === 1,
      session_data: JSON.parse(r.session_data) as Json,
    });
    if (sessionId !== undefined) {
      if (!rows[0]) throw notFound("No key for this session");
      return asData(rows[0]) as unknown as Json;
    }
    if (roomId !== undefined) return { sessions: Object.fromEntries(rows.map((r) => [r.session_id, asData(r)])) };
    const rooms: RoomsKeys = {};
    for (const r of rows) (rooms[r.room_id] ??= { sessions: {} }).sessions[r.session_id] = asData(r);
    return { rooms };
  }

  async deleteKeys(userId: string, version: string | undefined, roomId?: string, sessionId?: string): Promise<{ etag: string; count: number }> {
    const v = await this.readableVersion(userId, version);
    return this.storage.db.transaction().execute(async (tx) => {
      const repo = e2eKeyBackupRepo(tx);
      if ((await repo.deleteKeys(userId, v, roomId, sessionId)) > 0) await repo.bumpEtag(userId, v);
      const row = await repo.version(userId, v);
      return { etag: String(row!.etag), count: await repo.count(userId, v) };
    });
  }
}


