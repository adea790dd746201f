// Store keys, built only from validated media ids (MEDIA_ID grammar), never from file names.
import type { ThumbnailSize } from "./thumbnails.js";

export const originalKey = (mediaId: string) => `local/${mediaId.slice(0, 2)}/${mediaId}`;
export const quarantineKey = (mediaId: string) => `quarantine/${mediaId.slice(0, 2)}/${mediaId}`;
export const thumbnailKey = (mediaId: string, s: ThumbnailSize) => `thumbnails/${mediaId}/${s.width}x${s.height}-${s.method}`;
export const thumbnailPrefix = (mediaId: string) => `thumbnails/${mediaId}/`;
