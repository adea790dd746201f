// The NIST SP 800-63B-4 password policy: length floors, no composition rules, breached list, context words.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PasswordPolicy, commonPasswords } from "../../src/security/password-policy.js";

const policy = new PasswordPolicy({ password_min_length: 15, password_min_length_with_mfa: 8, password_context_words: ["rempart", "ministere"] }, "example.gouv.fr");
const weak = (p: string, ctx: Parameters<PasswordPolicy["check"]>[1] = { mfa: false }) =>
  assert.throws(() => policy.check(p, ctx), (e: { errcode?: string; status?: number }) => e.errcode === "M_WEAK_PASSWORD" && e.status === 400, p);
const ok = (p: string, ctx: Parameters<PasswordPolicy["check"]>[1] = { mfa: false }) => assert.doesNotThrow(() => policy.check(p, ctx), p);

test("the shipped breached-password list has at least 100,000 entries and finds common ones", () => {
  const list = commonPasswords();
  assert.ok(list.size >= 100_000, `${list.size}`);
  for (const p of ["123456", "password", "qwerty", "iloveyou", "trustno1", "letmein"]) assert.ok(list.has(p), p);
  assert.ok(!list.has("violet-harbour-quantum-teapot"));
});

test("length: 15 as the only factor, 8 with a second factor; at least 64 accepted; no composition rules", () => {
  weak("short pass 12");
  ok("correct horse battery staple");
  ok("tenletters-x", { mfa: true });
  weak("seven77", { mfa: true });
  ok("a".repeat(1) + "bcdefghij".repeat(7) + "!");
  ok("alllowercaseletterswithoutdigits");
  // Unicode counts characters, not bytes.
  ok("été à la plage, très calme");
});

test("breached passwords are refused even when long enough, case-insensitively", () => {
  weak("PASSWORD", { mfa: true });
  weak("iloveyou", { mfa: true });
  weak("123456789012345");
  weak("qwertyuiopasdfghjkl");
});

test("repetitive passwords and passwords built from context words are refused", () => {
  weak("aaaaaaaaaaaaaaaaaaaa");
  weak("abababababababababab");
  weak("rempart2026rempart!!");
  weak("ministere-rempart-1");
  weak("alice.martin.alice.martin", { localpart: "alice.martin", mfa: false });
  weak("Alice Martin 2026 !!!", { displayname: "Alice Martin", mfa: false });
  weak("example.gouv.fr-2026!");
  // Containing a context word is fine when enough remains.
  ok("alice likes green tea in winter", { localpart: "alice", mfa: false });
});
