// Builds the media services from the configuration: filesystem store under <data_dir>/media, clamd
// client when the antivirus is enabled.
import { join, resolve } from "node:path";
import type { Logger } from "pino";
import type { ResolvedConfig } from "../config/schema.js";
import type { Storage } from "../storage/database.js";
import { FilesystemStore } from "./store.js";
import { ClamdScanner } from "./antivirus.js";
import { MediaRepository } from "./media.js";
import { MediaAdmin } from "./admin.js";

export function createMediaServices(config: ResolvedConfig, storage: Storage, now: () => number, log: Logger) {
  const store = new FilesystemStore(resolve(join(config.data_dir, "media")));
  const av = config.antivirus;
  const scanner = av.enabled ? new ClamdScanner({ socket: av.socket, host: av.host, port: av.port, timeoutMs: av.timeout_ms }) : undefined;
  const m = config.media;
  const legacy = m.legacy_unauthenticated_before === undefined ? undefined : Date.parse(m.legacy_unauthenticated_before);
  const media = new MediaRepository(
    storage,
    store,
    scanner,
    {
      serverName: config.server_name,
      maxUploadBytes: m.max_upload_bytes,
      allowedMimeTypes: m.allowed_mime_types,
      deniedMimeTypes: m.denied_mime_types,
      maxImagePixels: m.max_image_pixels,
      thumbnailSizes: m.thumbnail_sizes,
      legacyBeforeTs: legacy === undefined || Number.isNaN(legacy) ? undefined : legacy,
      failOpen: av.fail_open,
    },
    now,
    log,
  );
  const mediaAdmin = new MediaAdmin(storage, store, media.quarantine, config.server_name);
  return { media, mediaAdmin, scanner };
}
