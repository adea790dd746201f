import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeBase64, encodeUnpaddedBase64 } from "../../../src/matrix/base64.js";
import { checkContentHash, computeContentHash } from "../../../src/matrix/hashes.js";
import { redactEvent } from "../../../src/matrix/redaction.js";
import { eventIdFor } from "../../../src/matrix/event-id.js";
import { canonicalJson } from "../../../src/matrix/canonical-json.js";
import {
  generateSigningKey,
  parseSigningKey,
  parseSigningKeys,
  publicKeyFromBase64,
  serializeSigningKey,
  signEvent,
  signNewEvent,
  signingKeyFromSeed,
  signJson,
  verifyEventSignature,
  verifyJsonSignature,
} from "../../../src/matrix/signing.js";

// Appendix "Cryptographic Test Vectors".
const SEED_B64 = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1";
const SERVER_NAME = "domain";
const KEY_ID = "ed25519:1";
const key = signingKeyFromSeed(KEY_ID, decodeBase64(SEED_B64));
// Derived from the seed by Node; correct because signatures made with the same private key match
// the spec's vectors byte for byte, and verify with this public key below.
const PUBLIC_KEY = "XGX0JRS2Af3be3knz2fBiRbApjm2Dh61gXDJA8kcJNI";

const SIG_EMPTY = "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ";
const SIG_ONE_TWO = "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw";

const minimalEvent = () => ({
  room_id: "!x:domain",
  sender: "@a:domain",
  origin: "domain",
  origin_server_ts: 1000000,
  signatures: {},
  hashes: {},
  type: "X",
  content: {},
  prev_events: [],
  auth_events: [],
  depth: 3,
  unsigned: { age_ts: 1000000 },
});

const messageEvent = () => ({
  content: { body: "Here is the message content" },
  event_id: "$0:domain",
  origin: "domain",
  origin_server_ts: 1000000,
  type: "m.room.message",
  room_id: "!r:domain",
  sender: "@u:domain",
  signatures: {},
  unsigned: { age_ts: 1000000 },
});

describe("signing keys", () => {
  it("derives the key pair from the spec's seed", () => {
    assert.equal(key.keyId, KEY_ID);
    assert.equal(key.seed.length, 32);
    assert.equal(key.publicKeyBase64, PUBLIC_KEY);
    assert.equal(key.privateKey.asymmetricKeyType, "ed25519");
    assert.equal(key.publicKey.asymmetricKeyType, "ed25519");
  });

  it("generates random keys with Synapse-style ids", () => {
    const a = generateSigningKey();
    const b = generateSigningKey();
    assert.match(a.keyId, /^ed25519:a_[A-Za-z0-9]{6}$/);
    assert.notEqual(a.keyId, b.keyId);
    assert.notDeepEqual(a.seed, b.seed);
    assert.equal(decodeBase64(a.publicKeyBase64).length, 32);
    assert.equal(generateSigningKey("v2").keyId, "ed25519:v2");
  });

  it("refuses malformed key ids and seeds", () => {
    const seed = Buffer.alloc(32, 7);
    for (const bad of ["1", "ed25519:", "ed25519:a-b", "ed25519:a:b", "curve25519:1", "ed25519:a b", "ed25519:é"]) {
      assert.throws(() => signingKeyFromSeed(bad, seed), /invalid signing key id/, bad);
    }
    assert.throws(() => signingKeyFromSeed("ed25519:1", Buffer.alloc(31)), /32 bytes/);
    assert.throws(() => generateSigningKey("no-dashes"), /invalid signing key id/);
  });

  it("does not share the caller's seed buffer", () => {
    const seed = Buffer.alloc(32, 9);
    const k = signingKeyFromSeed("ed25519:x", seed);
    seed.fill(0);
    assert.deepEqual(k.seed, Buffer.alloc(32, 9));
  });
});

describe("Synapse signing-key file format", () => {
  it("serialises as `ed25519 <version> <unpadded seed>`", () => {
    assert.equal(serializeSigningKey(key), `ed25519 1 ${encodeUnpaddedBase64(key.seed)}\n`);
    assert.doesNotMatch(serializeSigningKey(key), /=/);
  });

  it("parses the spec's seed and signs exactly as the spec expects", () => {
    const parsed = parseSigningKey(`ed25519 1 ${SEED_B64}\n`);
    assert.equal(parsed.keyId, KEY_ID);
    assert.equal(parsed.publicKeyBase64, PUBLIC_KEY);
    assert.equal(signJson({}, SERVER_NAME, parsed).signatures.domain?.[KEY_ID], SIG_EMPTY);
  });

  it("round-trips a generated key", () => {
    const k = generateSigningKey();
    const back = parseSigningKey(serializeSigningKey(k));
    assert.equal(back.keyId, k.keyId);
    assert.deepEqual(back.seed, k.seed);
    assert.equal(back.publicKeyBase64, k.publicKeyBase64);
  });

  it("tolerates blank lines, CRLF, padding and several keys", () => {
    const k2 = generateSigningKey("b_2");
    const text = `\r\n  ed25519 1 ${key.seed.toString("base64")}  \r\n\r\n${serializeSigningKey(k2)}\n`;
    const keys = parseSigningKeys(text);
    assert.deepEqual(
      keys.map((k) => k.keyId),
      ["ed25519:1", "ed25519:b_2"],
    );
    assert.equal(keys[0]?.publicKeyBase64, PUBLIC_KEY);
  });

  it("refuses malformed files without echoing the secret", () => {
    const seed = encodeUnpaddedBase64(Buffer.alloc(32, 1));
    const cases: Array<[string, RegExp]> = [
      ["", /no key/],
      ["\n\n", /no key/],
      [`ed25519 1`, /line 1: expected/],
      [`ed25519 1 ${seed} extra`, /line 1: expected/],
      [`rsa 1 ${seed}`, /unsupported algorithm/],
      [`ed25519 1 ${encodeUnpaddedBase64(Buffer.alloc(16, 1))}`, /32 bytes/],
      [`ed25519 1 ${seed.slice(0, -1)}!`, /not valid base64/],
      [`\ned25519 a-b ${seed}`, /line 2: invalid key version/],
    ];
    for (const [text, expected] of cases) {
      assert.throws(
        () => parseSigningKey(text),
        (e: unknown) => {
          assert.ok(e instanceof Error);
          assert.match(e.message, expected);
          assert.ok(!e.message.includes(seed.slice(0, 20)), "the error message must not contain the seed");
          return true;
        },
        JSON.stringify(text),
      );
    }
  });
});

describe("signJson (appendix: Signing JSON, JSON Signing test vectors)", () => {
  it("signs the empty object as the spec says", () => {
    assert.deepEqual(signJson({}, SERVER_NAME, key), { signatures: { domain: { [KEY_ID]: SIG_EMPTY } } });
  });

  it("signs an object with data as the spec says", () => {
    assert.deepEqual(signJson({ one: 1, two: "Two" }, SERVER_NAME, key), {
      one: 1,
      signatures: { domain: { [KEY_ID]: SIG_ONE_TWO } },
      two: "Two",
    });
  });

  it("leaves `unsigned` out of the signature but keeps it on the result", () => {
    const signed = signJson({ one: 1, two: "Two", unsigned: { age_ts: 5 } }, SERVER_NAME, key);
    assert.deepEqual(signed.unsigned, { age_ts: 5 });
    assert.equal(signed.signatures.domain?.[KEY_ID], SIG_ONE_TWO);
  });

  it("merges into existing signatures without disturbing them", () => {
    const k2 = generateSigningKey("two");
    const input: { one: number; two: string; signatures: Record<string, Record<string, string>> } = {
      one: 1,
      two: "Two",
      signatures: { "other.example": { "ed25519:x": "sig" }, domain: { "ed25519:old": "oldsig" } },
    };
    const signed = signJson(signJson(input, SERVER_NAME, key), SERVER_NAME, k2);
    assert.deepEqual(Object.keys(signed.signatures).sort(), ["domain", "other.example"]);
    assert.equal(signed.signatures["other.example"]?.["ed25519:x"], "sig");
    assert.equal(signed.signatures.domain?.["ed25519:old"], "oldsig");
    assert.equal(signed.signatures.domain?.[KEY_ID], SIG_ONE_TWO);
    assert.ok(verifyJsonSignature(signed, SERVER_NAME, "ed25519:two", k2.publicKeyBase64));
    assert.ok(verifyJsonSignature(signed, SERVER_NAME, KEY_ID, PUBLIC_KEY));
  });

  it("does not mutate its input", () => {
    const input = { a: 1, signatures: { s: { "ed25519:k": "v" } }, unsigned: { u: 1 } };
    const before = structuredClone(input);
    signJson(input, "s", key);
    assert.deepEqual(input, before);
  });

  it("treats a hostile signing name as data", () => {
    const signed = signJson({ a: 1 }, "__proto__", key) as Record<string, unknown>;
    const sigs = signed.signatures as Record<string, unknown>;
    assert.ok(Object.hasOwn(sigs, "__proto__"));
    assert.equal(Object.getPrototypeOf(sigs), Object.prototype);
    assert.ok(verifyJsonSignature(signed, "__proto__", KEY_ID, PUBLIC_KEY));
  });

  it("throws a CanonicalJsonError for objects that have no canonical form", () => {
    assert.throws(() => signJson({ x: 1.5 }, SERVER_NAME, key), { name: "CanonicalJsonError" });
  });
});

describe("verifyJsonSignature (appendix: Checking for a Signature)", () => {
  const signedOneTwo = () => ({ one: 1, signatures: { domain: { [KEY_ID]: SIG_ONE_TWO } }, two: "Two" });

  it("accepts the spec's signed objects", () => {
    assert.ok(verifyJsonSignature({ signatures: { domain: { [KEY_ID]: SIG_EMPTY } } }, SERVER_NAME, KEY_ID, PUBLIC_KEY));
    assert.ok(verifyJsonSignature(signedOneTwo(), SERVER_NAME, KEY_ID, PUBLIC_KEY));
  });

  it("ignores `unsigned` and other entities' signatures", () => {
    const o = { ...signedOneTwo(), unsigned: { anything: [1, 2] } };
    o.signatures = { ...o.signatures, ...{ "other.example": { "ed25519:z": "zzz" } } };
    assert.ok(verifyJsonSignature(o, SERVER_NAME, KEY_ID, PUBLIC_KEY));
  });

  it("accepts padded Base64 signatures and keys", () => {
    const o = { one: 1, signatures: { domain: { [KEY_ID]: `${SIG_ONE_TWO}==` } }, two: "Two" };
    assert.ok(verifyJsonSignature(o, SERVER_NAME, KEY_ID, `${PUBLIC_KEY}=`));
  });

  it("rejects tampered objects", () => {
    assert.equal(verifyJsonSignature({ ...signedOneTwo(), one: 2 }, SERVER_NAME, KEY_ID, PUBLIC_KEY), false);
    assert.equal(verifyJsonSignature({ ...signedOneTwo(), three: 3 }, SERVER_NAME, KEY_ID, PUBLIC_KEY), false);
    const { two: _two, ...missing } = signedOneTwo();
    assert.equal(verifyJsonSignature(missing, SERVER_NAME, KEY_ID, PUBLIC_KEY), false);
    // Same characters, different Unicode normalisation: a different object.
    const a = signJson({ name: "e\u0301" }, SERVER_NAME, key);
    assert.equal(verifyJsonSignature({ ...a, name: "\u00e9" }, SERVER_NAME, KEY_ID, PUBLIC_KEY), false);
  });

  it("rejects another key's signature", () => {
    const other = generateSigningKey();
    assert.equal(verifyJsonSignature(signedOneTwo(), SERVER_NAME, KEY_ID, other.publicKeyBase64), false);
  });

  it("returns false, never throws, on malformed input", () => {
    const flipped = Buffer.from(decodeBase64(SIG_ONE_TWO));
    flipped[0] = (flipped[0] as number) ^ 1;
    const withSig = (sig: unknown) => ({ one: 1, two: "Two", signatures: { domain: { [KEY_ID]: sig } } });
    const cases: Array<[string, unknown, string, string, string]> = [
      ["wrong entity", signedOneTwo(), "elsewhere", KEY_ID, PUBLIC_KEY],
      ["wrong key id", signedOneTwo(), SERVER_NAME, "ed25519:2", PUBLIC_KEY],
      ["unknown algorithm", { one: 1, two: "Two", signatures: { domain: { "curve25519:1": SIG_ONE_TWO } } }, SERVER_NAME, "curve25519:1", PUBLIC_KEY],
      ["flipped bit", withSig(encodeUnpaddedBase64(flipped)), SERVER_NAME, KEY_ID, PUBLIC_KEY],
      ["truncated signature", withSig(SIG_ONE_TWO.slice(0, 40)), SERVER_NAME, KEY_ID, PUBLIC_KEY],
      ["signature too long", withSig(`${SIG_ONE_TWO}AAAA`), SERVER_NAME, KEY_ID, PUBLIC_KEY],
      ["bad base64 signature", withSig(`${SIG_ONE_TWO.slice(0, -2)}!!`), SERVER_NAME, KEY_ID, PUBLIC_KEY],
      ["empty signature", withSig(""), SERVER_NAME, KEY_ID, PUBLIC_KEY],
      ["numeric signature", withSig(12), SERVER_NAME, KEY_ID, PUBLIC_KEY],
      ["null signature", withSig(null), SERVER_NAME, KEY_ID, PUBLIC_KEY],
      ["signatures is a string", { one: 1, signatures: "x" }, SERVER_NAME, KEY_ID, PUBLIC_KEY],
      ["signatures is an array", { one: 1, signatures: [] }, SERVER_NAME, KEY_ID, PUBLIC_KEY],
      ["entity entry is an array", { one: 1, signatures: { domain: [SIG_ONE_TWO] } }, SERVER_NAME, KEY_ID, PUBLIC_KEY],
      ["no signatures", { one: 1, two: "Two" }, SERVER_NAME, KEY_ID, PUBLIC_KEY],
      ["object is null", null, SERVER_NAME, KEY_ID, PUBLIC_KEY],
      ["object is an array", [signedOneTwo()], SERVER_NAME, KEY_ID, PUBLIC_KEY],
      ["object is a string", JSON.stringify(signedOneTwo()), SERVER_NAME, KEY_ID, PUBLIC_KEY],
      ["public key bad base64", signedOneTwo(), SERVER_NAME, KEY_ID, "not base64!"],
      ["public key wrong length", signedOneTwo(), SERVER_NAME, KEY_ID, PUBLIC_KEY.slice(0, 20)],
      ["public key empty", signedOneTwo(), SERVER_NAME, KEY_ID, ""],
      ["float in object", { ...signedOneTwo(), f: 0.5 }, SERVER_NAME, KEY_ID, PUBLIC_KEY],
      ["inherited entity", { one: 1, two: "Two", signatures: {} }, "toString", KEY_ID, PUBLIC_KEY],
    ];
    for (const [name, obj, entity, keyId, publicKey] of cases) {
      assert.equal(verifyJsonSignature(obj, entity, keyId, publicKey), false, name);
    }
  });

  it("imports public keys once and refuses bad ones", () => {
    assert.equal(publicKeyFromBase64(PUBLIC_KEY), publicKeyFromBase64(PUBLIC_KEY));
    assert.throws(() => publicKeyFromBase64("AAAA"), /32 bytes/);
  });
});

describe("signEvent (server-server: Signing Events; appendix: Event Signing test vectors)", () => {
  it("hashes and signs the minimal event exactly as the spec says", () => {
    assert.deepEqual(signEvent(minimalEvent(), "10", SERVER_NAME, key), {
      auth_events: [],
      content: {},
      depth: 3,
      hashes: { sha256: "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos" },
      origin: "domain",
      origin_server_ts: 1000000,
      prev_events: [],
      room_id: "!x:domain",
      sender: "@a:domain",
      signatures: {
        domain: {
          [KEY_ID]: "KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg",
        },
      },
      type: "X",
      unsigned: { age_ts: 1000000 },
    });
  });

  it("hashes and signs the event with redactable content exactly as the spec says", () => {
    assert.deepEqual(signEvent(messageEvent(), "10", SERVER_NAME, key), {
      content: { body: "Here is the message content" },
      event_id: "$0:domain",
      hashes: { sha256: "onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g" },
      origin: "domain",
      origin_server_ts: 1000000,
      type: "m.room.message",
      room_id: "!r:domain",
      sender: "@u:domain",
      signatures: {
        domain: {
          [KEY_ID]: "Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA",
        },
      },
      unsigned: { age_ts: 1000000 },
    });
  });

  it("signs the redacted form, so the signature survives redaction", () => {
    const signed = signEvent(messageEvent(), "11", SERVER_NAME, key);
    assert.ok(verifyEventSignature(signed, "11", SERVER_NAME, KEY_ID, PUBLIC_KEY));
    const redacted = redactEvent(signed, "11");
    assert.deepEqual(redacted.content, {});
    assert.ok(verifyEventSignature(redacted, "11", SERVER_NAME, KEY_ID, PUBLIC_KEY));
    // …while the content hash tells the receiver it holds a redacted copy.
    assert.ok(checkContentHash(signed));
    assert.equal(checkContentHash(redacted), false);
  });

  it("covers redaction-protected fields with the signature, the rest through the content hash", () => {
    const signed = signEvent(messageEvent(), "11", SERVER_NAME, key);
    const forgedSender = { ...signed, sender: "@mallory:domain" };
    assert.equal(verifyEventSignature(forgedSender, "11", SERVER_NAME, KEY_ID, PUBLIC_KEY), false);
    const forgedBody = { ...signed, content: { body: "forged" } };
    assert.ok(verifyEventSignature(forgedBody, "11", SERVER_NAME, KEY_ID, PUBLIC_KEY));
    assert.equal(checkContentHash(forgedBody), false);
    // Recomputing the hash to match the forged body breaks the signature, which covers `hashes`.
    const rehashed = { ...forgedBody, hashes: { sha256: computeContentHash(forgedBody) } };
    assert.ok(checkContentHash(rehashed));
    assert.equal(verifyEventSignature(rehashed, "11", SERVER_NAME, KEY_ID, PUBLIC_KEY), false);
  });

  it("signs what the room version's redaction keeps: v11 no longer covers `origin`", () => {
    const v10 = signEvent(minimalEvent(), "10", SERVER_NAME, key);
    const v11 = signEvent(minimalEvent(), "11", SERVER_NAME, key);
    assert.deepEqual(v10.hashes, v11.hashes);
    assert.notEqual(v10.signatures.domain?.[KEY_ID], v11.signatures.domain?.[KEY_ID]);
    assert.ok(verifyEventSignature(v11, "11", SERVER_NAME, KEY_ID, PUBLIC_KEY));
    assert.equal(verifyEventSignature(v11, "10", SERVER_NAME, KEY_ID, PUBLIC_KEY), false);
    assert.ok(verifyEventSignature({ ...v11, origin: "elsewhere" }, "11", SERVER_NAME, KEY_ID, PUBLIC_KEY));
    assert.equal(verifyEventSignature({ ...v10, origin: "elsewhere" }, "10", SERVER_NAME, KEY_ID, PUBLIC_KEY), false);
  });

  it("keeps other servers' signatures and does not mutate its input", () => {
    const input = { ...messageEvent(), signatures: { "other.example": { "ed25519:o": "x" } } };
    const before = structuredClone(input);
    const signed = signEvent(input, "12", SERVER_NAME, key);
    assert.deepEqual(input, before);
    assert.equal(signed.signatures["other.example"]?.["ed25519:o"], "x");
    assert.ok(verifyEventSignature(signed, "12", SERVER_NAME, KEY_ID, PUBLIC_KEY));
  });

  it("throws for unsupported room versions when signing, returns false when verifying", () => {
    assert.throws(() => signEvent(minimalEvent(), "9", SERVER_NAME, key), /unsupported room version/);
    const signed = signEvent(minimalEvent(), "10", SERVER_NAME, key);
    assert.equal(verifyEventSignature(signed, "9", SERVER_NAME, KEY_ID, PUBLIC_KEY), false);
    assert.equal(verifyEventSignature("not an event", "10", SERVER_NAME, KEY_ID, PUBLIC_KEY), false);
  });
});

describe("signNewEvent (the room writer's one-pass signEvent + eventIdFor)", () => {
  it("gives the same event, id and size as signEvent, eventIdFor and canonicalJson, in every supported version", () => {
    const events: Array<Record<string, unknown>> = [
      { room_id: "!x:domain", type: "m.room.message", sender: "@a:domain", content: { body: "héllo ✓", msgtype: "m.text" }, origin_server_ts: 1000000, prev_events: ["$p"], auth_events: ["$a", "$b"], depth: 7 },
      { room_id: "!x:domain", type: "m.room.member", state_key: "@a:domain", sender: "@a:domain", content: { membership: "join", displayname: "A" }, origin_server_ts: 5, prev_events: [], auth_events: [], depth: 2 },
      { room_id: "!x:domain", type: "m.room.redaction", sender: "@a:domain", redacts: "$t", content: { redacts: "$t", reason: "x" }, origin_server_ts: 5, prev_events: [], auth_events: [], depth: 3 },
    ];
    for (const version of ["10", "11", "12"]) {
      for (const ev of events) {
        const one = signNewEvent(ev, version, SERVER_NAME, key);
        const signed = signEvent(ev, version, SERVER_NAME, key);
        assert.deepEqual(one.event, signed);
        assert.equal(one.eventId, eventIdFor(signed, version));
        assert.equal(one.canonicalBytes, Buffer.byteLength(canonicalJson(ev), "utf8"));
      }
    }
  });
  it("refuses an event that is already signed", () => {
    assert.throws(() => signNewEvent({ ...minimalEvent(), signatures: {} }, "10", SERVER_NAME, key));
  });
});
