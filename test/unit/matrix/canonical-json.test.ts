import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  canonicalJson,
  canonicalJsonBytes,
  CanonicalJsonError,
  compareCodePoints,
  MAX_CANONICAL_JSON_DEPTH,
} from "../../../src/matrix/canonical-json.js";

/** Parses like a server receiving JSON, then encodes. */
const fromText = (text: string): string => canonicalJson(JSON.parse(text));

describe("canonicalJson: the appendix examples (Signing JSON › Canonical JSON › Examples)", () => {
  const examples: Array<[string, string]> = [
    ["{}", "{}"],
    ['{\n    "one": 1,\n    "two": "Two"\n}', '{"one":1,"two":"Two"}'],
    ['{\n    "b": "2",\n    "a": "1"\n}', '{"a":"1","b":"2"}'],
    ['{"b":"2","a":"1"}', '{"a":"1","b":"2"}'],
    [
      `{
        "auth": {
          "success": true,
          "mxid": "@john.doe:example.com",
          "profile": {
            "display_name": "John Doe",
            "three_pids": [
              { "medium": "email", "address": "john.doe@example.org" },
              { "medium": "msisdn", "address": "123456789" }
            ]
          }
        }
      }`,
      '{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}',
    ],
    ['{\n    "a": "日本語"\n}', '{"a":"日本語"}'],
    ['{\n    "本": 2,\n    "日": 1\n}', '{"日":1,"本":2}'],
    ['{\n    "a": "\\u65E5"\n}', '{"a":"日"}'],
    ['{\n    "a": null\n}', '{"a":null}'],
    ['{\n    "a": -0,\n    "b": 1e10\n}', '{"a":0,"b":10000000000}'],
  ];
  for (const [input, expected] of examples) {
    it(`encodes ${JSON.stringify(input.replace(/\s+/g, " ").slice(0, 50))}`, () => {
      assert.equal(fromText(input), expected);
    });
  }

  it("produces UTF-8 bytes, not \\u escapes, for non-ASCII", () => {
    const bytes = canonicalJsonBytes({ a: "日本語" });
    assert.deepEqual(bytes, Buffer.from('{"a":"日本語"}', "utf8"));
    assert.equal(bytes.length, 8 + 9); // 8 ASCII bytes + three 3-byte characters
  });
});

describe("canonicalJson: scalars and containers", () => {
  it("encodes every JSON type with no insignificant whitespace", () => {
    assert.equal(canonicalJson(null), "null");
    assert.equal(canonicalJson(true), "true");
    assert.equal(canonicalJson(false), "false");
    assert.equal(canonicalJson(0), "0");
    assert.equal(canonicalJson(-0), "0");
    assert.equal(canonicalJson(-17), "-17");
    assert.equal(canonicalJson(""), '""');
    assert.equal(canonicalJson([]), "[]");
    assert.equal(canonicalJson([1, [2, [3, {}]], "x"]), '[1,[2,[3,{}]],"x"]');
    assert.equal(canonicalJson({ b: [{ d: 1, c: 2 }], a: { z: null, y: false } }), '{"a":{"y":false,"z":null},"b":[{"c":2,"d":1}]}');
  });

  it("keeps array order (only object keys are sorted)", () => {
    assert.equal(canonicalJson(["b", "a", 2, 1]), '["b","a",2,1]');
  });

  it("omits undefined object members, like JSON.stringify", () => {
    assert.equal(canonicalJson({ a: 1, b: undefined, c: { d: undefined } }), '{"a":1,"c":{}}');
  });

  it("refuses undefined where JSON would have to invent a value", () => {
    assert.throws(() => canonicalJson(undefined), CanonicalJsonError);
    assert.throws(() => canonicalJson([1, undefined]), CanonicalJsonError);
  });

  it("refuses functions, symbols and non-plain objects", () => {
    assert.throws(() => canonicalJson({ f: () => 1 }), CanonicalJsonError);
    assert.throws(() => canonicalJson({ s: Symbol("x") }), CanonicalJsonError);
    assert.throws(() => canonicalJson({ d: new Date(0) }), /Date objects cannot be encoded/);
    assert.throws(() => canonicalJson({ b: Buffer.from("x") }), CanonicalJsonError);
    assert.throws(() => canonicalJson(new Map([["a", 1]])), CanonicalJsonError);
    class Thing {
      a = 1;
    }
    assert.throws(() => canonicalJson(new Thing()), /Thing objects/);
  });

  it("accepts null-prototype objects", () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.b = 1;
    o.a = 2;
    assert.equal(canonicalJson(o), '{"a":2,"b":1}');
  });

  it("keeps an own __proto__ key received from JSON as an ordinary key", () => {
    assert.equal(fromText('{"__proto__":{"x":1},"a":1}'), '{"__proto__":{"x":1},"a":1}');
  });

  it("accepts bigints within range and refuses them outside", () => {
    assert.equal(canonicalJson({ n: 9007199254740991n }), '{"n":9007199254740991}');
    assert.throws(() => canonicalJson({ n: 9007199254740992n }), CanonicalJsonError);
    assert.throws(() => canonicalJson({ n: -9007199254740992n }), CanonicalJsonError);
  });

  it("is stable: re-encoding its own output gives the same bytes", () => {
    const value = { z: [1, { y: "é\n", x: -5 }], "": true, a: { "😀": null, "": 0 } };
    const once = canonicalJson(value);
    assert.equal(fromText(once), once);
    assert.deepEqual(JSON.parse(once), value);
  });
});

describe("canonicalJson: numbers", () => {
  const MAX = 2 ** 53 - 1;

  it("accepts the extreme integers of the allowed range", () => {
    assert.equal(canonicalJson(MAX), "9007199254740991");
    assert.equal(canonicalJson(-MAX), "-9007199254740991");
  });

  it("refuses integers one past either end of the range", () => {
    assert.throws(() => canonicalJson(2 ** 53), CanonicalJsonError);
    assert.throws(() => canonicalJson(-(2 ** 53)), CanonicalJsonError);
    assert.throws(() => canonicalJson({ big: 1e300 }), /outside the Canonical JSON integer range/);
  });

  it("refuses floats, naming where they are", () => {
    assert.throws(() => canonicalJson(1.5), CanonicalJsonError);
    assert.throws(() => canonicalJson({ content: { ts: 0.1 } }), (e: unknown) => {
      assert.ok(e instanceof CanonicalJsonError);
      assert.match(e.message, /\$\.content\.ts/);
      assert.match(e.message, /float/);
      return true;
    });
    assert.throws(() => canonicalJson([1, 2, 3.25]), /\$\[2\]/);
    assert.throws(() => fromText('{"a":1.0e-1}'), CanonicalJsonError);
  });

  it("writes integral values written with exponents or fractions as plain integers", () => {
    // JSON.parse turns 1.0 and 1e2 into the same numbers as 1 and 100: nothing distinguishes them.
    assert.equal(fromText('{"a":1.0,"b":1E2}'), '{"a":1,"b":100}');
  });

  it("refuses NaN and the infinities", () => {
    assert.throws(() => canonicalJson(Number.NaN), CanonicalJsonError);
    assert.throws(() => canonicalJson(Number.POSITIVE_INFINITY), CanonicalJsonError);
    assert.throws(() => canonicalJson({ x: Number.NEGATIVE_INFINITY }), CanonicalJsonError);
  });
});

describe("canonicalJson: strings and escapes", () => {
  it("escapes control characters with the short forms, or lowercase \\u00XX", () => {
    const short: Record<number, string> = { 0x08: "\\b", 0x09: "\\t", 0x0a: "\\n", 0x0c: "\\f", 0x0d: "\\r" };
    for (let c = 0; c < 0x20; c++) {
      const expected = short[c] ?? `\\u00${c.toString(16).padStart(2, "0")}`;
      assert.equal(canonicalJson(String.fromCharCode(c)), `"${expected}"`, `U+${c.toString(16)}`);
    }
    assert.equal(canonicalJson("\u001f\u000b"), '"\\u001f\\u000b"');
  });

  it("escapes only the quote and the backslash among printable ASCII", () => {
    assert.equal(canonicalJson('"'), '"\\""');
    assert.equal(canonicalJson("\\"), '"\\\\"');
    let printable = "";
    for (let c = 0x20; c < 0x7f; c++) if (c !== 0x22 && c !== 0x5c) printable += String.fromCharCode(c);
    assert.equal(canonicalJson(printable), `"${printable}"`);
    assert.equal(canonicalJson("a/b"), '"a/b"'); // no redundant \/
  });

  it("emits DEL, U+2028/U+2029, BOM and astral characters verbatim", () => {
    const s = "\u007f\u2028\u2029\ufeff😀\u{10ffff}";
    assert.equal(canonicalJson(s), `"${s}"`);
  });

  it("does not normalise Unicode: a non-NFC string round-trips unchanged", () => {
    const decomposed = "e\u0301"; // NFC would be U+00E9
    const angstrom = "\u212b"; // NFC would be U+00C5
    assert.notEqual(decomposed.normalize("NFC"), decomposed);
    const out = canonicalJson({ [decomposed]: angstrom });
    assert.equal(out, `{"${decomposed}":"${angstrom}"}`);
    assert.deepEqual(JSON.parse(out), { [decomposed]: angstrom });
    assert.deepEqual(canonicalJsonBytes(decomposed), Buffer.from([0x22, 0x65, 0xcc, 0x81, 0x22]));
  });

  it("refuses lone surrogates, which have no UTF-8 encoding", () => {
    assert.throws(() => canonicalJson("\ud800"), CanonicalJsonError);
    assert.throws(() => canonicalJson("a\udc00b"), CanonicalJsonError);
    assert.throws(() => canonicalJson("\ude00\ud83d"), CanonicalJsonError); // pair in the wrong order
    assert.throws(() => canonicalJson({ "\ud83d": 1 }), /key contains a lone/);
    assert.equal(canonicalJson("\ud83d\ude00"), '"😀"');
  });
});

describe("canonicalJson: key order is by Unicode code point", () => {
  it("sorts astral characters after U+E000–U+FFFF, unlike JavaScript's default sort", () => {
    const keys = ["\u{1f600}", "\ue000", "a", "\uffff", "\u{10000}"];
    // The trap this guards against: UTF-16 code-unit order puts surrogates (0xD8xx) first.
    assert.deepEqual([...keys].sort(), ["a", "\u{10000}", "\u{1f600}", "\ue000", "\uffff"]);
    const value = Object.fromEntries(keys.map((k, i) => [k, i]));
    // Expected output produced independently with Python's json.dumps(sort_keys=True, ensure_ascii=False).
    assert.equal(canonicalJson(value), '{"a":2,"\ue000":1,"\uffff":3,"\u{10000}":4,"\u{1f600}":0}');
  });

  it("orders prefixes first and compares code points, not UTF-8 or locale", () => {
    assert.equal(canonicalJson({ ab: 1, a: 2, B: 3, b: 4, é: 5, z: 6 }), '{"B":3,"a":2,"ab":1,"b":4,"z":6,"é":5}');
  });

  it("compareCodePoints agrees with comparing code point arrays", () => {
    const samples = ["", "a", "ab", "\ud7ff", "\ue000", "\uffff", "\u{10000}", "\u{1f600}", "\u{10ffff}", "a\u{1f600}", "a\uffff"];
    const byArrays = (x: string, y: string): number => {
      const a = [...x].map((c) => c.codePointAt(0) as number);
      const b = [...y].map((c) => c.codePointAt(0) as number);
      for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
      return a.length - b.length;
    };
    for (const x of samples) {
      for (const y of samples) {
        assert.equal(Math.sign(compareCodePoints(x, y)), Math.sign(byArrays(x, y)), `${JSON.stringify(x)} vs ${JSON.stringify(y)}`);
      }
    }
  });
});

describe("canonicalJson: nesting guard", () => {
  const nest = (levels: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { k: v };
    return v;
  };

  it(`accepts ${MAX_CANONICAL_JSON_DEPTH} levels of nesting`, () => {
    assert.doesNotThrow(() => canonicalJson(nest(MAX_CANONICAL_JSON_DEPTH)));
  });

  it("refuses one level more with a CanonicalJsonError", () => {
    assert.throws(() => canonicalJson(nest(MAX_CANONICAL_JSON_DEPTH + 1)), /nesting deeper than/);
  });

  it("refuses absurd depth cleanly instead of overflowing the stack", () => {
    const text = "[".repeat(100_000) + "]".repeat(100_000);
    assert.throws(() => fromText(text), CanonicalJsonError);
  });

  it("refuses cyclic structures with a CanonicalJsonError", () => {
    const a: Record<string, unknown> = {};
    a.self = a;
    assert.throws(() => canonicalJson(a), CanonicalJsonError);
  });

  it("keeps error messages short even with huge keys", () => {
    const key = "k".repeat(10_000);
    assert.throws(
      () => canonicalJson({ [key]: 0.5 }),
      (e: unknown) => e instanceof CanonicalJsonError && e.message.length < 400,
    );
  });
});
