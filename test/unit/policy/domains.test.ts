// Email → server mapping and the identity derived from an email (src/policy/domains.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { EmailMapper, derivedDisplayName, derivedLocalpart, normaliseEmail } from "../../../src/policy/domains.js";
import { isValidLocalpart } from "../../../src/matrix/identifiers.js";

const mapper = new EmailMapper(
  [
    { pattern: "^(.+\\.)?interieur\\.gouv\\.fr$", server: "agent.interieur.test" },
    { pattern: "gouv\\.fr$", server: "agent.tchap.test" },
    { pattern: "^old\\.example$", server: "agent.old.test", new_server: "agent.new.test" },
  ],
  "agent.externe.test",
);

test("rules are ordered: the first match wins", () => {
  assert.deepEqual(mapper.map("a@interieur.gouv.fr"), { hs: "agent.interieur.test", external: false });
  assert.deepEqual(mapper.map("a@police.interieur.gouv.fr"), { hs: "agent.interieur.test", external: false });
  assert.deepEqual(mapper.map("a@finances.gouv.fr"), { hs: "agent.tchap.test", external: false });
});

test("unmatched addresses go to the externals' server; moved addresses carry new_hs", () => {
  assert.deepEqual(mapper.map("a@company.example"), { hs: "agent.externe.test", external: true });
  assert.deepEqual(mapper.map("a@old.example"), { hs: "agent.old.test", new_hs: "agent.new.test", external: false });
  // Patterns match the domain, not the local part.
  assert.equal(mapper.map("interieur.gouv.fr@evil.example").external, true);
});

test("patterns match case-insensitively; an invalid pattern fails at construction", () => {
  assert.equal(new EmailMapper([{ pattern: "^EXAMPLE\\.ORG$", server: "x" }], "ext").map("a@example.org").hs, "x");
  assert.throws(() => new EmailMapper([{ pattern: "(", server: "x" }], "ext"), /policy\.email_rules/);
});

test("addresses are normalised; junk is refused", () => {
  assert.equal(normaliseEmail("  Jean.Dupont@Interieur.GOUV.fr "), "jean.dupont@interieur.gouv.fr");
  for (const bad of ["", "nope", "a@b", "a b@c.fr", "a@@c.fr", "@c.fr", "a@-c.fr", `${"x".repeat(65)}@c.fr`]) assert.equal(normaliseEmail(bad), undefined, bad);
});

test("derived localpart (Tchap's john.doe-example.com) is a valid localpart", () => {
  assert.equal(derivedLocalpart("john.doe@example.com"), "john.doe-example.com");
  const odd = derivedLocalpart("o'brien!x@example.com");
  assert.equal(odd, "o_brien_x-example.com");
  assert.ok(isValidLocalpart(odd));
});

test("derived display name: First Last [Organisation]", () => {
  assert.equal(derivedDisplayName("jean.dupont@interieur.gouv.fr"), "Jean Dupont [Interieur]");
  assert.equal(derivedDisplayName("jean-pierre.martin@finances.gouv.fr"), "Jean-Pierre Martin [Finances]");
  assert.equal(derivedDisplayName("marie_curie+tag@example.com"), "Marie Curie [Example]");
  assert.equal(derivedDisplayName("x@acme.example"), "X [Acme]");
});

test("invited addresses are masked in rooms: never the whole local part", async () => {
  const { maskEmail } = await import("../../../src/policy/policy.js");
  assert.equal(maskEmail("jean.dupont@company.example"), "jea…@company.example");
  assert.equal(maskEmail("bob@partner.example"), "bo…@partner.example");
  assert.equal(maskEmail("b@partner.example"), "b…@partner.example");
});
