// What may be uploaded and how it is served: media id grammar, MIME allow/deny lists, file names,
// and the headers that keep a hostile file from running in a browser (client-server API "Content
// repository", "Security considerations" and "Serving inline content").

/** Media ids: "only alphanumeric (A-Za-z0-9), _ and - characters" (content repository security
 * considerations). A whitelist, so percent-encoded or Unicode traversals cannot get through. */
export const MEDIA_ID = /^[A-Za-z0-9_-]{1,255}$/;

export const isValidMediaId = (id: string): boolean => MEDIA_ID.test(id);

/** The spec's list of types safe to serve with `Content-Disposition: inline`. No HTML, no SVG. */
const INLINE_SAFE = new Set([
  "text/css",
  "text/plain",
  "text/csv",
  "application/json",
  "application/ld+json",
  "image/jpeg",
  "image/gif",
  "image/png",
  "image/apng",
  "image/webp",
  "image/avif",
  "video/mp4",
  "video/webm",
  "video/ogg",
  "video/quicktime",
  "audio/mp4",
  "audio/webm",
  "audio/aac",
  "audio/mpeg",
  "audio/ogg",
  "audio/wave",
  "audio/wav",
  "audio/x-wav",
  "audio/x-pn-wav",
  "audio/flac",
  "audio/x-flac",
]);

/** "Text/HTML; charset=utf-8" → "text/html". */
export function baseType(contentType: string): string {
  return contentType.split(";")[0]!.trim().toLowerCase();
}

/** A Content-Type as sent by a client, normalised; anything malformed becomes octet-stream. */
export function normaliseContentType(header: string | undefined): string {
  if (header === undefined || header.trim() === "") return "application/octet-stream";
  const t = header.trim();
  if (t.length > 255 || !/^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;.*)?$/.test(t) || /[\u0000-\u001f\u007f]/.test(t)) {
    return "application/octet-stream";
  }
  return t;
}

function matches(pattern: string, type: string): boolean {
  const p = pattern.trim().toLowerCase();
  if (p === "*/*" || p === "*") return true;
  if (p.endsWith("/*")) return type.startsWith(p.slice(0, -1));
  return p === type;
}

/** Whether the configured lists let this type in: the deny list wins; a non-empty allow list must match. */
export function mimeAllowed(contentType: string, allowed: string[], denied: string[]): boolean {
  const t = baseType(contentType);
  if (denied.some((p) => matches(p, t))) return false;
  return allowed.length === 0 || allowed.some((p) => matches(p, t));
}

/** A file name fit to store and to put in a header: no directory part, no control characters, no
 * quotes or backslashes, at most 255 characters; undefined when nothing usable is left. */
export function sanitiseFileName(name: string | undefined): string | undefined {
  if (name === undefined) return undefined;
  const base = name.split(/[/\\]/).pop() ?? "";
  const clean = base
    .replace(/[\u0000-\u001f\u007f-\u009f"\u2028\u2029]/g, "")
    .trim()
    .slice(0, 255);
  return clean === "" || clean === "." || clean === ".." ? undefined : clean;
}

/** Synapse's policy, as the spec recommends: a sandboxed, script-less document even when opened directly. */
export const MEDIA_CSP = "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; style-src 'unsafe-inline'; media-src 'self'; object-src 'self';";

/** Headers for every media response, including errors. */
export const MEDIA_SECURITY_HEADERS: Record<string, string> = {
  "content-security-policy": MEDIA_CSP,
  "x-content-type-options": "nosniff",
  // Spec 1.4: lets web clients embed media while using cross-origin isolation.
  "cross-origin-resource-policy": "cross-origin",
};

/** Content-Disposition: inline only for the spec's safe types, attachment for everything else; the
 * name as RFC 6266 `filename*` (UTF-8) with an ASCII fallback. */
export function contentDisposition(contentType: string, fileName: string | undefined): string {
  const kind = INLINE_SAFE.has(baseType(contentType)) ? "inline" : "attachment";
  const name = sanitiseFileName(fileName);
  if (name === undefined) return kind;
  const ascii = name.replace(/[^\x20-\x7e]/g, "_").replace(/[\\"]/g, "_");
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return ascii === name ? `${kind}; filename="${ascii}"` : `${kind}; filename="${ascii}"; filename*=utf-8''${encoded}`;
}
