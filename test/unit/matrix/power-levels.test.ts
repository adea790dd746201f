/**
 * Power levels: defaults (m.room.power_levels schema; server-server-api "Definitions"), creators
 * (100 without a power levels event in v10/11, infinite in v12), and lookups.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  POWER_LEVEL_DEFAULTS,
  createEventCreator,
  isPowerLevelValue,
  notificationLevel,
  powerLevelsChangeProblem,
  powerLevelsContentProblem,
  powerLevelsFrom,
  requiredLevelForEvent,
  roomCreators,
  userPowerLevel,
} from "../../../src/matrix/power-levels.js";
import { ALICE, BOB, CAROL, makeCreateEvent } from "./auth-rules-fixtures.js";

describe("defaults", () => {
  test("without a power levels event: users 0, events 0, state 50, ban/kick/redact 50, invite 0, @room 50", () => {
    const pl = powerLevelsFrom(undefined, undefined, "11");
    assert.equal(pl.users_default, 0);
    assert.equal(pl.events_default, 0);
    assert.equal(pl.state_default, 50); // spec v1.7 removed the old "0 without a power levels event"
    assert.equal(pl.ban, 50);
    assert.equal(pl.kick, 50);
    assert.equal(pl.redact, 50);
    assert.equal(pl.invite, 0);
    assert.equal(notificationLevel(pl, "room"), 50);
    assert.equal(pl.fromEvent, false);
  });
  test("an empty power levels content gets the same defaults", () => {
    const pl = powerLevelsFrom({}, makeCreateEvent("11", ALICE), "11");
    assert.deepEqual(
      [pl.users_default, pl.events_default, pl.state_default, pl.ban, pl.kick, pl.redact, pl.invite],
      [0, 0, 50, 50, 50, 50, 0],
    );
    assert.equal(pl.fromEvent, true);
    assert.equal(userPowerLevel(pl, ALICE), 0, "with a power levels event the creator has no implicit 100");
  });
  test("explicit values are used", () => {
    const pl = powerLevelsFrom(
      { users_default: 5, events_default: 1, state_default: 2, ban: 3, kick: 4, redact: 6, invite: 7, notifications: { room: 8 } },
      undefined,
      "10",
    );
    assert.deepEqual(
      [pl.users_default, pl.events_default, pl.state_default, pl.ban, pl.kick, pl.redact, pl.invite, notificationLevel(pl, "room")],
      [5, 1, 2, 3, 4, 6, 7, 8],
    );
  });
  test("values that are not integers fall back to the default (v10+ refuses them at auth)", () => {
    const pl = powerLevelsFrom({ ban: "10", kick: 1.5, users: { [BOB]: "100" } }, undefined, "10");
    assert.equal(pl.ban, 50);
    assert.equal(pl.kick, 50);
    assert.equal(userPowerLevel(pl, BOB), 0);
  });
  test("isPowerLevelValue: safe integers only", () => {
    assert.equal(isPowerLevelValue(0), true);
    assert.equal(isPowerLevelValue(-100), true);
    assert.equal(isPowerLevelValue(2 ** 53 - 1), true);
    for (const bad of [2 ** 53, 1.5, "1", null, undefined, NaN, Infinity]) assert.equal(isPowerLevelValue(bad), false);
  });
});

describe("userPowerLevel", () => {
  test("users entry, else users_default", () => {
    const pl = powerLevelsFrom({ users_default: 3, users: { [BOB]: 50 } }, undefined, "11");
    assert.equal(userPowerLevel(pl, BOB), 50);
    assert.equal(userPowerLevel(pl, CAROL), 3);
  });
  for (const v of ["10", "11"]) {
    test(`v${v}: without a power levels event the creator has 100, everyone else 0`, () => {
      const create = makeCreateEvent(v as "10", ALICE);
      const pl = powerLevelsFrom(undefined, create, v);
      assert.equal(userPowerLevel(pl, ALICE), 100);
      assert.equal(userPowerLevel(pl, BOB), 0);
      // Levels built without the create event learn the creator from the optional arguments.
      const bare = powerLevelsFrom(undefined, undefined, v);
      assert.equal(userPowerLevel(bare, ALICE), 0);
      assert.equal(userPowerLevel(bare, ALICE, create, v), 100);
    });
  }
  test("v10: the creator is content.creator; v11: the sender", () => {
    assert.equal(createEventCreator(makeCreateEvent("10", ALICE, { creator: BOB }), "10"), BOB);
    assert.equal(createEventCreator(makeCreateEvent("11", ALICE, { creator: BOB }), "11"), ALICE);
    assert.equal(userPowerLevel(powerLevelsFrom(undefined, makeCreateEvent("10", ALICE, { creator: BOB }), "10"), BOB), 100);
  });
  test("v12: creators (sender + additional_creators) are infinite, with or without power levels", () => {
    const create = makeCreateEvent("12", ALICE, { additional_creators: [BOB] });
    assert.deepEqual(roomCreators(create, "12"), [ALICE, BOB]);
    for (const content of [undefined, { users: { [CAROL]: 100 }, users_default: 10 }]) {
      const pl = powerLevelsFrom(content, create, "12");
      assert.equal(userPowerLevel(pl, ALICE), Infinity);
      assert.equal(userPowerLevel(pl, BOB), Infinity);
      assert.equal(userPowerLevel(pl, CAROL), content ? 100 : 0);
    }
    const bare = powerLevelsFrom(undefined, undefined, "12");
    assert.equal(userPowerLevel(bare, BOB), 0);
    assert.equal(userPowerLevel(bare, BOB, create, "12"), Infinity);
  });
  test("v10/v11 have no infinite creators, even with additional_creators", () => {
    const create = makeCreateEvent("11", ALICE, { additional_creators: [BOB] });
    assert.deepEqual(roomCreators(create, "11"), []);
    assert.equal(userPowerLevel(powerLevelsFrom({}, create, "11"), ALICE, create, "11"), 0);
  });
  test("a __proto__ or constructor user id is just a key", () => {
    const content = JSON.parse('{"users": {"__proto__": 99}}') as Record<string, unknown>;
    const pl = powerLevelsFrom(content, undefined, "11");
    assert.equal(userPowerLevel(pl, "__proto__"), 99);
    assert.equal(userPowerLevel(pl, "constructor"), 0);
    assert.equal(requiredLevelForEvent(pl, "toString", false), 0);
  });
  test("unsupported room versions throw (a programming error)", () => {
    assert.throws(() => powerLevelsFrom(undefined, undefined, "9"), RangeError);
  });
});

describe("requiredLevelForEvent and notificationLevel", () => {
  const pl = powerLevelsFrom(
    { events: { "m.room.name": 75, "m.reaction": 5 }, events_default: 1, state_default: 60, notifications: { room: 20 } },
    undefined,
    "12",
  );
  test("events[type] first", () => {
    assert.equal(requiredLevelForEvent(pl, "m.room.name", true), 75);
    assert.equal(requiredLevelForEvent(pl, "m.reaction", false), 5);
  });
  test("else state_default for state events and events_default for the others", () => {
    assert.equal(requiredLevelForEvent(pl, "m.room.topic", true), 60);
    assert.equal(requiredLevelForEvent(pl, "m.room.message", false), 1);
  });
  test("notifications[key], else 50", () => {
    assert.equal(notificationLevel(pl, "room"), 20);
    assert.equal(notificationLevel(pl, "other"), POWER_LEVEL_DEFAULTS.notifications_room);
    assert.equal(notificationLevel(powerLevelsFrom({}, undefined, "10"), "room"), 50);
  });
});

describe("powerLevelsContentProblem / powerLevelsChangeProblem (rules 9.1–9.3, 9.5–9.9, v10/v11 numbering)", () => {
  test("content problems name the rule", () => {
    assert.equal(powerLevelsContentProblem({ ban: 50, users: { [BOB]: 50 } }), undefined);
    assert.equal(powerLevelsContentProblem({ kick: "50" })?.rule, "9.1");
    assert.equal(powerLevelsContentProblem({ events: { x: "1" } })?.rule, "9.2");
    assert.equal(powerLevelsContentProblem({ users: { bob: 1 } })?.rule, "9.3");
  });
  test("change problems compare levels as written, the sender's own entry exempt from 9.8", () => {
    const before = { kick: 50, users: { [BOB]: 50, [CAROL]: 50 } };
    assert.equal(powerLevelsChangeProblem(before, { ...before, kick: 40 }, BOB, 50), undefined);
    assert.equal(powerLevelsChangeProblem(before, { ...before, users: { [BOB]: 0, [CAROL]: 50 } }, BOB, 50), undefined);
    assert.equal(powerLevelsChangeProblem(before, { ...before, users: { [BOB]: 50, [CAROL]: 0 } }, BOB, 50)?.rule, "9.8.1");
    assert.equal(powerLevelsChangeProblem(before, { ...before, users: { [BOB]: 50, [CAROL]: 0 } }, ALICE, Infinity), undefined);
  });
});
