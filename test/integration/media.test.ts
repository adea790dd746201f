// Media repository: uploads with matrix-js-sdk and raw HTTP, authenticated downloads and thumbnails,
// limits (size, MIME lists, pixel bomb), hostile ids and file names, the headers that keep uploaded
// HTML from running, the asynchronous create/upload flow. A private clamd scans every upload.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import sharp from "sharp";
import { startTestServer, type TestServer, type TestUser } from "../helpers/server.js";
import { call } from "../helpers/http.js";
import { client } from "../helpers/sdk.js";
import { startClamd, type Clamd } from "../helpers/clamd.js";

const V1 = "/_matrix/client/v1/media";
const UPLOAD = "/_matrix/media/v3/upload";

let clamd: Clamd;
let s: TestServer;
let alice: TestUser;
let bob: TestUser;
let png: Buffer;

async function upload(token: string | undefined, body: Buffer | string, type: string, query = ""): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { "content-type": type };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${s.url}${UPLOAD}${query}`, { method: "POST", headers, body: body as unknown as BodyInit });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function get(path: string, token?: string, base = s.url): Promise<Response> {
  return fetch(base + path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
}

const mediaIdOf = (mxc: string) => mxc.split("/").pop()!;

function assertSandboxed(res: Response, what: string): void {
  const csp = res.headers.get("content-security-policy") ?? "";
  assert.match(csp, /^sandbox;/, `${what}: CSP ${csp}`);
  assert.match(csp, /default-src 'none'/, what);
  assert.match(csp, /script-src 'none'/, what);
  assert.equal(res.headers.get("x-content-type-options"), "nosniff", what);
}

before(async () => {
  clamd = await startClamd();
  s = await startTestServer({
    antivirus: { enabled: true, socket: clamd.socket, port: 3310, fail_open: false, timeout_ms: 10_000 },
    media: {
      max_upload_bytes: 2 * 1024 * 1024,
      allowed_mime_types: [],
      denied_mime_types: ["application/x-msdownload", "application/x-sh", "video/*"],
      max_image_pixels: 32_000_000,
      thumbnail_sizes: [
        { width: 32, height: 32, method: "crop" },
        { width: 96, height: 96, method: "crop" },
        { width: 320, height: 240, method: "scale" },
        { width: 640, height: 480, method: "scale" },
      ],
      url_previews: false,
    },
    // Smaller than the uploads below: the JSON body limit must not apply to media.
    max_request_body_bytes: 64 * 1024,
  });
  alice = await s.user("alice");
  bob = await s.user("bob");
  png = await sharp({ create: { width: 800, height: 600, channels: 3, background: { r: 200, g: 30, b: 90 } } })
    .png({ compressionLevel: 0 })
    .toBuffer();
  assert.ok(png.length > 64 * 1024, "the test image is larger than the JSON body limit");
});

after(async () => {
  await s?.close();
  await clamd?.stop();
});

test("matrix-js-sdk uploads an image; another user downloads it and its thumbnails with the SDK's URLs", async () => {
  const a = client(s.url, { accessToken: alice.accessToken, userId: alice.userId, deviceId: alice.deviceId });
  const b = client(s.url, { accessToken: bob.accessToken, userId: bob.userId, deviceId: bob.deviceId });
  const { content_uri } = await a.uploadContent(png as unknown as Blob, { type: "image/png", name: "photo été.png" });
  assert.match(content_uri, /^mxc:\/\/rempart\.test\/[A-Za-z0-9_-]+$/);

  const url = b.mxcUrlToHttp(content_uri, undefined, undefined, undefined, false, true, true)!;
  assert.ok(url.includes("/_matrix/client/v1/media/download/"), url);
  const res = await fetch(url, { headers: { authorization: `Bearer ${bob.accessToken}` } });
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), png);
  assert.equal(res.headers.get("content-type"), "image/png");
  assert.equal(res.headers.get("content-disposition"), `inline; filename="photo _t_.png"; filename*=utf-8''photo%20%C3%A9t%C3%A9.png`);
  assertSandboxed(res, "download");

  // Crop: exactly the configured box at least as large as asked.
  const crop = await fetch(b.mxcUrlToHttp(content_uri, 64, 64, "crop", false, true, true)!, { headers: { authorization: `Bearer ${bob.accessToken}` } });
  assert.equal(crop.status, 200);
  assertSandboxed(crop, "thumbnail");
  const cropMeta = await sharp(Buffer.from(await crop.arrayBuffer())).metadata();
  assert.deepEqual([cropMeta.format, cropMeta.width, cropMeta.height], ["png", 96, 96]);
  // Scale: keeps the aspect ratio, never smaller than asked.
  const scale = await fetch(b.mxcUrlToHttp(content_uri, 300, 200, "scale", false, true, true)!, { headers: { authorization: `Bearer ${bob.accessToken}` } });
  const scaleMeta = await sharp(Buffer.from(await scale.arrayBuffer())).metadata();
  assert.deepEqual([scaleMeta.width, scaleMeta.height], [320, 240]);

  // The configured sizes were precomputed after the clean scan.
  await s.app.media.idle();
  const thumbs = await s.app.storage.db.selectFrom("media_thumbnails").selectAll().where("media_id", "=", mediaIdOf(content_uri)).execute();
  assert.equal(thumbs.length, 4);
  const row = await s.app.storage.db.selectFrom("media").selectAll().where("media_id", "=", mediaIdOf(content_uri)).executeTakeFirstOrThrow();
  assert.equal(row.status, "clean");
  assert.equal(row.user_id, alice.userId);
  assert.equal(Number(row.size), png.length);
});

test("downloads and thumbnails need an access token; the legacy unauthenticated endpoints are off", async () => {
  const up = await upload(alice.accessToken, png, "image/png");
  const id = mediaIdOf(up.body.content_uri as string);
  for (const path of [`${V1}/download/rempart.test/${id}`, `${V1}/download/rempart.test/${id}/x.png`, `${V1}/thumbnail/rempart.test/${id}?width=32&height=32`]) {
    const res = await call(s.url, "GET", path);
    assert.equal(res.status, 401, path);
    assert.equal(res.body.errcode, "M_MISSING_TOKEN");
    assert.equal((await call(s.url, "GET", path, { token: "rpt_nope" })).body.errcode, "M_UNKNOWN_TOKEN");
  }
  for (const path of [`/_matrix/media/v3/download/rempart.test/${id}`, `/_matrix/media/v3/thumbnail/rempart.test/${id}?width=32&height=32`]) {
    const res = await call(s.url, "GET", path);
    assert.equal(res.status, 404, path);
    assert.equal(res.body.errcode, "M_NOT_FOUND");
  }
  const anon = await upload(undefined, png, "image/png");
  assert.equal(anon.status, 401);
});

test("legacy unauthenticated download serves only media uploaded before the configured date", async () => {
  const s2 = await startTestServer({ media: { legacy_unauthenticated_before: "2100-01-01" } as never, antivirus: { enabled: false } as never });
  try {
    const u = await s2.user("carol");
    const up = await call(s2.url, "POST", UPLOAD, { token: u.accessToken, raw: "hello", headers: { "content-type": "text/plain" } });
    const id = mediaIdOf(up.body.content_uri as string);
    const res = await get(`/_matrix/media/v3/download/rempart.test/${id}/hello.txt`, undefined, s2.url);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), "hello");
    assert.equal(res.headers.get("content-disposition"), 'inline; filename="hello.txt"');
    assertSandboxed(res, "legacy download");
    // Media uploaded after the date is not served there.
    await s2.app.storage.db.updateTable("media").set({ created_ts: Date.parse("2100-01-02") }).where("media_id", "=", id).execute();
    assert.equal((await get(`/_matrix/media/v3/download/rempart.test/${id}`, undefined, s2.url)).status, 404);
    assert.equal((await get(`${V1}/download/rempart.test/${id}`, u.accessToken, s2.url)).status, 200);
  } finally {
    await s2.close();
  }
});

test("uploads larger than max_upload_bytes get 413 M_TOO_LARGE and store nothing", async () => {
  const before = await s.app.storage.db.selectFrom("media").select("media_id").execute();
  const big = Buffer.alloc(2 * 1024 * 1024 + 1, 7);
  const res = await upload(alice.accessToken, big, "application/octet-stream");
  assert.equal(res.status, 413);
  assert.equal(res.body.errcode, "M_TOO_LARGE");
  // Without a Content-Length (chunked), the limit is enforced while streaming.
  let sent = 0;
  const chunked = new ReadableStream<Uint8Array>({
    pull(ctrl) {
      if (sent >= 3 * 1024 * 1024) return ctrl.close();
      sent += 256 * 1024;
      ctrl.enqueue(new Uint8Array(256 * 1024));
    },
  });
  const r2 = await fetch(`${s.url}${UPLOAD}`, {
    method: "POST",
    headers: { authorization: `Bearer ${alice.accessToken}`, "content-type": "application/octet-stream" },
    body: chunked,
    duplex: "half",
  } as RequestInit);
  assert.equal(r2.status, 413);
  assert.equal(((await r2.json()) as { errcode: string }).errcode, "M_TOO_LARGE");
  const after = await s.app.storage.db.selectFrom("media").select("media_id").execute();
  assert.equal(after.length, before.length);
  // Background thumbnail writes of earlier uploads also pass through tmp/: let them finish first.
  await s.app.media.idle();
  assert.deepEqual(readdirSync(join(s.config.data_dir, "media", "tmp")), [], "no temp file left behind");
  // The server still answers on the same origin.
  assert.equal((await upload(alice.accessToken, "small", "text/plain")).status, 200);
});

test("denied MIME types get 403 M_FORBIDDEN, wildcards included", async () => {
  for (const type of ["application/x-msdownload", "Application/X-Sh", "video/mp4", "VIDEO/WEBM; codecs=vp9"]) {
    const res = await upload(alice.accessToken, "MZ....", type);
    assert.equal(res.status, 403, type);
    assert.equal(res.body.errcode, "M_FORBIDDEN", type);
  }
  const s2 = await startTestServer({ media: { allowed_mime_types: ["image/*"] } as never, antivirus: { enabled: false } as never });
  try {
    const u = await s2.user("dave");
    assert.equal((await call(s2.url, "POST", UPLOAD, { token: u.accessToken, raw: "x", headers: { "content-type": "text/plain" } })).status, 403);
    assert.equal((await call(s2.url, "POST", UPLOAD, { token: u.accessToken, raw: "x", headers: { "content-type": "image/gif" } })).status, 200);
  } finally {
    await s2.close();
  }
});

test("traversal-looking and malformed ids are refused with 400, unknown ones with 404", async () => {
  const bad = ["..%2F..%2Fetc%2Fpasswd", "abc%2Fdef", "abc.def", "%C3%A9t%C3%A9", "a%00b", "..%5C..%5Cwin.ini", "x".repeat(300)];
  for (const id of bad) {
    for (const path of [`${V1}/download/rempart.test/${id}`, `${V1}/thumbnail/rempart.test/${id}?width=32&height=32`]) {
      const res = await call(s.url, "GET", path, { token: alice.accessToken });
      assert.equal(res.status, 400, `${path}: ${res.status} ${JSON.stringify(res.body)}`);
      assert.ok(["M_INVALID_PARAM", "M_UNKNOWN"].includes(res.body.errcode as string), path);
    }
    const put = await call(s.url, "PUT", `${UPLOAD}/rempart.test/${id}`, { token: alice.accessToken, raw: "x" });
    assert.equal(put.status, 400, `PUT ${id}`);
  }
  for (const server of ["..%2F..", "evil%2Fserver", "a b"]) {
    assert.equal((await call(s.url, "GET", `${V1}/download/${server}/abcdef`, { token: alice.accessToken })).status, 400, server);
  }
  // Unknown id, or a remote server's media (no federation): 404.
  assert.equal((await call(s.url, "GET", `${V1}/download/rempart.test/NoSuchMedia`, { token: alice.accessToken })).body.errcode, "M_NOT_FOUND");
  assert.equal((await call(s.url, "GET", `${V1}/download/elsewhere.example/abcdef`, { token: alice.accessToken })).status, 404);
  // A path that tries to climb out is normalised by the client or the router; it never reaches the disk.
  for (const path of [`${V1}/download/rempart.test/../../../../etc/passwd`, `${V1}/download/rempart.test/%2E%2E`, `${V1}/download/rempart.test/%2e%2e/%2e%2e/x`]) {
    const raw = await call(s.url, "GET", path, { token: alice.accessToken });
    assert.ok(raw.status === 400 || raw.status === 404, `${path}: ${raw.status}`);
  }
});

test("uploaded HTML and SVG are served as attachments in a sandbox; file names are sanitised", async () => {
  for (const [type, body] of [
    ["text/html", "<html><script>alert(document.cookie)</script></html>"],
    ["image/svg+xml", '<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'],
    ["application/xhtml+xml", "<html/>"],
  ] as const) {
    const up = await upload(alice.accessToken, body, type, `?filename=${encodeURIComponent('../../x"\r\nSet-Cookie: a=b.html')}`);
    assert.equal(up.status, 200, type);
    const res = await get(`${V1}/download/rempart.test/${mediaIdOf(up.body.content_uri as string)}`, bob.accessToken);
    assert.equal(res.status, 200);
    const disposition = res.headers.get("content-disposition") ?? "";
    assert.match(disposition, /^attachment; filename="/, `${type}: ${disposition}`);
    assert.ok(!disposition.includes("..") && !disposition.includes("/") && !/[\r\n]/.test(disposition), disposition);
    assert.equal(res.headers.get("set-cookie"), null);
    assertSandboxed(res, type);
    assert.equal(await res.text(), body);
  }
  // The name in the download path is sanitised the same way.
  const up = await upload(alice.accessToken, "<b>x</b>", "text/html");
  const res = await get(`${V1}/download/rempart.test/${mediaIdOf(up.body.content_uri as string)}/${encodeURIComponent("..\\evil.html")}`, bob.accessToken);
  assert.equal(res.headers.get("content-disposition"), 'attachment; filename="evil.html"');
});

test("errors from media endpoints carry the sandbox headers too", async () => {
  const res = await get(`${V1}/download/rempart.test/NoSuchMedia`, alice.accessToken);
  assert.equal(res.status, 404);
  assertSandboxed(res, "404");
});

test("thumbnails: non-images get a clear 400, small originals are served as they are, bad sizes are refused", async () => {
  const text = await upload(alice.accessToken, "just text", "text/plain");
  const t = await call(s.url, "GET", `${V1}/thumbnail/rempart.test/${mediaIdOf(text.body.content_uri as string)}?width=32&height=32`, { token: alice.accessToken });
  assert.equal(t.status, 400);
  assert.equal(t.body.errcode, "M_UNKNOWN");
  assert.match(t.body.error as string, /not a supported image/);
  // A file that claims to be a PNG but is not.
  const fake = await upload(alice.accessToken, "not a png at all", "image/png");
  const f = await call(s.url, "GET", `${V1}/thumbnail/rempart.test/${mediaIdOf(fake.body.content_uri as string)}?width=32&height=32`, { token: alice.accessToken });
  assert.equal(f.status, 400);
  assert.match(f.body.error as string, /not a readable image/);

  const tiny = await sharp({ create: { width: 20, height: 10, channels: 4, background: "#00ff0080" } }).png().toBuffer();
  const up = await upload(alice.accessToken, tiny, "image/png");
  const id = mediaIdOf(up.body.content_uri as string);
  const res = await get(`${V1}/thumbnail/rempart.test/${id}?width=96&height=96&method=crop`, alice.accessToken);
  assert.equal(res.status, 200);
  assert.deepEqual(Buffer.from(await res.arrayBuffer()), tiny, "never upscaled: the original comes back");

  for (const q of ["", "?width=32", "?width=-1&height=32", "?width=a&height=32", "?width=32&height=32&method=stretch"]) {
    const r = await call(s.url, "GET", `${V1}/thumbnail/rempart.test/${id}${q}`, { token: alice.accessToken });
    assert.equal(r.status, 400, q);
  }
});

test("images past max_image_pixels are not thumbnailed (413 M_TOO_LARGE)", async () => {
  const s2 = await startTestServer({ media: { max_image_pixels: 100_000 } as never, antivirus: { enabled: false } as never });
  try {
    const u = await s2.user("erin");
    const up = await fetch(`${s2.url}${UPLOAD}`, { method: "POST", headers: { authorization: `Bearer ${u.accessToken}`, "content-type": "image/png" }, body: png as unknown as BodyInit });
    const { content_uri } = (await up.json()) as { content_uri: string };
    const r = await call(s2.url, "GET", `${V1}/thumbnail/rempart.test/${mediaIdOf(content_uri)}?width=32&height=32`, { token: u.accessToken });
    assert.equal(r.status, 413);
    assert.equal(r.body.errcode, "M_TOO_LARGE");
    // The file itself is still downloadable.
    const d = await get(`${V1}/download/rempart.test/${mediaIdOf(content_uri)}`, u.accessToken, s2.url);
    assert.equal(d.status, 200);
    assert.equal((await d.arrayBuffer()).byteLength, png.length);
  } finally {
    await s2.close();
  }
});

test("asynchronous upload: create, wait, PUT once by its creator", async () => {
  const created = await call(s.url, "POST", "/_matrix/media/v1/create", { token: alice.accessToken });
  assert.equal(created.status, 200);
  const mxc = created.body.content_uri as string;
  assert.match(mxc, /^mxc:\/\/rempart\.test\//);
  assert.ok((created.body.unused_expires_at as number) > Date.now());
  const id = mediaIdOf(mxc);

  const early = await call(s.url, "GET", `${V1}/download/rempart.test/${id}?timeout_ms=0`, { token: bob.accessToken });
  assert.equal(early.status, 504);
  assert.equal(early.body.errcode, "M_NOT_YET_UPLOADED");

  const stranger = await call(s.url, "PUT", `${UPLOAD}/rempart.test/${id}`, { token: bob.accessToken, raw: "bob's", headers: { "content-type": "text/plain" } });
  assert.equal(stranger.status, 403);
  assert.equal(stranger.body.errcode, "M_FORBIDDEN");

  // A download that waits receives the content once it arrives.
  const waiting = call(s.url, "GET", `${V1}/download/rempart.test/${id}?timeout_ms=20000`, { token: bob.accessToken });
  const put = await call(s.url, "PUT", `${UPLOAD}/rempart.test/${id}?filename=notes.txt`, { token: alice.accessToken, raw: "alice's notes", headers: { "content-type": "text/plain" } });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.deepEqual(put.body, {});
  const got = await waiting;
  assert.equal(got.status, 200);
  assert.equal(got.body._text, "alice's notes");

  const again = await call(s.url, "PUT", `${UPLOAD}/rempart.test/${id}`, { token: alice.accessToken, raw: "overwrite", headers: { "content-type": "text/plain" } });
  assert.equal(again.status, 409);
  assert.equal(again.body.errcode, "M_CANNOT_OVERWRITE_MEDIA");
  assert.equal((await get(`${V1}/download/rempart.test/${id}`, bob.accessToken).then((r) => r.text())), "alice's notes");

  const unknown = await call(s.url, "PUT", `${UPLOAD}/rempart.test/NeverCreated`, { token: alice.accessToken, raw: "x" });
  assert.equal(unknown.status, 404);
  assert.equal(unknown.body.errcode, "M_NOT_FOUND");
  const remote = await call(s.url, "PUT", `${UPLOAD}/elsewhere.example/${id}`, { token: alice.accessToken, raw: "x" });
  assert.equal(remote.status, 404);
});

test("an expired reservation cannot be uploaded to", async () => {
  const created = await call(s.url, "POST", "/_matrix/media/v1/create", { token: alice.accessToken });
  const id = mediaIdOf(created.body.content_uri as string);
  await s.app.storage.db.updateTable("media").set({ unused_expires_ts: Date.now() - 1 }).where("media_id", "=", id).execute();
  const put = await call(s.url, "PUT", `${UPLOAD}/rempart.test/${id}`, { token: alice.accessToken, raw: "late" });
  assert.equal(put.status, 404);
  // The lapsed reservation is forgotten when the user reserves again.
  await call(s.url, "POST", "/_matrix/media/v1/create", { token: alice.accessToken });
  assert.equal(await s.app.storage.db.selectFrom("media").select("media_id").where("media_id", "=", id).executeTakeFirst(), undefined);
});

test("media config advertises the upload limit; URL previews are disabled", async () => {
  for (const path of [`${V1}/config`, "/_matrix/media/v3/config"]) {
    const res = await call(s.url, "GET", path, { token: alice.accessToken });
    assert.equal(res.status, 200);
    assert.equal(res.body["m.upload.size"], 2 * 1024 * 1024);
  }
  for (const path of [`${V1}/preview_url?url=https://example.org`, "/_matrix/media/v3/preview_url?url=https://example.org"]) {
    const res = await call(s.url, "GET", path, { token: alice.accessToken });
    assert.equal(res.status, 404);
    assert.equal(res.body.errcode, "M_UNRECOGNIZED");
  }
});
