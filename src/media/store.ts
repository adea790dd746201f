// Where media bytes live. The service talks to the MediaStore interface only, so that an S3 (or any
// object store) backend can replace the local filesystem: keys are opaque strings made of the
// characters a media id may contain plus "/", never paths derived from user input.
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Transform, type Readable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";

export interface StoredObject {
  size: number;
  sha256: string;
}

export interface MediaStore {
  /** Streams `source` into `key`, all or nothing: readers never see a partial object. Rejects with
   * TooLargeError past `maxBytes` (and stores nothing). */
  write(key: string, source: Readable, maxBytes: number): Promise<StoredObject>;
  /** Stores a small object held in memory (thumbnails). */
  writeBuffer(key: string, data: Buffer): Promise<void>;
  /** A stream of the object, or undefined when it does not exist. */
  read(key: string): Promise<{ stream: Readable; size: number } | undefined>;
  /** A local file path for libraries that read files themselves (sharp); S3 would download to a temp file. */
  localPath(key: string): Promise<string | undefined>;
  move(from: string, to: string): Promise<void>;
  /** Removes the object, and for a prefix ending in "/", everything under it. Missing is fine. */
  delete(key: string): Promise<void>;
}

export class TooLargeError extends Error {
  constructor(readonly limit: number) {
    super(`more than ${limit} bytes`);
  }
}

const KEY = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_.-]+)*\/?$/;

/** Counts and hashes the bytes going through, and stops the stream past the limit. */
class Meter extends Transform {
  size = 0;
  private readonly hash = createHash("sha256");
  constructor(private readonly maxBytes: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) return cb(new TooLargeError(this.maxBytes));
    this.hash.update(chunk);
    cb(null, chunk);
  }
  digest(): string {
    return this.hash.digest("hex");
  }
}

/** Media on the local filesystem under one root (`<data_dir>/media`). Writes go to `tmp/` on the
 * same filesystem, are fsynced, then renamed into place: rename is atomic on POSIX. */
export class FilesystemStore implements MediaStore {
  constructor(private readonly root: string) {}

  private path(key: string): string {
    // Keys are built by the service from validated ids; this check keeps a bug from becoming a traversal.
    if (!KEY.test(key) || key.split("/").some((p) => p === "." || p === "..")) throw new Error("invalid media store key");
    return join(this.root, key);
  }

  private async tempFile(): Promise<string> {
    const dir = join(this.root, "tmp");
    await mkdir(dir, { recursive: true });
    return join(dir, `${Date.now()}-${randomBytes(8).toString("hex")}`);
  }

  private async commit(tmp: string, key: string): Promise<void> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    await rename(tmp, target);
  }

  async write(key: string, source: Readable, maxBytes: number): Promise<StoredObject> {
    const tmp = await this.tempFile();
    const meter = new Meter(maxBytes);
    try {
      // Open first: a stream that opens lazily could create the file after the cleanup below ran.
      const out = (await open(tmp, "wx", 0o600)).createWriteStream();
      // pipe(), not pipeline(source, ...): on an error pipeline would destroy the source, i.e. the
      // client's socket, and the 413 could not be sent. An abandoned request body is drained by Node.
      const abort = (e?: Error) => meter.destroy(e ?? new Error("upload aborted"));
      const onClose = () => {
        if (!source.readableEnded) abort();
      };
      source.once("error", abort);
      source.once("close", onClose);
      source.pipe(meter);
      try {
        await pipeline(meter, out);
      } finally {
        source.unpipe(meter);
        source.off("error", abort);
        source.off("close", onClose);
      }
      const fh = await open(tmp, "r");
      try {
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.commit(tmp, key);
      return { size: meter.size, sha256: meter.digest() };
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async writeBuffer(key: string, data: Buffer): Promise<void> {
    const tmp = await this.tempFile();
    try {
      const fh = await open(tmp, "wx", 0o600);
      try {
        await fh.writeFile(data);
        await fh.sync();
      } finally {
        await fh.close();
      }
      await this.commit(tmp, key);
    } catch (e) {
      await rm(tmp, { force: true });
      throw e;
    }
  }

  async read(key: string): Promise<{ stream: Readable; size: number } | undefined> {
    const p = this.path(key);
    try {
      const st = await stat(p);
      return { stream: createReadStream(p), size: st.size };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }

  async localPath(key: string): Promise<string | undefined> {
    const p = this.path(key);
    try {
      await stat(p);
      return p;
    } catch {
      return undefined;
    }
  }

  async move(from: string, to: string): Promise<void> {
    const target = this.path(to);
    await mkdir(dirname(target), { recursive: true });
    await rename(this.path(from), target);
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true, recursive: key.endsWith("/") });
  }
}
