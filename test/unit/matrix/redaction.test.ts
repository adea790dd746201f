import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { redactEvent, redactedView } from "../../../src/matrix/redaction.js";

/** Every top-level key any version protects, plus some no version does. */
const fullTopLevel = (type: string, content: Record<string, unknown>): Record<string, unknown> => ({
  event_id: "$e",
  type,
  room_id: "!r:example.org",
  sender: "@u:example.org",
  state_key: "",
  content,
  hashes: { sha256: "h" },
  signatures: { "example.org": { "ed25519:1": "s" } },
  depth: 4,
  prev_events: ["$p"],
  prev_state: [],
  auth_events: ["$a"],
  origin: "example.org",
  origin_server_ts: 123,
  membership: "join",
  unsigned: { age_ts: 1, redacted_because: {} },
  redacts: "$target",
  custom: "x",
  age: 5,
});

const COMMON_TOP_LEVEL = [
  "auth_events",
  "content",
  "depth",
  "event_id",
  "hashes",
  "origin_server_ts",
  "prev_events",
  "room_id",
  "sender",
  "signatures",
  "state_key",
  "type",
];

describe("redactEvent: top-level keys", () => {
  it("v10 keeps the v9 list, including origin, membership and prev_state", () => {
    const out = redactEvent(fullTopLevel("m.room.message", { body: "x" }), "10");
    assert.deepEqual(Object.keys(out).sort(), [...COMMON_TOP_LEVEL, "membership", "origin", "prev_state"].sort());
  });

  for (const version of ["11", "12"]) {
    it(`v${version} drops origin, membership and prev_state`, () => {
      const out = redactEvent(fullTopLevel("m.room.message", { body: "x" }), version);
      assert.deepEqual(Object.keys(out).sort(), [...COMMON_TOP_LEVEL].sort());
    });
  }

  for (const version of ["10", "11", "12"]) {
    it(`v${version} drops unsigned, top-level redacts and unknown keys, and keeps values intact`, () => {
      const input = fullTopLevel("m.room.redaction", { redacts: "$target", reason: "spam" });
      const out = redactEvent(input, version);
      for (const k of ["unsigned", "redacts", "custom", "age"]) assert.equal(Object.hasOwn(out, k), false, k);
      assert.deepEqual(out.signatures, input.signatures);
      assert.deepEqual(out.hashes, input.hashes);
      assert.deepEqual(out.prev_events, ["$p"]);
    });
  }

  it("always emits a content object, even when the input has none or a bad one", () => {
    for (const content of [undefined, null, "text", 3, ["membership"]]) {
      const e: Record<string, unknown> = { type: "m.room.member", sender: "@u:d" };
      if (content !== undefined) e.content = content;
      assert.deepEqual(redactEvent(e, "11").content, {}, JSON.stringify(content));
    }
  });

  it("omits keys that are absent rather than inventing them", () => {
    assert.deepEqual(redactEvent({ type: "m.room.message", content: { body: "b" } }, "10"), {
      type: "m.room.message",
      content: {},
    });
  });

  it("empties content of types without rules, and of events with a non-string type", () => {
    for (const type of ["m.room.message", "m.room.name", "m.room.topic", "m.room.encrypted", "m.room.aliases", "m.room.server_acl", "com.example"]) {
      for (const v of ["10", "11", "12"]) {
        assert.deepEqual(redactEvent({ type, content: { body: "x", name: "n", aliases: ["#a:b"], allow: ["*"] } }, v).content, {}, `${type} v${v}`);
      }
    }
    assert.deepEqual(redactEvent({ type: 7, content: { membership: "join" } }, "11").content, {});
  });
});

/** [event type, content in, content kept by v10, content kept by v11 and v12] */
const CONTENT_CASES: Array<[string, Record<string, unknown>, Record<string, unknown>, Record<string, unknown>]> = [
  [
    "m.room.member",
    { membership: "join", displayname: "Alice", avatar_url: "mxc://a/b", join_authorised_via_users_server: "@admin:example.org", reason: "hi", is_direct: true },
    { membership: "join", join_authorised_via_users_server: "@admin:example.org" },
    { membership: "join", join_authorised_via_users_server: "@admin:example.org" },
  ],
  [
    "m.room.member",
    {
      membership: "invite",
      displayname: "Bob",
      third_party_invite: { display_name: "bob@example.org", signed: { mxid: "@bob:example.org", token: "t", signatures: { "id.example": { "ed25519:0": "s" } } } },
    },
    { membership: "invite" },
    {
      membership: "invite",
      third_party_invite: { signed: { mxid: "@bob:example.org", token: "t", signatures: { "id.example": { "ed25519:0": "s" } } } },
    },
  ],
  [
    "m.room.create",
    { creator: "@u:example.org", room_version: "10", "m.federate": false, predecessor: { room_id: "!old:example.org" }, type: "m.space" },
    { creator: "@u:example.org" },
    { creator: "@u:example.org", room_version: "10", "m.federate": false, predecessor: { room_id: "!old:example.org" }, type: "m.space" },
  ],
  [
    "m.room.create",
    { room_version: "12", additional_creators: ["@b:example.org"] },
    {},
    { room_version: "12", additional_creators: ["@b:example.org"] },
  ],
  [
    "m.room.join_rules",
    { join_rule: "restricted", allow: [{ type: "m.room_membership", room_id: "!s:example.org" }], other: 1 },
    { join_rule: "restricted", allow: [{ type: "m.room_membership", room_id: "!s:example.org" }] },
    { join_rule: "restricted", allow: [{ type: "m.room_membership", room_id: "!s:example.org" }] },
  ],
  [
    "m.room.power_levels",
    {
      ban: 50,
      events: { "m.room.name": 50 },
      events_default: 0,
      invite: 0,
      kick: 50,
      redact: 50,
      state_default: 50,
      users: { "@u:example.org": 100 },
      users_default: 0,
      notifications: { room: 50 },
    },
    { ban: 50, events: { "m.room.name": 50 }, events_default: 0, kick: 50, redact: 50, state_default: 50, users: { "@u:example.org": 100 }, users_default: 0 },
    {
      ban: 50,
      events: { "m.room.name": 50 },
      events_default: 0,
      invite: 0,
      kick: 50,
      redact: 50,
      state_default: 50,
      users: { "@u:example.org": 100 },
      users_default: 0,
    },
  ],
  ["m.room.history_visibility", { history_visibility: "joined", extra: true }, { history_visibility: "joined" }, { history_visibility: "joined" }],
  ["m.room.redaction", { redacts: "$target", reason: "spam" }, {}, { redacts: "$target" }],
];

describe("redactEvent: content, per event type and room version", () => {
  for (const [type, content, v10, v11] of CONTENT_CASES) {
    const label = `${type} ${JSON.stringify(Object.keys(content))}`;
    it(`v10: ${label}`, () => {
      assert.deepEqual(redactEvent({ type, content }, "10").content, v10);
    });
    for (const version of ["11", "12"]) {
      it(`v${version}: ${label}`, () => {
        assert.deepEqual(redactEvent({ type, content }, version).content, v11);
      });
    }
  }

  it("keeps a protected key whose value is null or of an unexpected type", () => {
    assert.deepEqual(redactEvent({ type: "m.room.member", content: { membership: null } }, "10").content, { membership: null });
    assert.deepEqual(redactEvent({ type: "m.room.power_levels", content: { ban: "50", users: [] } }, "11").content, { ban: "50", users: [] });
  });

  it("v11 third_party_invite: keeps only `signed`, keeps {} without it, drops non-objects", () => {
    const redact = (tpi: unknown) => redactEvent({ type: "m.room.member", content: { membership: "invite", third_party_invite: tpi } }, "11").content;
    assert.deepEqual(redact({ display_name: "x" }), { membership: "invite", third_party_invite: {} });
    assert.deepEqual(redact({ signed: null }), { membership: "invite", third_party_invite: { signed: null } });
    assert.deepEqual(redact("signed"), { membership: "invite" });
    assert.deepEqual(redact(["signed"]), { membership: "invite" });
    assert.deepEqual(redact(null), { membership: "invite" });
  });
});

describe("redactEvent: safety", () => {
  it("throws for room versions it does not implement", () => {
    for (const v of ["1", "2", "6", "9", "13", "", "10.0", "org.example"]) {
      assert.throws(() => redactEvent({ type: "m.room.message", content: {} }, v), /unsupported room version/, v);
    }
  });

  it("neither mutates the input nor shares nested objects with it", () => {
    const input = fullTopLevel("m.room.create", { room_version: "11", nested: { deep: [1] } });
    const before = structuredClone(input);
    const out = redactEvent(input, "11");
    assert.deepEqual(input, before);
    ((out.content as Record<string, { deep: number[] }>).nested as { deep: number[] }).deep.push(2);
    (out.prev_events as string[]).push("$q");
    (out.signatures as Record<string, unknown>).other = {};
    assert.deepEqual(input, before);
  });

  it("keeps an own `__proto__` content key as data (v11 create keeps all content)", () => {
    const event = JSON.parse('{"type":"m.room.create","content":{"__proto__":{"polluted":true},"room_version":"11"}}') as Record<string, unknown>;
    const content = redactEvent(event, "11").content as Record<string, unknown>;
    assert.ok(Object.hasOwn(content, "__proto__"));
    assert.equal(Object.getPrototypeOf(content), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe("redactedView (hashing and signing without copies)", () => {
  it("equals redactEvent for every event type and room version", () => {
    const contents: Array<[string, Record<string, unknown>]> = [
      ["m.room.message", { msgtype: "m.text", body: "hello" }],
      ["m.room.member", { membership: "join", displayname: "A", join_authorised_via_users_server: "@b:x", third_party_invite: { signed: { mxid: "@a:x" }, other: 1 } }],
      ["m.room.create", { room_version: "11", creator: "@a:x", extra: { nested: [1, 2] } }],
      ["m.room.power_levels", { users: { "@a:x": 100 }, ban: 50, events: {}, invite: 0 }],
      ["m.room.join_rules", { join_rule: "restricted", allow: [{ type: "m.room_membership", room_id: "!r:x" }] }],
      ["m.room.history_visibility", { history_visibility: "shared", other: true }],
      ["m.room.redaction", { redacts: "$x", reason: "spam" }],
      ["org.example.custom", { anything: [1, { a: 2 }] }],
    ];
    for (const version of ["10", "11", "12"]) {
      for (const [type, content] of contents) {
        const event = fullTopLevel(type, content);
        assert.deepEqual(redactedView(event, version), redactEvent(event, version), `${type} in v${version}`);
      }
    }
  });

  it("shares the kept values with its input and leaves the input unchanged", () => {
    const input = fullTopLevel("m.room.create", { room_version: "11", nested: { deep: [1] } });
    const before = structuredClone(input);
    const view = redactedView(input, "11");
    assert.equal(view.prev_events, input.prev_events);
    assert.equal((view.content as Record<string, unknown>).nested, (input.content as Record<string, unknown>).nested);
    assert.deepEqual(input, before);
  });
});
