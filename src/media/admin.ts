// Operators' actions on media, in the shapes Synapse's admin API returns (docs/admin_api/media_admin_api.md
// and user_admin_api.md in Synapse), so that synadm and existing scripts work.
import type { Storage } from "../storage/database.js";
import { mediaRepo, type MediaRepo, type MediaRow } from "../storage/media.js";
import { invalidParam, notFound } from "../http/errors.js";
import { isValidServerName } from "../matrix/identifiers.js";
import type { MediaStore } from "./store.js";
import type { Quarantine } from "./gate.js";
import { originalKey, quarantineKey, thumbnailPrefix } from "./keys.js";
import { isValidMediaId } from "./policy.js";

export interface AdminMediaEntry {
  media_id: string;
  media_type: string | null;
  media_length: number | null;
  upload_name: string | null;
  created_ts: number;
  last_access_ts: number | null;
  quarantined_by: string | null;
  safe_from_quarantine: boolean;
  /** Rempart: the antivirus gate's state and verdict. */
  scan_status: string;
  scan_result: string | null;
  quarantine_reason: string | null;
}

const entry = (r: MediaRow): AdminMediaEntry => ({
  media_id: r.media_id,
  media_type: r.content_type,
  media_length: r.size,
  upload_name: r.upload_name,
  created_ts: r.created_ts,
  last_access_ts: r.last_access_ts,
  quarantined_by: r.quarantined_by,
  safe_from_quarantine: false,
  scan_status: r.status,
  scan_result: r.scan_result,
  quarantine_reason: r.quarantine_reason,
});

export class MediaAdmin {
  private readonly repo: MediaRepo;

  constructor(
    storage: Storage,
    private readonly store: MediaStore,
    private readonly quarantine: Quarantine,
    private readonly serverName: string,
  ) {
    this.repo = mediaRepo(storage.db);
  }

  private async local(serverName: string, mediaId: string): Promise<MediaRow> {
    if (!isValidServerName(serverName) || !isValidMediaId(mediaId)) throw invalidParam("Invalid media ID");
    if (serverName !== this.serverName) throw notFound("Only local media can be managed here");
    const row = await this.repo.get(mediaId);
    if (row === undefined) throw notFound("Media not found");
    return row;
  }

  async info(serverName: string, mediaId: string): Promise<{ media_info: AdminMediaEntry & { user_id: string; sha256: string | null } }> {
    const row = await this.local(serverName, mediaId);
    return { media_info: { ...entry(row), user_id: row.user_id, sha256: row.sha256 } };
  }

  async quarantineMedia(serverName: string, mediaId: string, by: string): Promise<void> {
    await this.local(serverName, mediaId);
    await this.quarantine.quarantine(mediaId, by, "quarantined by an admin");
  }

  async quarantineUser(userId: string, by: string): Promise<number> {
    let n = 0;
    for (const id of await this.repo.idsByUser(userId)) {
      if (await this.quarantine.quarantine(id, by, "all media of the user quarantined by an admin")) n++;
    }
    return n;
  }

  async list(userId: string, from: number, limit: number): Promise<{ media: AdminMediaEntry[]; total: number; total_bytes: number; next_token?: number }> {
    const rows = await this.repo.listByUser(userId, from, limit);
    const usage = await this.repo.usage(userId);
    const out: { media: AdminMediaEntry[]; total: number; total_bytes: number; next_token?: number } = {
      media: rows.map(entry),
      total: usage.count,
      total_bytes: usage.bytes,
    };
    if (from + rows.length < usage.count) out.next_token = from + rows.length;
    return out;
  }

  /** Row first (nothing is served once it is gone), then the bytes wherever they are. */
  private async remove(mediaId: string): Promise<boolean> {
    const deleted = await this.repo.delete(mediaId);
    await this.store.delete(originalKey(mediaId));
    await this.store.delete(quarantineKey(mediaId));
    await this.store.delete(thumbnailPrefix(mediaId));
    return deleted;
  }

  async deleteMedia(serverName: string, mediaId: string): Promise<{ deleted_media: string[]; total: number }> {
    await this.local(serverName, mediaId);
    await this.remove(mediaId);
    return { deleted_media: [mediaId], total: 1 };
  }

  async deleteUserMedia(userId: string): Promise<{ deleted_media: string[]; total: number }> {
    const deleted: string[] = [];
    for (const id of await this.repo.idsByUser(userId)) if (await this.remove(id)) deleted.push(id);
    return { deleted_media: deleted, total: deleted.length };
  }
}
