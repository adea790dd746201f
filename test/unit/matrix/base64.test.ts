import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeBase64, encodeUnpaddedBase64, encodeUnpaddedUrlSafeBase64 } from "../../../src/matrix/base64.js";

describe("encodeUnpaddedBase64 (appendix: Unpadded Base64)", () => {
  const examples: Array<[string, string]> = [
    ["", ""],
    ["f", "Zg"],
    ["fo", "Zm8"],
    ["foo", "Zm9v"],
    ["foob", "Zm9vYg"],
    ["fooba", "Zm9vYmE"],
    ["foobar", "Zm9vYmFy"],
  ];
  for (const [input, expected] of examples) {
    it(`UNPADDED_BASE64(${JSON.stringify(input)}) = ${JSON.stringify(expected)}`, () => {
      assert.equal(encodeUnpaddedBase64(Buffer.from(input)), expected);
    });
  }

  it("uses the standard alphabet's + and /", () => {
    assert.equal(encodeUnpaddedBase64(Uint8Array.from([0xfb, 0xff])), "+/8");
  });

  it("encodes exactly the viewed bytes of a Uint8Array slice", () => {
    const backing = Uint8Array.from([1, 2, 0x66, 0x6f, 0x6f, 3]);
    assert.equal(encodeUnpaddedBase64(backing.subarray(2, 5)), "Zm9v");
  });
});

describe("encodeUnpaddedUrlSafeBase64 (appendix: URL-safe unpadded Base64)", () => {
  it("uses - and _ instead of + and /, without padding", () => {
    assert.equal(encodeUnpaddedUrlSafeBase64(Uint8Array.from([0xfb, 0xff])), "-_8");
    assert.equal(encodeUnpaddedUrlSafeBase64(Buffer.from("f")), "Zg");
  });
});

describe("decodeBase64", () => {
  it("accepts unpadded and padded standard Base64", () => {
    for (const s of ["Zm9vYg", "Zm9vYg=="]) assert.equal(decodeBase64(s).toString(), "foob");
    for (const s of ["Zm9vYmE", "Zm9vYmE="]) assert.equal(decodeBase64(s).toString(), "fooba");
    assert.equal(decodeBase64("").length, 0);
  });

  it("accepts the URL-safe alphabet, padded or not", () => {
    assert.deepEqual(decodeBase64("-_8"), Buffer.from([0xfb, 0xff]));
    assert.deepEqual(decodeBase64("-_8="), Buffer.from([0xfb, 0xff]));
    assert.deepEqual(decodeBase64("+/8"), Buffer.from([0xfb, 0xff]));
  });

  it("accepts non-zero trailing bits, as in the spec's own test seed", () => {
    const seed = decodeBase64("YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1");
    assert.equal(seed.length, 32);
    assert.deepEqual(decodeBase64("Zh"), decodeBase64("Zg"));
  });

  it("refuses what Node's lenient decoder would silently skip", () => {
    for (const bad of ["Zm9v!", "Zm 9v", "Zm9v\n", "Zm9v Yg", "Zm9v.", "é"]) {
      assert.throws(() => decodeBase64(bad), /invalid base64/, JSON.stringify(bad));
    }
  });

  it("refuses mixed alphabets", () => {
    assert.throws(() => decodeBase64("a+b-"), /invalid base64/);
  });

  it("refuses impossible lengths and misplaced or excess padding", () => {
    for (const bad of ["Z", "Zm9vY", "Zg=", "Zg===", "Zm9v=", "Z=g=", "=", "==", "Zm8==", "Zg==Zg=="]) {
      assert.throws(() => decodeBase64(bad), /invalid base64/, JSON.stringify(bad));
    }
  });

  it("round-trips random bytes through both encodings", () => {
    for (let n = 0; n < 70; n++) {
      const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 151 + n * 37) & 0xff));
      assert.deepEqual(decodeBase64(encodeUnpaddedBase64(bytes)), bytes);
      assert.deepEqual(decodeBase64(encodeUnpaddedUrlSafeBase64(bytes)), bytes);
      assert.deepEqual(decodeBase64(bytes.toString("base64")), bytes);
    }
  });
});
