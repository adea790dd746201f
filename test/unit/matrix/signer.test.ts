// EventSigner: the signing thread gives exactly what signNewEvent gives on the main thread (same
// hashes, signature, event id and size), the same errors for content with no Canonical JSON form,
// and after close() events are still signed (on the main thread).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { signingKeyFromSeed, signNewEvent, verifyEventSignature } from "../../../src/matrix/signing.js";
import { EventSigner } from "../../../src/matrix/signer.js";
import { CanonicalJsonError } from "../../../src/matrix/canonical-json.js";

const key = signingKeyFromSeed("ed25519:t1", randomBytes(32));
const SERVER = "signer.test";

const event = (i: number, version: string) => ({
  room_id: "!r:signer.test",
  type: "m.room.message",
  sender: "@a:signer.test",
  content: { msgtype: "m.text", body: `message ${i} é 😀`, n: i },
  origin_server_ts: 1_700_000_000_000 + i,
  prev_events: [`$p${i}`],
  depth: i + 1,
  auth_events: ["$c", "$pl", "$m"],
  _v: version,
});

describe("EventSigner", () => {
  it("signs on its thread exactly as on the main thread, for many events at once", async () => {
    const signer = new EventSigner(SERVER, key);
    try {
      const versions = ["10", "11", "12"];
      const events = Array.from({ length: 60 }, (_, i) => {
        const { _v, ...e } = event(i, versions[i % 3]!);
        return { e, v: _v };
      });
      const off = await Promise.all(events.map(({ e, v }) => signer.sign(e, v, true)));
      events.forEach(({ e, v }, i) => {
        const here = signNewEvent(e, v, SERVER, key);
        assert.deepEqual(off[i], here);
        assert.equal(JSON.stringify(off[i]!.event), JSON.stringify(here.event), "same key order");
        assert.ok(verifyEventSignature(off[i]!.event, v, SERVER, key.keyId, key.publicKeyBase64));
      });
    } finally {
      await signer.close();
    }
  });

  it("throws the same CanonicalJsonError for a float, on its thread or not", async () => {
    const signer = new EventSigner(SERVER, key);
    try {
      const { _v, ...e } = event(1, "10");
      const bad = { ...e, content: { body: "x", amount: 1.5 } };
      let here: unknown;
      try {
        signNewEvent(bad, "10", SERVER, key);
      } catch (err) {
        here = err;
      }
      assert.ok(here instanceof CanonicalJsonError);
      await assert.rejects(signer.sign(bad, "10", true), (err: unknown) => err instanceof CanonicalJsonError && err.message === (here as Error).message);
      await assert.rejects(signer.sign(bad, "10", false), CanonicalJsonError);
    } finally {
      await signer.close();
    }
  });

  it("after close, events are still signed", async () => {
    const signer = new EventSigner(SERVER, key);
    const { _v, ...e } = event(2, "11");
    await signer.sign(e, "11", true);
    await signer.close();
    const r = await signer.sign(e, "11", true);
    assert.deepEqual(r, signNewEvent(e, "11", SERVER, key));
  });
});
