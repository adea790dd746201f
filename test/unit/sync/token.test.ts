// Sync tokens are written with literals (no per-call arrays): they must still follow STREAMS.
import { test } from "node:test";
import assert from "node:assert/strict";
import { STREAMS, emptyToken, formatToken, parseToken } from "../../../src/sync/token.js";

test("tokens carry every stream, in STREAMS order, and read back", () => {
  assert.deepEqual(Object.keys(emptyToken()), [...STREAMS]);
  const t = emptyToken();
  STREAMS.forEach((s, i) => (t[s] = 10 + i));
  assert.equal(formatToken(t), `s${STREAMS.map((_, i) => 10 + i).join("_")}`);
  assert.deepEqual(parseToken(formatToken(t)), t);
  assert.equal(formatToken(parseToken("s7")), `s7${"_0".repeat(STREAMS.length - 1)}`);
});
