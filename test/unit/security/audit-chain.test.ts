// The audit trail's record serialisation and hash are a stored format: `rempart audit verify`
// recomputes hashes of records written by earlier versions. These check the current code against
// the first implementation's (kept here as the reference), for every shape a record may take.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { canonicalRecord, recordHash } from "../../../src/security/audit/chain.js";

function referenceCanonical(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map(referenceCanonical).join(",")}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${referenceCanonical(o[k])}`).join(",")}}`;
}
const referenceHash = (prev: string, seq: number, ts: number, kind: string, data: string) =>
  createHash("sha256").update(`${prev}\n${seq}\n${ts}\n${kind}\n${data}`, "utf8").digest("base64url");

const records: unknown[] = [
  {},
  { s: 12, e: "sync", r: "!room:rempart.test", n: 1, i: "$ev" },
  { s: 3, e: "messages", rs: { "!b:x": [2, 1], "!a:x": [0] }, n: 2, h: 5 },
  { e: "login", x: "allow", u: "@alice:rempart.test", skipped: undefined, ua: "Mozilla/5.0 \"quoted\" \\ back\nslash" },
  { ids: ["$1", "$2", "$3"], empty: [], nested: { z: { b: 1, a: [1, { d: 2, c: undefined }] } } },
  { "é": "ünïcödé ✓ 𝄞", "\u0000": "nul\u0000", "a\"b": 1, "10": 2, "9": 3, B: 4, a: 5 },
  { lone: "\ud800 high alone", neg: -1.5, big: 2 ** 53 - 1, zero: 0, t: true, f: false, nil: null },
  [1, "two", null, [], {}],
  "a string",
  42,
  null,
];

test("canonicalRecord: the same text as the reference for every shape of record", () => {
  for (const r of records) assert.equal(canonicalRecord(r), referenceCanonical(r), JSON.stringify(r));
  // Keys in code-unit order, undefined left out, no whitespace.
  assert.equal(canonicalRecord({ b: 1, a: undefined, A: [2, { y: 1, x: 2 }] }), '{"A":[2,{"x":2,"y":1}],"b":1}');
});

test("recordHash: the same digest as the reference (UTF-8, lone surrogates included)", () => {
  let prev = "";
  for (const [i, r] of records.entries()) {
    const data = canonicalRecord(r);
    const h = recordHash(prev, i + 1, 1_700_000_000_000 + i, "read", data);
    assert.equal(h, referenceHash(prev, i + 1, 1_700_000_000_000 + i, "read", data));
    prev = h;
  }
});
