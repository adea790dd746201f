/**
 * Auth rules 5–8 and 10 (v12: 6–9 and 11) — sender must be joined, m.room.third_party_invite,
 * required power level, `@` state keys, otherwise allow — and redactions (not an auth rule since
 * room version 3; `canRedact` / `redactionAppliesOnReceipt`), for room versions 10, 11 and 12.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { canRedact, redactionAppliesOnReceipt } from "../../../src/matrix/auth-rules.js";
import { powerLevelsFrom } from "../../../src/matrix/power-levels.js";
import { ALICE, BOB, CAROL, DAVE, EVE, Room, VERSIONS, assertAllowed, assertRefused, num, standardPowerLevels } from "./auth-rules-fixtures.js";

for (const v of VERSIONS) {
  const n = (base: string) => num(v, base);

  describe(`room version ${v}: rule ${n("5")}, the sender must be joined`, () => {
    test(`${n("5")} allowed: a joined member sends a message`, () => {
      const room = new Room(v, { members: { [CAROL]: "join" } });
      assertAllowed(room.check(room.event({ type: "m.room.message", sender: CAROL, content: { body: "hi" } })));
    });
    for (const m of [undefined, "invite", "leave", "ban", "knock"]) {
      test(`${n("5")} refused if the sender's membership is ${m ?? "absent"}`, () => {
        const room = new Room(v, { members: m ? { [CAROL]: m } : {} });
        assertRefused(room.check(room.event({ type: "m.room.message", sender: CAROL, content: {} })), n("5"));
        assertRefused(room.check(room.event({ type: "m.room.topic", sender: CAROL, state_key: "", content: {} })), n("5"));
      });
    }
  });

  describe(`room version ${v}: rule ${n("6")}, m.room.third_party_invite`, () => {
    const tpi = (room: Room, sender: string) =>
      room.event({ type: "m.room.third_party_invite", sender, state_key: "tok", content: { display_name: "x", public_key: "PK" } });
    test(`${n("6.1")} allowed if the sender's power level is at least the invite level`, () => {
      const room = new Room(v, { members: { [CAROL]: "join" } });
      assertAllowed(room.check(tpi(room, CAROL)));
    });
    test(`${n("6.1")} refused if the sender's power level is below the invite level`, () => {
      const pl = standardPowerLevels(v);
      pl["invite"] = 10;
      const room = new Room(v, { powerLevels: pl, members: { [CAROL]: "join" } });
      assertRefused(room.check(tpi(room, CAROL)), n("6.1"));
    });
    test(`${n("6.1")} only the invite level counts, not the state_default or the event's own level`, () => {
      const pl = standardPowerLevels(v);
      pl["events"] = { "m.room.third_party_invite": 100 };
      const room = new Room(v, { powerLevels: pl, members: { [CAROL]: "join" } });
      assertAllowed(room.check(tpi(room, CAROL)));
    });
    test(`${n("6")} comes after rule ${n("5")}: a non-member cannot create one`, () => {
      const room = new Room(v);
      assertRefused(room.check(tpi(room, CAROL)), n("5"));
    });
  });

  describe(`room version ${v}: rule ${n("7")}, the event type's required power level`, () => {
    test(`${n("7")} refused if events[type] is above the sender's level`, () => {
      const room = new Room(v, { members: { [CAROL]: "join", [BOB]: "join" } });
      assertRefused(room.check(room.event({ type: "m.room.name", sender: CAROL, state_key: "", content: { name: "x" } })), n("7"));
      assertAllowed(room.check(room.event({ type: "m.room.name", sender: BOB, state_key: "", content: { name: "x" } })));
    });
    test(`${n("7")} state events default to state_default`, () => {
      const room = new Room(v, { members: { [CAROL]: "join", [BOB]: "join" } });
      assertRefused(room.check(room.event({ type: "org.example.state", sender: CAROL, state_key: "", content: {} })), n("7"));
      assertAllowed(room.check(room.event({ type: "org.example.state", sender: BOB, state_key: "", content: {} })));
    });
    test(`${n("7")} message events default to events_default`, () => {
      const pl = standardPowerLevels(v);
      pl["events_default"] = 10;
      const room = new Room(v, { powerLevels: pl, members: { [CAROL]: "join", [BOB]: "join" } });
      assertRefused(room.check(room.event({ type: "m.room.message", sender: CAROL, content: {} })), n("7"));
      assertAllowed(room.check(room.event({ type: "m.room.message", sender: BOB, content: {} })));
    });
    test(`${n("7")} an explicit events level can lower the requirement below state_default`, () => {
      const pl = standardPowerLevels(v);
      pl["events"] = { "m.room.topic": 0 };
      const room = new Room(v, { powerLevels: pl, members: { [CAROL]: "join" } });
      assertAllowed(room.check(room.event({ type: "m.room.topic", sender: CAROL, state_key: "", content: { topic: "t" } })));
    });
    test(`${n("7")} the redact level is not considered for m.room.redaction; its events level is`, () => {
      const room = new Room(v, { members: { [CAROL]: "join" } });
      const redaction = () => room.event({ type: "m.room.redaction", sender: CAROL, content: { redacts: "$x" } });
      assertAllowed(room.check(redaction())); // CAROL (0) < redact (50): still allowed by the rules
      const pl = room.powerLevelsContent();
      (pl["events"] as Record<string, number>)["m.room.redaction"] = 10;
      room.setPowerLevels(pl);
      assertRefused(room.check(redaction()), n("7"));
    });
    test(`${n("7")} without a power levels event: state needs 50, messages 0 (creator has ${v === "12" ? "infinite power" : "100"})`, () => {
      const room = new Room(v, { powerLevels: null, members: { [CAROL]: "join" } });
      assertAllowed(room.check(room.event({ type: "m.room.message", sender: CAROL, content: {} })));
      assertRefused(room.check(room.event({ type: "m.room.topic", sender: CAROL, state_key: "", content: {} })), n("7"));
      assertAllowed(room.check(room.event({ type: "m.room.topic", sender: ALICE, state_key: "", content: {} })));
    });
  });

  describe(`room version ${v}: rule ${n("8")}, state keys starting with @`, () => {
    const pl = () => ({ ...standardPowerLevels(v), state_default: 0 });
    test(`${n("8")} refused if the state_key starts with @ and is not the sender`, () => {
      const room = new Room(v, { powerLevels: pl(), members: { [CAROL]: "join" } });
      assertRefused(room.check(room.event({ type: "org.example.user", sender: CAROL, state_key: BOB, content: {} })), n("8"));
      assertRefused(room.check(room.event({ type: "org.example.user", sender: CAROL, state_key: `${CAROL}_x`, content: {} })), n("8"));
    });
    test(`${n("8")} allowed if the state_key is the sender, or does not start with @`, () => {
      const room = new Room(v, { powerLevels: pl(), members: { [CAROL]: "join" } });
      assertAllowed(room.check(room.event({ type: "org.example.user", sender: CAROL, state_key: CAROL, content: {} })));
      assertAllowed(room.check(room.event({ type: "org.example.user", sender: CAROL, state_key: "x@y", content: {} })));
    });
    test(`${n("8")} not even a room admin may write another user's @-keyed state`, () => {
      const room = new Room(v);
      assertRefused(room.check(room.event({ type: "org.example.user", sender: ALICE, state_key: BOB, content: {} })), n("8"));
    });
  });

  describe(`room version ${v}: rule ${n("10")}, otherwise allow`, () => {
    test(`${n("10")} an ordinary state event with enough power is allowed`, () => {
      const room = new Room(v, { members: { [BOB]: "join" } });
      assertAllowed(room.check(room.event({ type: "m.room.topic", sender: BOB, state_key: "", content: { topic: "t" } })));
    });
  });

  describe(`room version ${v}: redactions (v3 "Handling redactions")`, () => {
    const room = new Room(v);
    const pl = powerLevelsFrom(standardPowerLevels(v, { [EVE]: 50 }), room.create, v);
    test("canRedact: a user can always redact their own event", () => {
      assert.equal(canRedact(CAROL, { sender: CAROL }, pl, v), true);
    });
    test("canRedact: someone else's event needs the redact level", () => {
      assert.equal(canRedact(CAROL, { sender: DAVE }, pl, v), false);
      assert.equal(canRedact(BOB, { sender: CAROL }, pl, v), true);
      assert.equal(canRedact(BOB, { sender: ALICE }, pl, v), true, "the redact level is enough, whatever the sender's level");
    });
    test("canRedact: same server is not enough for a local client", () => {
      assert.equal(canRedact(DAVE, { sender: CAROL }, pl, v), false);
    });
    test(`canRedact: the creator ${v === "12" ? "(infinite power)" : "(100)"} can redact anything`, () => {
      assert.equal(canRedact(ALICE, { sender: BOB }, pl, v), true);
    });
    test("redactionAppliesOnReceipt: redact level, or the same server as the original sender", () => {
      assert.equal(redactionAppliesOnReceipt({ sender: BOB }, { sender: CAROL }, pl, v), true);
      assert.equal(redactionAppliesOnReceipt({ sender: DAVE }, { sender: CAROL }, pl, v), true);
      assert.equal(redactionAppliesOnReceipt({ sender: DAVE }, { sender: BOB }, pl, v), false);
    });
  });
}

describe("room version 12: creators and the required power level", () => {
  test("8 a creator passes any required level (infinite), e.g. m.room.tombstone at 150", () => {
    const room = new Room("12");
    assertAllowed(room.check(room.event({ type: "m.room.tombstone", sender: ALICE, state_key: "", content: { body: "gone" } })));
  });
  test("8 an additional creator too, without being in users", () => {
    const room = new Room("12", { additionalCreators: [CAROL], members: { [CAROL]: "join" } });
    assertAllowed(room.check(room.event({ type: "m.room.tombstone", sender: CAROL, state_key: "", content: {} })));
  });
  test("8 in v11 the creator has only their listed level (100 < 150)", () => {
    const room = new Room("11");
    assertRefused(room.check(room.event({ type: "m.room.tombstone", sender: ALICE, state_key: "", content: {} })), "7");
  });
  test("canRedact (v12): an additional creator can redact anything", () => {
    const room = new Room("12", { additionalCreators: [CAROL] });
    const pl = powerLevelsFrom(standardPowerLevels("12"), room.create, "12");
    assert.equal(canRedact(CAROL, { sender: BOB }, pl, "12"), true);
  });
});
