/**
 * Auth rules 1 (m.room.create), v12 rule 2 (room id from the create event), rule 2 / v12 rule 3
 * (the event's auth_events) and rule 3 / v12 rule 4 (m.federate), for room versions 10, 11, 12.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { authorizeEvent } from "../../../src/matrix/auth-rules.js";
import { type PDU, stateKey } from "../../../src/matrix/pdu.js";
import {
  ALICE,
  BOB,
  CAROL,
  Room,
  VERSIONS,
  assertAllowed,
  assertRefused,
  makeCreateEvent,
  newEventId,
  num,
} from "./auth-rules-fixtures.js";

function check(ev: PDU, version: string) {
  return authorizeEvent(ev, new Map(), version);
}

for (const v of VERSIONS) {
  describe(`room version ${v}: rule 1, m.room.create`, () => {
    test(`${num(v, "1")} a well-formed m.room.create is allowed with an empty state`, () => {
      assertAllowed(check(makeCreateEvent(v, ALICE), v));
    });

    test(`1.1 create: refused if it has any prev_events`, () => {
      const ev = { ...makeCreateEvent(v, ALICE), prev_events: ["$earlier"] };
      assertRefused(check(ev, v), "1.1");
    });

    if (v === "12") {
      test("1.2 create (v12): refused if the event has a room_id", () => {
        const ev = { ...makeCreateEvent(v, ALICE), room_id: "!elsewhere:a.example" };
        assertRefused(check(ev, v), "1.2");
      });
      test("1.2 create (v12): allowed without a room_id", () => {
        const ev = makeCreateEvent(v, ALICE);
        assert.equal("room_id" in ev, false);
        assertAllowed(check(ev, v));
      });
      test("1.2 create (v12): a room_id equal to the derived one (storage convenience) is tolerated", () => {
        const ev = makeCreateEvent(v, ALICE);
        assertAllowed(check({ ...ev, room_id: `!${ev.event_id.slice(1)}` }, v));
      });
    } else {
      test("1.2 create: refused if the domain of the room_id does not match the domain of the sender", () => {
        const ev = { ...makeCreateEvent(v, ALICE), room_id: "!room:b.example" };
        assertRefused(check(ev, v), "1.2");
      });
      test("1.2 create: refused if the room_id has no domain at all", () => {
        const ev = { ...makeCreateEvent(v, ALICE), room_id: "!nodomain" };
        assertRefused(check(ev, v), "1.2");
      });
      test("1.2 create: allowed when the room_id domain is the sender's (port included)", () => {
        const ev = { ...makeCreateEvent(v, "@alice:a.example:8448"), room_id: "!room:a.example:8448" };
        assertAllowed(check(ev, v));
      });
    }

    test("1.3 create: refused if content.room_version is present and not a recognised version", () => {
      const ev = makeCreateEvent(v, ALICE, { room_version: "999" });
      assertRefused(check(ev, v), "1.3");
      assertRefused(check(makeCreateEvent(v, ALICE, { room_version: 10 }), v), "1.3");
    });

    test("1.3 create: refused when content.room_version is another version than the one checked", () => {
      assertRefused(check(makeCreateEvent(v, ALICE, { room_version: "9" }), v), "1.3");
      const ev = makeCreateEvent(v, ALICE);
      delete ev.content["room_version"]; // absent means "1" (m.room.create schema)
      assertRefused(check(ev, v), "1.3");
    });

    if (v === "10") {
      test("1.4 create (v10): refused if content has no creator property", () => {
        const ev = makeCreateEvent(v, ALICE);
        delete ev.content["creator"];
        assertRefused(check(ev, v), "1.4");
      });
      test("1.5 create (v10): otherwise allowed, creator present", () => {
        assertAllowed(check(makeCreateEvent(v, ALICE), v));
      });
    } else {
      test(`create (v${v}): no creator property is needed any more (v11 removed it)`, () => {
        const ev = makeCreateEvent(v, ALICE);
        assert.equal("creator" in ev.content, false);
        assertAllowed(check(ev, v));
      });
    }

    if (v === "12") {
      test("1.4 create (v12): refused if additional_creators is not an array", () => {
        assertRefused(check(makeCreateEvent(v, ALICE, { additional_creators: BOB }), v), "1.4");
      });
      test("1.4 create (v12): refused if an additional creator is not a valid user ID", () => {
        assertRefused(check(makeCreateEvent(v, ALICE, { additional_creators: [BOB, "bob"] }), v), "1.4");
        assertRefused(check(makeCreateEvent(v, ALICE, { additional_creators: ["@bob:bad host"] }), v), "1.4");
        assertRefused(check(makeCreateEvent(v, ALICE, { additional_creators: [42] }), v), "1.4");
      });
      test("1.5 create (v12): allowed with valid additional_creators (historical localparts too)", () => {
        assertAllowed(check(makeCreateEvent(v, ALICE, { additional_creators: [BOB, CAROL, "@Old.Style:b.example"] }), v));
        assertAllowed(check(makeCreateEvent(v, ALICE, { additional_creators: [] }), v));
      });
    } else {
      test(`create (v${v}): additional_creators "serves no purpose and is not validated"`, () => {
        assertAllowed(check(makeCreateEvent(v, ALICE, { additional_creators: "nonsense" }), v));
      });
    }
  });

  if (v === "12") {
    describe("room version 12: rule 2, the room_id is the create event's id", () => {
      test("2 allowed when room_id is the create event id with ! for $", () => {
        const room = new Room(v);
        assert.equal(room.roomId, `!${room.create.event_id.slice(1)}`);
        assertAllowed(room.check(room.event({ type: "m.room.message", sender: ALICE, content: { body: "hi" } })));
      });
      test("2 refused if the event's room_id is not an event ID for the m.room.create event", () => {
        const room = new Room(v);
        const ev = room.event({ type: "m.room.message", sender: ALICE, room_id: "!someotherroom", content: {} });
        assertRefused(room.check(ev), "2");
      });
      test("2 refused if the m.room.create event was rejected", () => {
        const room = new Room(v);
        const ev = room.event({ type: "m.room.message", sender: ALICE, content: {} });
        assertRefused(room.check(ev, { isRejected: (id) => id === room.create.event_id }), "2");
      });
      test("2 refused when the create event is not known (not in state, not given)", () => {
        const room = new Room(v);
        const ev = room.event({ type: "m.room.message", sender: ALICE, content: {} });
        const state = new Map(room.state);
        state.delete(stateKey("m.room.create", ""));
        assertRefused(authorizeEvent(ev, state, v), "2");
        assertAllowed(authorizeEvent(ev, state, v, { createEvent: room.create }));
      });
    });
  }

  describe(`room version ${v}: rule ${num(v, "2")}, the event's auth_events`, () => {
    test(`${num(v, "2")} allowed when auth_events are exactly the selected events`, () => {
      const room = new Room(v);
      const ev = room.event({ type: "m.room.message", sender: ALICE, content: {} });
      assert.equal(ev.auth_events.length, v === "12" ? 2 : 3);
      assertAllowed(room.check(ev));
    });

    test(`${num(v, "2.1")} refused if there are duplicate entries for a given type and state_key pair`, () => {
      const room = new Room(v);
      const oldPl = room.state.get(stateKey("m.room.power_levels", ""))!;
      const newPl = room.setPowerLevels(room.powerLevelsContent());
      const ev = room.event({ type: "m.room.message", sender: ALICE, content: {} });
      ev.auth_events.push(oldPl.event_id);
      assertRefused(room.check(ev, { authEvents: [...room.state.values(), oldPl] }), num(v, "2.1"));
      assert.ok(ev.auth_events.includes(newPl.event_id));
      // The same event twice is a duplicate too.
      const twice = room.event({ type: "m.room.message", sender: ALICE, content: {} });
      twice.auth_events.push(newPl.event_id);
      assertRefused(room.check(twice), num(v, "2.1"));
    });

    test(`${num(v, "2.2")} refused if an entry's type and state_key are not picked by the auth events selection`, () => {
      const room = new Room(v);
      const joinRules = room.state.get(stateKey("m.room.join_rules", ""))!;
      const ev = room.event({ type: "m.room.message", sender: ALICE, content: {} });
      ev.auth_events.push(joinRules.event_id); // join rules are only selected for memberships
      assertRefused(room.check(ev), num(v, "2.2"));
    });

    test(`${num(v, "2.2")} refused if another user's member event is cited for a message`, () => {
      const room = new Room(v, { members: { [CAROL]: "join" } });
      const ev = room.event({ type: "m.room.message", sender: ALICE, content: {} });
      ev.auth_events.push(room.state.get(stateKey("m.room.member", CAROL))!.event_id);
      assertRefused(room.check(ev), num(v, "2.2"));
    });

    if (v === "12") {
      test("3.2 refused if the m.room.create event is among the auth events (v12: MUST NOT be selected)", () => {
        const room = new Room(v);
        const ev = room.event({ type: "m.room.message", sender: ALICE, content: {} });
        ev.auth_events.unshift(room.create.event_id);
        assertRefused(room.check(ev), "3.2");
      });
    }

    test(`${num(v, "2.3")} refused if an auth event was itself rejected`, () => {
      const room = new Room(v);
      const ev = room.event({ type: "m.room.message", sender: ALICE, content: {} });
      const pl = room.state.get(stateKey("m.room.power_levels", ""))!;
      assertRefused(room.check(ev, { isRejected: (id) => id === pl.event_id }), num(v, "2.3"));
      assertAllowed(room.check(ev, { isRejected: () => false }));
    });

    if (v !== "12") {
      test("2.4 refused if there is no m.room.create event among the auth events", () => {
        const room = new Room(v);
        const ev = room.event({ type: "m.room.message", sender: ALICE, content: {} });
        ev.auth_events = ev.auth_events.filter((id) => id !== room.create.event_id);
        assertRefused(room.check(ev), "2.4");
      });
    } else {
      test("v12 has no rule 3.4: auth events without m.room.create are the norm", () => {
        const room = new Room(v);
        const ev = room.event({ type: "m.room.message", sender: ALICE, content: {} });
        assert.equal(ev.auth_events.includes(room.create.event_id), false);
        assertAllowed(room.check(ev));
      });
    }

    test(`${num(v, "2.5")} refused if an auth event has a room_id which does not match the event's`, () => {
      const room = new Room(v);
      const ev = room.event({ type: "m.room.message", sender: ALICE, content: {} });
      const pl = room.state.get(stateKey("m.room.power_levels", ""))!;
      const foreignPl = { ...pl, room_id: "!other:a.example" };
      const authEvents = [...room.state.values()].map((a) => (a.event_id === pl.event_id ? foreignPl : a));
      assertRefused(room.check(ev, { authEvents }), num(v, "2.5"));
    });

    test("refused if an auth event cannot be found (neither in authState nor in opts.authEvents)", () => {
      const room = new Room(v);
      const ev = room.event({ type: "m.room.message", sender: ALICE, content: {} });
      ev.auth_events.push("$unknown");
      const r = room.check(ev);
      assertRefused(r);
      assert.match((r as { reason: string }).reason, /\$unknown/);
    });

    test("the event's own auth events can serve as authState", () => {
      const room = new Room(v);
      const ev = room.event({ type: "m.room.message", sender: ALICE, content: {} });
      const byId = new Map([...room.state.values()].map((e) => [e.event_id, e]));
      const authState = new Map(ev.auth_events.map((id) => byId.get(id)!).map((e) => [stateKey(e.type, e.state_key!), e]));
      assertAllowed(authorizeEvent(ev, authState, v, { createEvent: room.create }));
    });
  });

  describe(`room version ${v}: rule ${num(v, "3")}, m.federate`, () => {
    test(`${num(v, "3")} refused if m.federate is false and the sender's domain is not the creator's`, () => {
      const room = new Room(v, { createContent: { "m.federate": false }, members: { [CAROL]: "join" } });
      assertRefused(room.check(room.event({ type: "m.room.message", sender: CAROL, content: {} })), num(v, "3"));
      // The joining itself is refused as well.
      const dave = room.member("@dave:b.example", "join");
      room.setJoinRule("public");
      assertRefused(room.check({ ...dave, auth_events: room.authEventIds(dave) }), num(v, "3"));
    });
    test(`${num(v, "3")} allowed for a sender on the creator's server when m.federate is false`, () => {
      const room = new Room(v, { createContent: { "m.federate": false }, members: { [BOB]: "join" } });
      assertAllowed(room.check(room.event({ type: "m.room.message", sender: BOB, content: {} })));
    });
    test(`${num(v, "3")} allowed for other servers when m.federate is true or absent`, () => {
      for (const createContent of [{ "m.federate": true }, {}]) {
        const room = new Room(v, { createContent, members: { [CAROL]: "join" } });
        assertAllowed(room.check(room.event({ type: "m.room.message", sender: CAROL, content: {} })));
      }
    });
  });

  describe(`room version ${v}: robustness`, () => {
    test("a malformed event is refused, never thrown", () => {
      const room = new Room(v);
      const good = room.event({ type: "m.room.message", sender: ALICE, content: {} });
      const bad: unknown[] = [
        { ...good, content: null },
        { ...good, sender: 42 },
        { ...good, prev_events: "x" },
        { ...good, auth_events: [1] },
        { ...good, state_key: 7 },
        null,
      ];
      for (const ev of bad) assertRefused(room.check(ev as PDU));
    });
    test("a throwing isRejected callback is refused, never thrown", () => {
      const room = new Room(v);
      const ev = room.event({ type: "m.room.message", sender: ALICE, content: {} });
      assertRefused(
        room.check(ev, {
          isRejected: () => {
            throw new Error("boom");
          },
        }),
      );
    });
    test("opts.createEvent that contradicts the state's create event is refused", () => {
      const room = new Room(v);
      const ev = room.event({ type: "m.room.message", sender: ALICE, content: {} });
      assertRefused(room.check(ev, { createEvent: makeCreateEvent(v, ALICE) }));
    });
  });
}

test("an unsupported room version is refused", () => {
  const ev = makeCreateEvent("11", ALICE, { room_version: "9" });
  const r = authorizeEvent(ev, new Map(), "9");
  assertRefused(r);
  assert.match((r as { reason: string }).reason, /unsupported room version/);
  assert.ok(newEventId("x").startsWith("$x"));
});
