// The media repository (client-server API "Content repository"): uploads stream to the store, every
// file passes the antivirus gate before anyone may download it, thumbnails come from the clean
// original. Only this server's media exists here (no federation yet): other server names are 404.
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import type { Logger } from "pino";
import type { Storage } from "../storage/database.js";
import { mediaRepo, type MediaRepo, type MediaRow } from "../storage/media.js";
import { MatrixError, forbidden, invalidParam, limitExceeded, notFound, tooLarge } from "../http/errors.js";
import { isValidServerName } from "../matrix/identifiers.js";
import type { MediaStore } from "./store.js";
import { TooLargeError } from "./store.js";
import type { Scanner } from "./antivirus.js";
import { originalKey, thumbnailKey } from "./keys.js";
import { ImageTooLargeError, NotAnImageError, THUMBNAILABLE, Thumbnailer, chooseSize, type ThumbnailMethod, type ThumbnailSize } from "./thumbnails.js";
import { isValidMediaId, mimeAllowed, normaliseContentType, sanitiseFileName } from "./policy.js";
import { GATE_RETRY_MS, Quarantine, ScanGate, type GateDecision } from "./gate.js";

export interface MediaSettings {
  serverName: string;
  maxUploadBytes: number;
  allowedMimeTypes: string[];
  deniedMimeTypes: string[];
  maxImagePixels: number;
  thumbnailSizes: ThumbnailSize[];
  /** Legacy unauthenticated downloads serve media created before this time (ms); undefined: never. */
  legacyBeforeTs: number | undefined;
  failOpen: boolean;
}

export interface UploadMeta {
  contentType?: string;
  fileName?: string;
  /** The Content-Length the client announced, to refuse an oversized body before reading it. */
  contentLength?: number;
}

export interface MediaContent {
  stream: Readable;
  size: number;
  contentType: string;
  fileName: string | undefined;
}

/** POST /create reservations: the spec's recommended 24 hours, and a cap on pending ones per user. */
const UNUSED_EXPIRY_MS = 24 * 60 * 60 * 1000;
const MAX_PENDING_PER_USER = 50;
/** Longest wait for a reserved id to receive its content (timeout_ms, spec default 20 s). */
const MAX_WAIT_MS = 60_000;

export const notYetUploaded = () => new MatrixError(504, "M_NOT_YET_UPLOADED", "Content has not yet been uploaded");
export const scannerUnavailable = () =>
  new MatrixError(
    503,
    "M_UNKNOWN",
    "This file has not been checked by the antivirus scanner yet, and the scanner is unavailable; try again later",
    { retry_after_ms: GATE_RETRY_MS },
    { "retry-after": String(Math.ceil(GATE_RETRY_MS / 1000)) },
  );
export const infectedError = () => forbidden("This file was flagged by the antivirus scanner and has been quarantined");


export class MediaRepository {
  private readonly repo: MediaRepo;
  readonly gate: ScanGate;
  readonly quarantine: Quarantine;
  private readonly thumbnailer: Thumbnailer;
  /** Background work (thumbnails after a clean scan), awaited by idle() before shutdown. */
  private readonly background = new Set<Promise<void>>();

  constructor(
    storage: Storage,
    readonly store: MediaStore,
    scanner: Scanner | undefined,
    readonly settings: MediaSettings,
    private readonly now: () => number,
    private readonly log: Logger,
  ) {
    this.repo = mediaRepo(storage.db);
    this.quarantine = new Quarantine(this.repo, store, now);
    this.gate = new ScanGate(this.repo, store, scanner, this.quarantine, now, log);
    this.thumbnailer = new Thumbnailer(settings.maxImagePixels);
  }

  mxc(mediaId: string): string {
    return `mxc://${this.settings.serverName}/${mediaId}`;
  }

  /** POST /_matrix/media/v3/upload. */
  async upload(userId: string, body: Readable | undefined, meta: UploadMeta): Promise<string> {
    const contentType = this.checkUpload(meta);
    const mediaId = randomBytes(18).toString("base64url");
    const stored = await this.storeBody(mediaId, body);
    const ts = this.now();
    await this.repo.insert({
      media_id: mediaId,
      user_id: userId,
      content_type: contentType,
      upload_name: sanitiseFileName(meta.fileName) ?? null,
      size: stored.size,
      sha256: stored.sha256,
      created_ts: ts,
      uploaded_ts: ts,
      unused_expires_ts: null,
      status: "unscanned",
    });
    await this.afterUpload(mediaId);
    return this.mxc(mediaId);
  }

  /** POST /_matrix/media/v1/create: reserves an id for a later PUT. */
  async create(userId: string): Promise<{ content_uri: string; unused_expires_at: number }> {
    const ts = this.now();
    await this.repo.deleteExpiredReservations(userId, ts);
    if ((await this.repo.countPending(userId, ts)) >= MAX_PENDING_PER_USER) {
      throw limitExceeded(60_000, "Too many pending media uploads");
    }
    const mediaId = randomBytes(18).toString("base64url");
    const expires = ts + UNUSED_EXPIRY_MS;
    await this.repo.insert({ media_id: mediaId, user_id: userId, created_ts: ts, unused_expires_ts: expires, status: "awaiting_upload" });
    return { content_uri: this.mxc(mediaId), unused_expires_at: expires };
  }

  /** PUT /_matrix/media/v3/upload/{serverName}/{mediaId}: content for a reserved id, once, by its creator. */
  async uploadTo(userId: string, serverName: string, mediaId: string, body: Readable | undefined, meta: UploadMeta): Promise<void> {
    this.checkIds(serverName, mediaId);
    const row = await this.repo.get(mediaId);
    if (row === undefined) throw notFound("Unknown media ID");
    if (row.user_id !== userId) throw forbidden("This media ID was created by another user");
    if (row.status !== "awaiting_upload" && row.status !== "uploading") {
      throw new MatrixError(409, "M_CANNOT_OVERWRITE_MEDIA", "Media already uploaded");
    }
    if ((row.unused_expires_ts ?? 0) <= this.now()) throw notFound("This media ID has expired");
    const contentType = this.checkUpload(meta);
    if (!(await this.repo.claimForUpload(mediaId, userId, this.now()))) {
      throw new MatrixError(409, "M_CANNOT_OVERWRITE_MEDIA", "Media already uploaded");
    }
    let stored;
    try {
      stored = await this.storeBody(mediaId, body);
    } catch (e) {
      await this.repo.releaseClaim(mediaId);
      throw e;
    }
    await this.repo.markUploaded(mediaId, {
      contentType,
      uploadName: sanitiseFileName(meta.fileName) ?? null,
      size: stored.size,
      sha256: stored.sha256,
      uploadedTs: this.now(),
      status: "unscanned",
    });
    await this.afterUpload(mediaId);
  }

  /** Type and announced size, checked before a byte of the body is read. */
  private checkUpload(meta: UploadMeta): string {
    const contentType = normaliseContentType(meta.contentType);
    if (!mimeAllowed(contentType, this.settings.allowedMimeTypes, this.settings.deniedMimeTypes)) {
      throw forbidden("The server does not permit this file type");
    }
    if (meta.contentLength !== undefined && meta.contentLength > this.settings.maxUploadBytes) throw this.tooLarge();
    return contentType;
  }

  private tooLarge(): MatrixError {
    return tooLarge(`Cannot upload files larger than ${this.settings.maxUploadBytes} bytes`);
  }

  private async storeBody(mediaId: string, body: Readable | undefined) {
    try {
      return await this.store.write(originalKey(mediaId), body ?? Readable.from([]), this.settings.maxUploadBytes);
    } catch (e) {
      if (e instanceof TooLargeError) throw this.tooLarge();
      throw e;
    }
  }

  /** Scans right away, so that the uploader learns at once that a file is infected (403). When the
   * scanner is down the upload still succeeds; the file stays unscanned and downloads are refused
   * (or allowed with fail_open) until a scan succeeds. */
  private async afterUpload(mediaId: string): Promise<void> {
    const decision = await this.gate.check(mediaId);
    if (decision === "infected") throw infectedError();
    if (decision === "clean") this.inBackground(() => this.precomputeThumbnails(mediaId));
  }

  private inBackground(task: () => Promise<void>): void {
    const p = task()
      .catch((e: unknown) => this.log.warn({ err: { message: (e as Error).message } }, "media background task failed"))
      .finally(() => this.background.delete(p));
    this.background.add(p);
  }

  /** Resolves when background work is done (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.background.size > 0) await Promise.all([...this.background]);
  }

  private checkIds(serverName: string, mediaId: string): void {
    if (!isValidServerName(serverName)) throw invalidParam("Invalid server name");
    if (!isValidMediaId(mediaId)) throw invalidParam("Invalid media ID");
    // No federation yet: only this server's media exists.
    if (serverName !== this.settings.serverName) throw notFound("Remote media is not available on this server");
  }

  /** The row, once it may be served: uploaded, not quarantined, and through the antivirus gate. */
  private async servable(serverName: string, mediaId: string, opts: { timeoutMs: number; legacy: boolean }): Promise<MediaRow> {
    this.checkIds(serverName, mediaId);
    let row = await this.repo.get(mediaId);
    if (row === undefined) throw notFound("Media not found");
    if (opts.legacy && (this.settings.legacyBeforeTs === undefined || row.created_ts >= this.settings.legacyBeforeTs)) {
      // Spec 1.11: the unauthenticated endpoints MAY answer 404 for media that is not "frozen".
      throw notFound("Media not found; use the authenticated /_matrix/client/v1/media endpoints");
    }
    const deadline = this.now() + Math.min(opts.timeoutMs, MAX_WAIT_MS);
    while (row.status === "awaiting_upload" || row.status === "uploading") {
      if (this.now() >= deadline) throw notYetUploaded();
      await new Promise((r) => setTimeout(r, Math.min(250, Math.max(1, deadline - this.now()))));
      row = await this.repo.get(mediaId);
      if (row === undefined) throw notFound("Media not found");
    }
    if (row.quarantined_by !== null && row.status !== "infected") throw notFound("Media not found");
    const decision: GateDecision = await this.gate.check(mediaId);
    if (decision === "infected") throw infectedError();
    if (decision === "unavailable" && !this.settings.failOpen) throw scannerUnavailable();
    if (decision === "quarantined") throw notFound("Media not found");
    return row;
  }

  /** GET …/download/{serverName}/{mediaId}[/{fileName}]. */
  async download(serverName: string, mediaId: string, opts: { timeoutMs: number; legacy: boolean; fileName?: string }): Promise<MediaContent> {
    const row = await this.servable(serverName, mediaId, opts);
    const obj = await this.store.read(originalKey(mediaId));
    if (obj === undefined) throw notFound("Media not found");
    void this.repo.touch(mediaId, this.now()).catch(() => {});
    return {
      stream: obj.stream,
      size: obj.size,
      contentType: row.content_type ?? "application/octet-stream",
      fileName: sanitiseFileName(opts.fileName) ?? row.upload_name ?? undefined,
    };
  }

  /** GET …/thumbnail/{serverName}/{mediaId}. */
  async thumbnail(
    serverName: string,
    mediaId: string,
    req: { width: number; height: number; method: ThumbnailMethod },
    opts: { timeoutMs: number; legacy: boolean },
  ): Promise<MediaContent> {
    const row = await this.servable(serverName, mediaId, opts);
    const type = (row.content_type ?? "").split(";")[0]!.trim().toLowerCase();
    if (!THUMBNAILABLE.has(type)) throw new MatrixError(400, "M_UNKNOWN", "Cannot generate a thumbnail: this media is not a supported image");
    const size = chooseSize(this.settings.thumbnailSizes, req.width, req.height, req.method);
    if (size === undefined) throw new MatrixError(400, "M_UNKNOWN", "No thumbnail sizes are configured");
    const file = await this.store.localPath(originalKey(mediaId));
    if (file === undefined) throw notFound("Media not found");
    const dims = await this.imageCall(() => this.thumbnailer.dimensions(file));
    // "When the content is smaller than the requested dimensions, servers should return the
    // original content rather than thumbnail it" (spec, Thumbnails).
    if (dims.width <= size.width && dims.height <= size.height) {
      return this.download(serverName, mediaId, { ...opts, fileName: undefined });
    }
    const existing = (await this.repo.thumbnails(mediaId)).find((t) => t.width === size.width && t.height === size.height && t.method === size.method);
    if (existing !== undefined) {
      const obj = await this.store.read(thumbnailKey(mediaId, size));
      if (obj !== undefined) return { stream: obj.stream, size: obj.size, contentType: existing.content_type, fileName: undefined };
    }
    const rendered = await this.makeThumbnail(mediaId, file, type, size);
    return { stream: Readable.from([rendered.data]), size: rendered.data.length, contentType: rendered.contentType, fileName: undefined };
  }

  private async imageCall<T>(f: () => Promise<T>): Promise<T> {
    try {
      return await f();
    } catch (e) {
      if (e instanceof ImageTooLargeError) throw tooLarge("The image is too large to thumbnail");
      if (e instanceof NotAnImageError) throw new MatrixError(400, "M_UNKNOWN", "Cannot generate a thumbnail: the file is not a readable image");
      throw e;
    }
  }

  private async makeThumbnail(mediaId: string, file: string, type: string, size: ThumbnailSize) {
    const rendered = await this.imageCall(() => this.thumbnailer.render(file, type, size));
    await this.store.writeBuffer(thumbnailKey(mediaId, size), rendered.data);
    await this.repo.insertThumbnail({ media_id: mediaId, width: size.width, height: size.height, method: size.method, content_type: rendered.contentType, size: rendered.data.length });
    return rendered;
  }

  /** The configured sizes, after a clean scan (never from a file that was not checked). */
  private async precomputeThumbnails(mediaId: string): Promise<void> {
    const row = await this.repo.get(mediaId);
    const type = (row?.content_type ?? "").split(";")[0]!.trim().toLowerCase();
    if (row === undefined || !THUMBNAILABLE.has(type)) return;
    const file = await this.store.localPath(originalKey(mediaId));
    if (file === undefined) return;
    let dims;
    try {
      dims = await this.thumbnailer.dimensions(file);
    } catch {
      return; // not an image after all, or too large: the thumbnail endpoint says so when asked
    }
    for (const size of this.settings.thumbnailSizes) {
      if (dims.width <= size.width && dims.height <= size.height) continue; // the original is served
      await this.makeThumbnail(mediaId, file, type, size);
    }
  }
}
