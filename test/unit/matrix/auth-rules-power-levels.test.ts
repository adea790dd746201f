/**
 * Auth rule 9 (v12: 10), m.room.power_levels, for room versions 10, 11 and 12. In the fixture room
 * ALICE is the creator (100, infinite in v12), BOB a moderator at 50, CAROL an ordinary member.
 */
import { describe, test } from "node:test";
import type { PDU } from "../../../src/matrix/pdu.js";
import {
  ALICE,
  BOB,
  CAROL,
  DAVE,
  EVE,
  Room,
  VERSIONS,
  assertAllowed,
  assertRefused,
  num,
  standardPowerLevels,
} from "./auth-rules-fixtures.js";

type Content = Record<string, unknown>;

for (const v of VERSIONS) {
  const n = (base: string) => num(v, base);

  /** A room where BOB (50) may send power levels (the `m.room.power_levels` level is lowered to 50). */
  const modRoom = (extra: Content = {}, users: Record<string, number> = {}) => {
    const pl = standardPowerLevels(v, users);
    pl["events"] = { ...(pl["events"] as Content), "m.room.power_levels": 50 };
    Object.assign(pl, extra);
    return new Room(v, { powerLevels: pl, members: { [BOB]: "join", [CAROL]: "join" } });
  };
  const send = (room: Room, sender: string, change: (c: Content) => void): PDU => {
    const content = room.powerLevelsContent();
    change(content);
    return room.event({ type: "m.room.power_levels", sender, state_key: "", content });
  };
  const events = (c: Content) => c["events"] as Record<string, unknown>;
  const users = (c: Content) => c["users"] as Record<string, unknown>;
  const notifications = (c: Content) => c["notifications"] as Record<string, unknown>;

  describe(`room version ${v}: rule ${n("9")}, m.room.power_levels — content validation`, () => {
    for (const key of ["users_default", "events_default", "state_default", "ban", "redact", "kick", "invite"]) {
      test(`${n("9.1")} refused if ${key} is present and not an integer (string, float, null)`, () => {
        const room = new Room(v);
        for (const bad of ["50", 50.5, null, true, 2 ** 53]) {
          assertRefused(room.check(send(room, ALICE, (c) => (c[key] = bad))), n("9.1"));
        }
      });
    }
    test(`${n("9.1")} allowed with integer values (negative too)`, () => {
      const room = new Room(v);
      assertAllowed(room.check(send(room, ALICE, (c) => Object.assign(c, { users_default: -5, kick: 60, invite: 0 }))));
    });
    for (const key of ["events", "notifications"]) {
      test(`${n("9.2")} refused if ${key} is not an object with integer values`, () => {
        const room = new Room(v);
        assertRefused(room.check(send(room, ALICE, (c) => (c[key] = { "m.x": "50" }))), n("9.2"));
        assertRefused(room.check(send(room, ALICE, (c) => (c[key] = { "m.x": 1.5 }))), n("9.2"));
        assertRefused(room.check(send(room, ALICE, (c) => (c[key] = [50]))), n("9.2"));
        assertRefused(room.check(send(room, ALICE, (c) => (c[key] = 50))), n("9.2"));
      });
      test(`${n("9.2")} allowed if ${key} is an object of integers`, () => {
        const room = new Room(v);
        assertAllowed(room.check(send(room, ALICE, (c) => (c[key] = { ...(c[key] as Content), "m.x": 0 }))));
      });
    }
    test(`${n("9.3")} refused if users is not an object`, () => {
      const room = new Room(v);
      assertRefused(room.check(send(room, ALICE, (c) => (c["users"] = [BOB]))), n("9.3"));
    });
    test(`${n("9.3")} refused if a key of users is not a valid user ID`, () => {
      const room = new Room(v);
      for (const bad of ["bob", "@bob", "@bob:bad host", "#room:a.example", ""]) {
        assertRefused(room.check(send(room, ALICE, (c) => (users(c)[bad] = 0))), n("9.3"));
      }
    });
    test(`${n("9.3")} refused if a value of users is not an integer`, () => {
      const room = new Room(v);
      assertRefused(room.check(send(room, ALICE, (c) => (users(c)[CAROL] = "10"))), n("9.3"));
    });
    test(`${n("9.3")} allowed without a users property at all`, () => {
      const room = new Room(v);
      assertAllowed(room.check(send(room, ALICE, (c) => delete c["users"])) );
    });
  });

  if (v === "12") {
    describe("room version 12: rule 10.4, creators cannot be listed in users", () => {
      test("10.4 refused if users contains the sender of the m.room.create event", () => {
        const room = new Room(v);
        assertRefused(room.check(send(room, ALICE, (c) => (users(c)[ALICE] = 100))), "10.4");
      });
      test("10.4 refused if users contains an additional creator", () => {
        const room = new Room(v, { additionalCreators: [CAROL] });
        assertRefused(room.check(send(room, ALICE, (c) => (users(c)[CAROL] = 0))), "10.4");
      });
      test("10.4 refused for the very first power levels event too", () => {
        const room = new Room(v, { powerLevels: null });
        const ev = room.event({ type: "m.room.power_levels", sender: ALICE, state_key: "", content: { users: { [ALICE]: 100 } } });
        assertRefused(room.check(ev), "10.4");
      });
      test("10.4 allowed when no creator is listed", () => {
        const room = new Room(v, { additionalCreators: [CAROL] });
        assertAllowed(room.check(send(room, ALICE, (c) => (users(c)[DAVE] = 10))));
      });
    });
  } else {
    test(`room version ${v}: the creator may be listed in users (and demoted by themselves)`, () => {
      const room = new Room(v);
      assertAllowed(room.check(send(room, ALICE, (c) => (users(c)[ALICE] = 10))));
    });
  }

  describe(`room version ${v}: rule ${n("9.4")}, the first power levels event`, () => {
    test(`${n("9.4")} allowed: with no previous power levels event, any valid content (creator sends it)`, () => {
      const room = new Room(v, { powerLevels: null });
      const ev = room.event({
        type: "m.room.power_levels",
        sender: ALICE,
        state_key: "",
        content: { users: { [BOB]: 1000 }, kick: 500, events: { "m.room.name": 900 } },
      });
      assertAllowed(room.check(ev));
    });
    test(`${n("9.4")} once a power levels event exists, the same change is checked (${n("9.9.1")})`, () => {
      const room = new Room(v);
      const ev = send(room, ALICE, (c) => (users(c)[BOB] = 1000));
      if (v === "12") assertAllowed(room.check(ev)); // ALICE is a creator: infinite power
      else assertRefused(room.check(ev), n("9.9.1"));
      const room2 = new Room(v, { powerLevels: { ...standardPowerLevels(v), events: { "m.room.power_levels": 50 } }, members: { [BOB]: "join" } });
      assertRefused(room2.check(send(room2, BOB, (c) => (users(c)[CAROL] = 1000))), n("9.9.1"));
    });
    test(`${n("9.4")} a non-creator still needs the state level for the first one (rule ${n("7")})`, () => {
      const room = new Room(v, { powerLevels: null, members: { [BOB]: "join" } });
      assertRefused(room.check(room.event({ type: "m.room.power_levels", sender: BOB, state_key: "", content: {} })), n("7"));
    });
  });

  describe(`room version ${v}: rule ${n("9.5")}, top-level levels`, () => {
    test(`${n("9.5")} allowed: changing a level within reach (kick 50 → 40) by a 50`, () => {
      const room = modRoom();
      assertAllowed(room.check(send(room, BOB, (c) => (c["kick"] = 40))));
    });
    test(`${n("9.5.1")} refused if the current value is higher than the sender's level (changed)`, () => {
      const room = modRoom({ redact: 75 });
      assertRefused(room.check(send(room, BOB, (c) => (c["redact"] = 50))), n("9.5.1"));
    });
    test(`${n("9.5.1")} refused if the current value is higher than the sender's level (removed)`, () => {
      const room = modRoom({ state_default: 75 });
      assertRefused(room.check(send(room, BOB, (c) => delete c["state_default"])), n("9.5.1"));
    });
    test(`${n("9.5.2")} refused if the new value is higher than the sender's level (changed)`, () => {
      const room = modRoom();
      assertRefused(room.check(send(room, BOB, (c) => (c["ban"] = 51))), n("9.5.2"));
    });
    test(`${n("9.5.2")} refused if the new value is higher than the sender's level (added)`, () => {
      const room = modRoom();
      const c0 = room.powerLevelsContent();
      delete c0["invite"];
      room.setPowerLevels(c0);
      assertRefused(room.check(send(room, BOB, (c) => (c["invite"] = 60))), n("9.5.2"));
    });
    test(`${n("9.5")} allowed: removing a level at or below the sender's`, () => {
      const room = modRoom();
      assertAllowed(room.check(send(room, BOB, (c) => delete c["ban"])));
    });
    test(`${n("9.5")} an unchanged level above the sender is not an alteration`, () => {
      const room = modRoom({ redact: 75 });
      assertAllowed(room.check(send(room, BOB, (c) => (c["kick"] = 45))));
    });
  });

  for (const group of ["events", "notifications"] as const) {
    const map = group === "events" ? events : notifications;
    const highKey = group === "events" ? "m.room.tombstone" : "room";
    const setHigh = (c: Content) => (map(c)[highKey] = 150);
    describe(`room version ${v}: rules ${n("9.6")}-${n("9.7")}, ${group}`, () => {
      test(`${n("9.6.1")} refused: changing a ${group} entry whose current value is above the sender`, () => {
        const room = modRoom();
        room.setPowerLevels((() => { const c = room.powerLevelsContent(); setHigh(c); return c; })());
        assertRefused(room.check(send(room, BOB, (c) => (map(c)[highKey] = 0))), n("9.6.1"));
      });
      test(`${n("9.6.1")} refused: removing a ${group} entry whose current value is above the sender`, () => {
        const room = modRoom();
        room.setPowerLevels((() => { const c = room.powerLevelsContent(); setHigh(c); return c; })());
        assertRefused(room.check(send(room, BOB, (c) => delete map(c)[highKey])), n("9.6.1"));
      });
      test(`${n("9.6")} allowed: changing or removing a ${group} entry at the sender's level`, () => {
        const room = modRoom();
        assertAllowed(room.check(send(room, BOB, (c) => (map(c)["org.example"] = 50))));
        room.setPowerLevels((() => { const c = room.powerLevelsContent(); map(c)["org.example"] = 50; return c; })());
        assertAllowed(room.check(send(room, BOB, (c) => (map(c)["org.example"] = 10))));
        assertAllowed(room.check(send(room, BOB, (c) => delete map(c)["org.example"])));
      });
      test(`${n("9.7.1")} refused: adding a ${group} entry above the sender`, () => {
        const room = modRoom();
        assertRefused(room.check(send(room, BOB, (c) => (map(c)["org.example"] = 51))), n("9.7.1"));
      });
      test(`${n("9.7.1")} refused: changing a ${group} entry to above the sender`, () => {
        const room = modRoom();
        room.setPowerLevels((() => { const c = room.powerLevelsContent(); map(c)["org.example"] = 10; return c; })());
        assertRefused(room.check(send(room, BOB, (c) => (map(c)["org.example"] = 60))), n("9.7.1"));
      });
      test(`${n("9.7")} allowed: adding a ${group} entry at the sender's level`, () => {
        const room = modRoom();
        assertAllowed(room.check(send(room, BOB, (c) => (map(c)["org.example"] = 50))));
      });
    });
  }

  describe(`room version ${v}: rules ${n("9.8")}-${n("9.10")}, users`, () => {
    test(`${n("9.8.1")} refused: changing a user whose current level equals the sender's`, () => {
      const room = modRoom({}, { [EVE]: 50 });
      assertRefused(room.check(send(room, BOB, (c) => (users(c)[EVE] = 10))), n("9.8.1"));
    });
    test(`${n("9.8.1")} refused: removing a user whose current level is above the sender's`, () => {
      const room = modRoom({}, { [EVE]: 70 });
      assertRefused(room.check(send(room, BOB, (c) => delete users(c)[EVE])), n("9.8.1"));
    });
    test(`${n("9.8")} allowed: changing or removing a user below the sender`, () => {
      const room = modRoom({}, { [EVE]: 10 });
      assertAllowed(room.check(send(room, BOB, (c) => (users(c)[EVE] = 40))));
      assertAllowed(room.check(send(room, BOB, (c) => delete users(c)[EVE])));
    });
    test(`${n("9.8")} allowed: the sender's own entry is exempt (a 50 may demote themselves)`, () => {
      const room = modRoom();
      assertAllowed(room.check(send(room, BOB, (c) => (users(c)[BOB] = 0))));
      assertAllowed(room.check(send(room, BOB, (c) => delete users(c)[BOB])));
    });
    test(`${n("9.9.1")} refused: adding a user above the sender`, () => {
      const room = modRoom();
      assertRefused(room.check(send(room, BOB, (c) => (users(c)[CAROL] = 51))), n("9.9.1"));
    });
    test(`${n("9.9.1")} refused: raising oneself above one's level`, () => {
      const room = modRoom();
      assertRefused(room.check(send(room, BOB, (c) => (users(c)[BOB] = 51))), n("9.9.1"));
    });
    test(`${n("9.9")} allowed: adding a user at the sender's level`, () => {
      const room = modRoom();
      assertAllowed(room.check(send(room, BOB, (c) => (users(c)[CAROL] = 50))));
    });
    test(`${n("9.10")} otherwise allowed: an unchanged power levels event`, () => {
      const room = modRoom({}, { [EVE]: 100 });
      assertAllowed(room.check(send(room, BOB, () => {})));
    });
  });
}

describe("room version 12: creators' infinite power in power-level changes", () => {
  test("10.10 a creator may set any integer level, up to the largest safe integer", () => {
    const room = new Room("12");
    assertAllowed(room.check(sendTop(room, ALICE, { ban: 9007199254740991 })));
    assertAllowed(room.check(sendUsers(room, ALICE, { [BOB]: 9007199254740991 })));
  });
  test("10.9 a creator may change users at any level", () => {
    const room = new Room("12", { powerLevels: standardPowerLevels("12", { [EVE]: 1_000_000 }) });
    assertAllowed(room.check(sendUsers(room, ALICE, { [EVE]: 0 })));
  });
  test("10.3 infinity itself cannot be written: 2**53 is not a valid level", () => {
    const room = new Room("12");
    assertRefused(room.check(sendUsers(room, ALICE, { [BOB]: 2 ** 53 })), "10.3");
  });
  test("v11 comparison: the creator at 100 cannot set 101", () => {
    const room = new Room("11");
    assertRefused(room.check(sendUsers(room, ALICE, { [BOB]: 101 })), "9.9.1");
  });
});

function sendTop(room: Room, sender: string, extra: Content): PDU {
  return room.event({ type: "m.room.power_levels", sender, state_key: "", content: { ...room.powerLevelsContent(), ...extra } });
}

function sendUsers(room: Room, sender: string, extra: Record<string, number>): PDU {
  const c = room.powerLevelsContent();
  c["users"] = { ...(c["users"] as Content), ...extra };
  return room.event({ type: "m.room.power_levels", sender, state_key: "", content: c });
}
