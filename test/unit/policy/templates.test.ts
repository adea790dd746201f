// Mail templates (src/policy/email/templates.ts): both languages carry the code and the link.
import assert from "node:assert/strict";
import { test } from "node:test";
import { invitationMail, renewalMail, validationMail } from "../../../src/policy/email/templates.js";
import { parseMail } from "../../helpers/smtp.js";

test("validation and renewal mails in French and English carry the code and the link", () => {
  for (const lang of ["fr", "en"] as const) {
    const v = validationMail(lang, { code: "123456", link: "https://h/x?token=123456", server: "s" });
    assert.match(v.subject, /123456/);
    assert.match(v.text, /https:\/\/h\/x\?token=123456/);
    const r = renewalMail(lang, { link: "https://h/renew?token=t", server: "s", expires: "2026-01-31" });
    assert.match(r.text, /2026-01-31/);
    assert.match(r.text, /renew\?token=t/);
    assert.match(invitationMail(lang, { inviter: "@a:s", server: "s" }).text, /@a:s/);
  }
  assert.match(validationMail("fr", { code: "1", link: "l", server: "s" }).text, /Bonjour/);
  assert.match(validationMail("en", { code: "1", link: "l", server: "s" }).text, /Hello/);
});

test("the test SMTP receiver decodes quoted-printable bodies and encoded subjects", () => {
  const raw = "Subject: =?UTF-8?Q?Votre_code_de_validation_:_123456?=\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nValid=C3=A9e token=3D42 long=\r\nline";
  assert.deepEqual(parseMail(raw), { subject: "Votre code de validation : 123456", text: "Validée token=42 longline" });
});
