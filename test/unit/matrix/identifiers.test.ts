import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  isValidDeviceId,
  isValidEventId,
  isValidEventType,
  isValidLocalpart,
  isValidNamespacedId,
  isValidOpaqueId,
  isValidRoomAlias,
  isValidRoomId,
  isValidServerName,
  isValidStateKey,
  isValidUserId,
  MAX_ID_LENGTH,
  parseServerName,
  parseUserId,
} from "../../../src/matrix/identifiers.js";

const bytes = (s: string) => Buffer.byteLength(s, "utf8");
/** An id of exactly `total` bytes: prefix + filler + suffix. */
const ofLength = (prefix: string, suffix: string, total: number, filler = "a") =>
  prefix + filler.repeat(total - bytes(prefix) - bytes(suffix)) + suffix;

describe("server names (appendix: Server Name)", () => {
  it("accepts the appendix's examples", () => {
    assert.deepEqual(parseServerName("matrix.org"), { host: "matrix.org", kind: "dns" });
    assert.deepEqual(parseServerName("matrix.org:8888"), { host: "matrix.org", port: 8888, kind: "dns" });
    assert.deepEqual(parseServerName("1.2.3.4"), { host: "1.2.3.4", kind: "ipv4" });
    assert.deepEqual(parseServerName("1.2.3.4:1234"), { host: "1.2.3.4", port: 1234, kind: "ipv4" });
    assert.deepEqual(parseServerName("[1234:5678::abcd]"), { host: "[1234:5678::abcd]", kind: "ipv6" });
    assert.deepEqual(parseServerName("[1234:5678::abcd]:5678"), { host: "[1234:5678::abcd]", port: 5678, kind: "ipv6" });
  });

  it("accepts other valid forms", () => {
    for (const ok of [
      "localhost",
      "a",
      "x-y.example",
      "MATRIX.ORG", // case-sensitive but legal; only a recommendation against upper case
      "123",
      "0.0.0.0",
      "255.255.255.255:65535",
      "example.org:0",
      "example.org:00080",
      "[::1]",
      "[::ffff:1.2.3.4]:8448",
      "[FE80::1]",
      "a".repeat(255),
    ]) {
      assert.ok(isValidServerName(ok), ok);
    }
  });

  it("refuses everything else", () => {
    for (const bad of [
      "",
      ".",
      ".example.org",
      "example.org.",
      "exa..mple.org",
      "exa mple.org",
      "exa_mple.org",
      "ex@mple.org",
      "exämple.org",
      "example.org:",
      "example.org:-1",
      "example.org:65536",
      "example.org:123456",
      "example.org:80a",
      "example.org:80:80",
      ":80",
      "1.2.3.256",
      "1.2.3.4:99999",
      "[1234:5678::abcd",
      "1234:5678::abcd",
      "[::1]x",
      "[::1]:",
      "[]",
      "[zz::1]",
      "[fe80::1%eth0]",
      "[1.2.3.4]",
      "[::1]]",
      "a".repeat(256),
    ]) {
      assert.equal(isValidServerName(bad), false, bad);
    }
  });
});

describe("user ids (appendix: User Identifiers)", () => {
  it("accepts the strict grammar for new users", () => {
    for (const lp of ["alice", "a", "0", "a.b_c=d-e/f+g", "x".repeat(200)]) assert.ok(isValidLocalpart(lp), lp);
    assert.ok(isValidUserId("@alice:example.org"));
    assert.ok(isValidUserId("@a.b_c=d-e/f+g:[::1]:8448"));
  });

  it("refuses upper case, other punctuation, non-ASCII and the empty localpart for new users", () => {
    for (const lp of ["", "Alice", "ALICE", "al ice", "al*ce", "al:ce", "al#ce", "al@ce", "élise", "al\u0000ce", "~x"]) {
      assert.equal(isValidLocalpart(lp), false, lp);
      assert.equal(isValidUserId(`@${lp}:example.org`), false, lp);
    }
  });

  it("accepts historical localparts only when asked (appendix: Historical User IDs)", () => {
    const historical = ["Alice", "", "élise", "al ice", "al*ce", "\u0007bell", "😀"];
    for (const lp of historical) {
      const id = `@${lp}:example.org`;
      assert.equal(isValidUserId(id), false, id);
      assert.ok(isValidUserId(id, { historical: true }), id);
    }
  });

  it("never accepts NUL or lone surrogates, even historically", () => {
    for (const lp of ["a\u0000b", "\ud800", "x\udfff"]) {
      assert.equal(isValidUserId(`@${lp}:example.org`, { historical: true }), false, JSON.stringify(lp));
    }
  });

  it("refuses ids without the sigil, the colon or a valid server name", () => {
    for (const bad of ["alice:example.org", "@alice", "@alice:", "@alice:exa mple.org", "#alice:example.org", "@alice:example.org:99999", ""]) {
      assert.equal(isValidUserId(bad, { historical: true }), false, bad);
    }
  });

  it("allows exactly 255 bytes and refuses 256", () => {
    assert.equal(MAX_ID_LENGTH, 255);
    const ok = ofLength("@", ":example.org", 255);
    assert.equal(bytes(ok), 255);
    assert.ok(isValidUserId(ok));
    const tooLong = ofLength("@", ":example.org", 256);
    assert.equal(isValidUserId(tooLong), false);
    assert.equal(isValidUserId(tooLong, { historical: true }), false);
  });

  it("counts bytes, not characters, for historical ids", () => {
    // "@" + 121 × "é" (2 bytes each) + ":example.org" = 1 + 242 + 12 = 255 bytes, 134 characters.
    const fits = `@${"é".repeat(121)}:example.org`;
    assert.equal(bytes(fits), 255);
    assert.ok(isValidUserId(fits, { historical: true }));
    const over = `@${"é".repeat(122)}:example.org`;
    assert.equal(bytes(over), 257);
    assert.ok(over.length < 255);
    assert.equal(isValidUserId(over, { historical: true }), false);
  });

  it("parseUserId splits at the first colon; the server name keeps its port", () => {
    assert.deepEqual(parseUserId("@alice:example.org"), { localpart: "alice", serverName: "example.org" });
    assert.deepEqual(parseUserId("@bob:[::1]:8448"), { localpart: "bob", serverName: "[::1]:8448" });
    assert.deepEqual(parseUserId("@:example.org", { historical: true }), { localpart: "", serverName: "example.org" });
    assert.deepEqual(parseUserId("@Bob:Example.org", { historical: true }), { localpart: "Bob", serverName: "Example.org" });
    assert.equal(parseUserId("@Bob:example.org"), null);
    assert.equal(parseUserId("!room:example.org"), null);
  });

  it("does not throw on non-strings", () => {
    assert.equal(isValidUserId(42 as unknown as string), false);
    assert.equal(parseUserId(null as unknown as string), null);
  });
});

describe("room ids (appendix: Room IDs)", () => {
  const hashId = "!Nhcu5BS-UMnFX7hBVfVSoXiD7OgH6iRT-xyIuqDnpYQ"; // the v12 PDU example

  it("accepts server-name room ids for versions 10 and 11 only", () => {
    for (const id of ["!abc:example.org", "!UcYsUzyxTGDxLBEvLy:example.org", "!x:[::1]:80", "!ünïcode:example.org"]) {
      assert.ok(isValidRoomId(id), id);
      assert.ok(isValidRoomId(id, { roomVersion: "10" }), id);
      assert.ok(isValidRoomId(id, { roomVersion: "11" }), id);
      assert.equal(isValidRoomId(id, { roomVersion: "12" }), false, id);
    }
  });

  it("accepts hash room ids (no server name) for version 12 only", () => {
    assert.ok(isValidRoomId(hashId));
    assert.ok(isValidRoomId(hashId, { roomVersion: "12" }));
    assert.equal(isValidRoomId(hashId, { roomVersion: "11" }), false);
    assert.equal(isValidRoomId(hashId.slice(0, -1), { roomVersion: "12" }), false);
    assert.equal(isValidRoomId(`${hashId}A`, { roomVersion: "12" }), false);
    assert.equal(isValidRoomId(hashId.replace("-", "+"), { roomVersion: "12" }), false);
  });

  it("refuses malformed room ids", () => {
    for (const bad of ["", "!", "!:example.org", "!abc", "abc:example.org", "$abc:example.org", "!a\u0000b:example.org", "!abc:bad host", "!\ud800:example.org"]) {
      assert.equal(isValidRoomId(bad), false, JSON.stringify(bad));
    }
    assert.equal(isValidRoomId("!abc:example.org", { roomVersion: "9" }), false);
  });

  it("allows exactly 255 bytes and refuses 256", () => {
    assert.ok(isValidRoomId(ofLength("!", ":example.org", 255)));
    assert.equal(isValidRoomId(ofLength("!", ":example.org", 256)), false);
  });
});

describe("room aliases (appendix: Room Aliases)", () => {
  it("accepts any non-surrogate localpart without `:` or NUL", () => {
    for (const a of ["#room:example.org", "#Room With Spaces:example.org", "#日本:example.org:8448", "#😀:[::1]"]) {
      assert.ok(isValidRoomAlias(a), a);
    }
  });

  it("refuses malformed aliases", () => {
    for (const bad of ["", "#", "#:example.org", "#room", "room:example.org", "@room:example.org", "#ro\u0000om:example.org", "#room:", "#room:bad_host", "#\udc00:example.org"]) {
      assert.equal(isValidRoomAlias(bad), false, JSON.stringify(bad));
    }
  });

  it("allows exactly 255 bytes and refuses 256", () => {
    assert.ok(isValidRoomAlias(ofLength("#", ":example.org", 255)));
    assert.equal(isValidRoomAlias(ofLength("#", ":example.org", 256)), false);
    assert.ok(isValidRoomAlias(`#${"é".repeat(121)}:example.org`));
    assert.equal(isValidRoomAlias(`#${"é".repeat(122)}:example.org`), false);
  });
});

describe("event ids (appendix: Event IDs)", () => {
  const v4 = "$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg"; // the v4 fragment's example

  it("accepts the hash form for every supported room version", () => {
    for (const v of ["10", "11", "12"]) assert.ok(isValidEventId(v4, { roomVersion: v }), v);
    assert.ok(isValidEventId(v4));
  });

  it("accepts older forms only without a room version", () => {
    for (const old of ["$143273582443PhrSn:example.org", "$LP7ROBc4b+cMc1UE9haIz8q5AK2AIW4eJ90FfKLvyZI"]) {
      assert.ok(isValidEventId(old), old);
      assert.equal(isValidEventId(old, { roomVersion: "11" }), false, old);
    }
  });

  it("refuses malformed event ids", () => {
    for (const bad of ["", "$", v4.slice(1), `!${v4.slice(1)}`, v4.slice(0, -1), `${v4}x`, "$abc", "$:example.org", `$${"a".repeat(43)}=`]) {
      assert.equal(isValidEventId(bad), false, bad);
    }
  });

  it("refuses event ids over 255 bytes", () => {
    assert.ok(isValidEventId(ofLength("$", ":example.org", 255)));
    assert.equal(isValidEventId(ofLength("$", ":example.org", 256)), false);
  });
});

describe("event types, state keys, device ids and generic grammars", () => {
  it("event types: non-empty, at most 255 bytes", () => {
    assert.ok(isValidEventType("m.room.message"));
    assert.ok(isValidEventType("com.example.thing with spaces"));
    assert.ok(isValidEventType("é".repeat(127)));
    assert.equal(isValidEventType("é".repeat(128)), false);
    assert.ok(isValidEventType("a".repeat(255)));
    assert.equal(isValidEventType("a".repeat(256)), false);
    assert.equal(isValidEventType(""), false);
    assert.equal(isValidEventType(null), false);
    assert.equal(isValidEventType("\ud800"), false);
  });

  it("state keys: any string up to 255 bytes, empty included", () => {
    assert.ok(isValidStateKey(""));
    assert.ok(isValidStateKey("@alice:example.org"));
    assert.ok(isValidStateKey("a".repeat(255)));
    assert.equal(isValidStateKey("a".repeat(256)), false);
    assert.equal(isValidStateKey(undefined), false);
  });

  it("device ids: OAuth scope characters, 1 to 255", () => {
    for (const ok of ["ABCDEFGHIJ", "a", "dev-1.2_3~", "!#$%&'()*+,-./:;<=>?@[]^_`{|}~", "x".repeat(255)]) {
      assert.ok(isValidDeviceId(ok), ok);
    }
    for (const bad of ["", "with space", 'quo"te', "back\\slash", "tab\t", "é", "x".repeat(256), 12]) {
      assert.equal(isValidDeviceId(bad), false, String(bad));
    }
  });

  it("opaque identifiers (appendix: Opaque Identifiers)", () => {
    assert.ok(isValidOpaqueId("abc-DEF.123_~"));
    assert.ok(isValidOpaqueId("x".repeat(255)));
    for (const bad of ["", "a b", "a/b", "a:b", "x".repeat(256)]) assert.equal(isValidOpaqueId(bad), false, bad);
  });

  it("common namespaced identifiers (appendix: Common Namespaced Identifier Grammar)", () => {
    for (const ok of ["m.login.password", "com.example.thing", "a", `a${"b".repeat(254)}`]) assert.ok(isValidNamespacedId(ok), ok);
    for (const bad of ["", "M.login", "1abc", ".abc", "m.Login", "a b", `a${"b".repeat(255)}`]) {
      assert.equal(isValidNamespacedId(bad), false, bad);
    }
  });
});
