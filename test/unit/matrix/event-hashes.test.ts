import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeBase64, encodeUnpaddedUrlSafeBase64 } from "../../../src/matrix/base64.js";
import { eventIdFor, roomIdForCreateEvent } from "../../../src/matrix/event-id.js";
import {
  addContentHash,
  checkContentHash,
  computeContentHash,
  computeReferenceHash,
} from "../../../src/matrix/hashes.js";
import { isValidEventId, isValidRoomId } from "../../../src/matrix/identifiers.js";
import { redactEvent } from "../../../src/matrix/redaction.js";

/**
 * A real `m.room.create` event (room version 5, signed by jki.re's Synapse in 2019), with the
 * event id its room knows it by; used as a test vector by matrix-org/gomatrixserverlib
 * (eventversion_test.go, TestEventIDForRoomVersionV4). Room version 10 redacts this event exactly
 * as versions 4 and 5 do (create keeps `creator`; top-level `origin` and `prev_state` kept), so
 * its v10 event id must be the same.
 */
const JKI_CREATE = `{"auth_events": [], "prev_events": [], "type": "m.room.create", "room_id": "!uXDCzlYgCTHtiWCkEx:jki.re", "sender": "@erikj:jki.re", "content": {"room_version": "5", "predecessor": {"room_id": "!gdRMqOrTFdOCYHNwOo:half-shot.uk", "event_id": "$LP7ROBc4b+cMc1UE9haIz8q5AK2AIW4eJ90FfKLvyZI"}, "creator": "@erikj:jki.re"}, "depth": 1, "prev_state": [], "state_key": "", "origin": "jki.re", "origin_server_ts": 1560284621137, "hashes": {"sha256": "IX6zuNiJpJPNf70BLleL3HSCpjKeq9Uhu7uUpyDjBmc"}, "signatures": {"jki.re": {"ed25519:auto": "O4IyFfF2PPtGp5uaDm8t57dZbdh8vc8Q64LgCwvzYRVItAMI0uisfiAFaxkVT7MRpzh6N2QNN5NMRXZKmgPYDA"}}, "unsigned": {"age": 1321650}}`;
const JKI_EVENT_ID = "$RrGxF28UrHLmoASHndYb9Jb_1SFww2ptmtur9INS438";
const jki = (): Record<string, unknown> => JSON.parse(JKI_CREATE) as Record<string, unknown>;

/**
 * A room version 12 create event; its content hash and room id were computed independently with
 * a few lines of Python (json.dumps(sort_keys=True, ensure_ascii=False, separators=(",", ":")),
 * hashlib) following server-server "Calculating the reference hash" and the v11 redaction rules.
 */
const V12_CREATE_HASH = "RuTXGzzNcQf06iy+R1Xbcp58786Pguuoeus6/X0+1S4";
const V12_ROOM_ID = "!uF8_lxcy6Kd22JlgESIWXzVWfFUaMX63_opFQaTvlv8";
const v12Create = (): Record<string, unknown> => ({
  type: "m.room.create",
  state_key: "",
  sender: "@alice:example.org",
  content: { room_version: "12", additional_creators: ["@bob:example.org"], "m.federate": true, type: "m.space" },
  depth: 1,
  prev_events: [],
  auth_events: [],
  origin_server_ts: 1700000000000,
  origin: "example.org",
  hashes: { sha256: V12_CREATE_HASH },
  signatures: { "example.org": { "ed25519:a": "y" } },
  unsigned: { age: 5 },
});

describe("content hash (server-server: Calculating the content hash for an event)", () => {
  it("matches the spec's event signing vectors", () => {
    const minimal = {
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
    };
    assert.equal(computeContentHash(minimal), "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos");
    const message = {
      content: { body: "Here is the message content" },
      event_id: "$0:domain",
      origin: "domain",
      origin_server_ts: 1000000,
      type: "m.room.message",
      room_id: "!r:domain",
      sender: "@u:domain",
      signatures: {},
      unsigned: { age_ts: 1000000 },
    };
    assert.equal(computeContentHash(message), "onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g");
  });

  it("matches a real event's hash", () => {
    assert.equal(computeContentHash(jki()), "IX6zuNiJpJPNf70BLleL3HSCpjKeq9Uhu7uUpyDjBmc");
    assert.equal(computeContentHash(v12Create()), V12_CREATE_HASH);
  });

  it("ignores `unsigned`, `signatures` and `hashes`, and nothing else", () => {
    const base = jki();
    const h = computeContentHash(base);
    assert.equal(computeContentHash({ ...base, unsigned: { age: 1 }, signatures: {}, hashes: { sha256: "x" } }), h);
    const { unsigned: _u, signatures: _s, hashes: _h, ...bare } = base;
    assert.equal(computeContentHash(bare), h);
    assert.notEqual(computeContentHash({ ...base, depth: 2 }), h);
    assert.notEqual(computeContentHash({ ...base, extra: null }), h);
  });

  it("throws a CanonicalJsonError for events with floats", () => {
    assert.throws(() => computeContentHash({ ...jki(), depth: 1.5 }), { name: "CanonicalJsonError" });
  });

  it("addContentHash sets hashes.sha256, replacing any old hashes, without mutating", () => {
    const input = { ...jki(), hashes: { sha256: "stale", sha512: "other" } };
    const out = addContentHash(input);
    assert.deepEqual(out.hashes, { sha256: "IX6zuNiJpJPNf70BLleL3HSCpjKeq9Uhu7uUpyDjBmc" });
    assert.deepEqual(input.hashes, { sha256: "stale", sha512: "other" });
  });
});

describe("checkContentHash (server-server: Validating hashes and signatures on received events)", () => {
  it("accepts a real event and one we hashed", () => {
    assert.ok(checkContentHash(jki()));
    assert.ok(checkContentHash(addContentHash({ type: "m.room.message", content: { body: "hi" } })));
  });

  it("compares decoded bytes, so padding does not matter", () => {
    assert.ok(checkContentHash({ ...jki(), hashes: { sha256: "IX6zuNiJpJPNf70BLleL3HSCpjKeq9Uhu7uUpyDjBmc=" } }));
  });

  it("rejects tampered events", () => {
    const e = jki();
    assert.equal(checkContentHash({ ...e, content: { ...(e.content as object), creator: "@mallory:jki.re" } }), false);
    assert.equal(checkContentHash({ ...e, origin_server_ts: 1560284621138 }), false);
    assert.equal(checkContentHash(redactEvent(e, "10")), false);
  });

  it("returns false, never throws, on malformed hashes or events", () => {
    const e = jki();
    for (const hashes of [undefined, null, "x", [], {}, { sha256: 1 }, { sha256: "not base64!" }, { sha256: "" }]) {
      assert.equal(checkContentHash({ ...e, hashes }), false, JSON.stringify(hashes));
    }
    assert.equal(checkContentHash({ ...e, depth: 0.5 }), false);
  });
});

describe("reference hashes and event ids (rooms v4+ Event IDs)", () => {
  it("computes a real event's id (v10 redaction = v4/v5 redaction for this event)", () => {
    assert.equal(eventIdFor(jki(), "10"), JKI_EVENT_ID);
    assert.ok(isValidEventId(JKI_EVENT_ID, { roomVersion: "10" }));
  });

  it("is `$` + URL-safe unpadded Base64 of the 32-byte reference hash", () => {
    const hash = computeReferenceHash(jki(), "10");
    assert.equal(hash.length, 32);
    assert.equal(`$${encodeUnpaddedUrlSafeBase64(hash)}`, JKI_EVENT_ID);
    assert.deepEqual(decodeBase64(JKI_EVENT_ID.slice(1)), hash);
  });

  it("changes with the room version's redaction algorithm (v11 drops origin and prev_state)", () => {
    const v11 = eventIdFor(jki(), "11");
    assert.notEqual(v11, JKI_EVENT_ID);
    assert.equal(eventIdFor(jki(), "12"), v11);
    const { origin: _o, prev_state: _p, ...withoutDropped } = jki();
    assert.equal(eventIdFor(withoutDropped, "11"), v11);
  });

  it("ignores signatures and unsigned, and survives redaction", () => {
    for (const version of ["10", "11", "12"]) {
      const id = eventIdFor(jki(), version);
      assert.equal(eventIdFor({ ...jki(), signatures: {}, unsigned: { x: 1 } }, version), id);
      assert.equal(eventIdFor(redactEvent(jki(), version), version), id);
    }
  });

  it("covers redactable content through the content hash", () => {
    const msg = addContentHash({ type: "m.room.message", room_id: "!r:d", sender: "@u:d", content: { body: "a" } });
    const other = addContentHash({ ...msg, content: { body: "b" } });
    assert.notEqual(eventIdFor(msg, "11"), eventIdFor(other, "11"));
    // Without re-hashing, a body change is invisible to the reference hash: that is why
    // receivers also check the content hash.
    assert.equal(eventIdFor({ ...msg, content: { body: "b" } }, "11"), eventIdFor(msg, "11"));
  });

  it("throws for unsupported room versions", () => {
    for (const v of ["1", "4", "9", "13", "", "org.example.custom"]) {
      assert.throws(() => eventIdFor(jki(), v), /unsupported room version/, v);
    }
  });
});

describe("roomIdForCreateEvent (room version 12: room ids are create-event hashes)", () => {
  it("matches an independently computed room id", () => {
    assert.equal(roomIdForCreateEvent(v12Create()), V12_ROOM_ID);
    assert.ok(isValidRoomId(V12_ROOM_ID, { roomVersion: "12" }));
  });

  it("is the create event's id with `!` instead of `$`", () => {
    assert.equal(roomIdForCreateEvent(v12Create()), `!${eventIdFor(v12Create(), "12").slice(1)}`);
  });

  it("covers the whole create content (v11 redaction keeps it), not unsigned or signatures", () => {
    const e = v12Create();
    assert.notEqual(roomIdForCreateEvent({ ...e, content: { ...(e.content as object), type: "other" } }), V12_ROOM_ID);
    assert.equal(roomIdForCreateEvent({ ...e, unsigned: {}, signatures: {} }), V12_ROOM_ID);
    assert.equal(roomIdForCreateEvent({ ...e, origin: "elsewhere" }), V12_ROOM_ID);
  });

  it("refuses events that cannot found a hashed-id room", () => {
    const e = v12Create();
    const content = e.content as Record<string, unknown>;
    assert.throws(() => roomIdForCreateEvent({ ...e, type: "m.room.member" }), /not an m.room.create/);
    assert.throws(() => roomIdForCreateEvent({ ...e, room_id: "!x:example.org" }), /must not have a room_id/);
    assert.throws(() => roomIdForCreateEvent({ ...e, content: { ...content, room_version: "11" } }), /not derived/);
    assert.throws(() => roomIdForCreateEvent({ ...e, content: { ...content, room_version: "99" } }), /unsupported/);
    assert.throws(() => roomIdForCreateEvent({ ...e, content: { additional_creators: [] } }), /room_version is missing/);
    assert.throws(() => roomIdForCreateEvent({ ...e, content: "x" }), /room_version is missing/);
  });
});
