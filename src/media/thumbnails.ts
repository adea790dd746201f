// Thumbnails (client-server API "Thumbnails"): "scale" keeps the aspect ratio and fits inside the
// box, "crop" fills the box exactly; never upscale, never return less than asked unless the original
// is smaller. sharp does the work; limitInputPixels refuses decompression bombs before decoding.
import type { Metadata } from "sharp";

// sharp (libvips) is loaded on first use: it costs start-up time and resident memory that a server
// which never thumbnails should not pay (bench/foundation.ts measures both).
let sharpModule: Promise<typeof import("sharp")> | undefined;
const loadSharp = async () => (await (sharpModule ??= import("sharp").then((m) => m.default as unknown as typeof import("sharp"))));

export type ThumbnailMethod = "crop" | "scale";

export interface ThumbnailSize {
  width: number;
  height: number;
  method: ThumbnailMethod;
}

/** Types we decode. SVG is left out on purpose: rasterising untrusted SVG runs librsvg on hostile
 * XML, and SVG is never served inline either. */
export const THUMBNAILABLE = new Set(["image/jpeg", "image/png", "image/gif", "image/webp", "image/avif", "image/tiff"]);

export class NotAnImageError extends Error {}
export class ImageTooLargeError extends Error {}

/** The configured size to serve for a request: the smallest of the requested method that is at
 * least as large as asked; otherwise the largest of that method (then of any method). */
export function chooseSize(sizes: ThumbnailSize[], width: number, height: number, method: ThumbnailMethod): ThumbnailSize | undefined {
  const same = sizes.filter((s) => s.method === method);
  const pool = same.length > 0 ? same : sizes;
  const area = (s: ThumbnailSize) => s.width * s.height;
  const bigEnough = pool.filter((s) => s.width >= width && s.height >= height).sort((a, b) => area(a) - area(b));
  if (bigEnough.length > 0) return bigEnough[0];
  return [...pool].sort((a, b) => area(b) - area(a))[0];
}

export interface Rendered {
  data: Buffer;
  contentType: string;
}

export class Thumbnailer {
  constructor(private readonly maxPixels: number) {}

  /** Width and height without decoding the pixels; refuses images past the pixel limit. */
  async dimensions(file: string): Promise<{ width: number; height: number }> {
    const sharp = await loadSharp();
    let meta: Metadata;
    try {
      meta = await sharp(file, { limitInputPixels: this.maxPixels }).metadata();
    } catch (e) {
      const msg = (e as Error).message;
      if (/pixel limit/i.test(msg)) throw new ImageTooLargeError(msg);
      throw new NotAnImageError(msg);
    }
    const width = meta.width ?? 0;
    const height = meta.pageHeight ?? meta.height ?? 0;
    if (width === 0 || height === 0) throw new NotAnImageError("no dimensions");
    if (width * height > this.maxPixels) throw new ImageTooLargeError(`${width}x${height} is more than ${this.maxPixels} pixels`);
    return { width, height };
  }

  /** Renders one thumbnail. JPEG stays JPEG (photos); everything else becomes PNG (keeps alpha). */
  async render(file: string, sourceType: string, size: ThumbnailSize): Promise<Rendered> {
    await this.dimensions(file);
    const jpeg = sourceType === "image/jpeg";
    const sharp = await loadSharp();
    try {
      const img = sharp(file, { limitInputPixels: this.maxPixels, failOn: "error" })
        .rotate() // honour EXIF orientation; metadata (EXIF, GPS) is not copied to the output
        .resize({
          width: size.width,
          height: size.height,
          fit: size.method === "crop" ? "cover" : "inside",
          withoutEnlargement: true,
        });
      const data = jpeg ? await img.jpeg({ quality: 80 }).toBuffer() : await img.png().toBuffer();
      return { data, contentType: jpeg ? "image/jpeg" : "image/png" };
    } catch (e) {
      const msg = (e as Error).message;
      if (/pixel limit/i.test(msg)) throw new ImageTooLargeError(msg);
      throw new NotAnImageError(msg);
    }
  }
}
