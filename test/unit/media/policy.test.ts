// Media policy helpers: id grammar, MIME lists, file names and Content-Disposition, thumbnail size choice.
import assert from "node:assert/strict";
import { test } from "node:test";
import { contentDisposition, isValidMediaId, mimeAllowed, normaliseContentType, sanitiseFileName } from "../../../src/media/policy.js";
import { chooseSize, type ThumbnailSize } from "../../../src/media/thumbnails.js";

test("media ids: URL-safe base64 characters only (content repository security considerations)", () => {
  for (const ok of ["abc", "A-b_9", "x".repeat(255)]) assert.equal(isValidMediaId(ok), true, ok);
  for (const bad of ["", "..", "a/b", "a.b", "a%2Fb", "été", "a\u0000", "x".repeat(256), "a b", "..\\x"]) assert.equal(isValidMediaId(bad), false, bad);
});

test("MIME lists: deny wins, allow list with wildcards, case and parameters ignored", () => {
  assert.equal(mimeAllowed("text/html", [], ["text/html"]), false);
  assert.equal(mimeAllowed("Text/HTML; charset=utf-8", [], ["text/html"]), false);
  assert.equal(mimeAllowed("video/mp4", [], ["video/*"]), false);
  assert.equal(mimeAllowed("image/png", ["image/*"], []), true);
  assert.equal(mimeAllowed("text/plain", ["image/*"], []), false);
  assert.equal(mimeAllowed("image/png", ["image/*"], ["image/png"]), false);
  assert.equal(mimeAllowed("anything/else", [], []), true);
  assert.equal(normaliseContentType(undefined), "application/octet-stream");
  assert.equal(normaliseContentType("not a type"), "application/octet-stream");
  assert.equal(normaliseContentType("text/plain\r\nX: y"), "application/octet-stream");
  assert.equal(normaliseContentType("image/png"), "image/png");
});

test("file names lose directories, control characters and quotes", () => {
  assert.equal(sanitiseFileName("../../etc/passwd"), "passwd");
  assert.equal(sanitiseFileName("..\\..\\win.ini"), "win.ini");
  assert.equal(sanitiseFileName('a"b\r\nc.txt'), "abc.txt");
  assert.equal(sanitiseFileName(".."), undefined);
  assert.equal(sanitiseFileName("   "), undefined);
  assert.equal(sanitiseFileName("x".repeat(400))!.length, 255);
});

test("Content-Disposition: inline only for the spec's safe types, RFC 6266 names", () => {
  assert.equal(contentDisposition("image/png", "a.png"), 'inline; filename="a.png"');
  assert.equal(contentDisposition("text/html", "a.html"), 'attachment; filename="a.html"');
  assert.equal(contentDisposition("image/svg+xml", undefined), "attachment");
  assert.equal(contentDisposition("application/pdf", "rapport.pdf"), 'attachment; filename="rapport.pdf"');
  assert.equal(contentDisposition("text/plain; charset=utf-8", "été.txt"), `inline; filename="_t_.txt"; filename*=utf-8''%C3%A9t%C3%A9.txt`);
});

test("thumbnail sizes: the smallest at least as large, same method, else the largest", () => {
  const sizes: ThumbnailSize[] = [
    { width: 32, height: 32, method: "crop" },
    { width: 96, height: 96, method: "crop" },
    { width: 320, height: 240, method: "scale" },
    { width: 800, height: 600, method: "scale" },
  ];
  assert.deepEqual(chooseSize(sizes, 50, 50, "crop"), sizes[1]);
  assert.deepEqual(chooseSize(sizes, 10, 10, "crop"), sizes[0]);
  assert.deepEqual(chooseSize(sizes, 500, 500, "crop"), sizes[1]);
  assert.deepEqual(chooseSize(sizes, 300, 200, "scale"), sizes[2]);
  assert.deepEqual(chooseSize(sizes, 321, 10, "scale"), sizes[3]);
  assert.deepEqual(chooseSize(sizes.filter((s) => s.method === "scale"), 32, 32, "crop"), sizes[2]);
  assert.equal(chooseSize([], 1, 1, "crop"), undefined);
});
