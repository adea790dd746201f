/**
 * Auth rule 4 (v12: 5), m.room.member: join (incl. restricted / knock_restricted joins), invite
 * (incl. third-party invites), leave, ban, knock, for room versions 10, 11 and 12.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type SignatureVerifier, authorizeEvent } from "../../../src/matrix/auth-rules.js";
import { type PDU, stateKey } from "../../../src/matrix/pdu.js";
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
  makeCreateEvent,
  num,
  standardPowerLevels,
} from "./auth-rules-fixtures.js";

/** Signs for `via` whenever its server is asked: what the room writer passes for local events. */
const signedBy =
  (...servers: string[]) =>
  (_ev: PDU, server: string) =>
    servers.includes(server);

for (const v of VERSIONS) {
  const n = (base: string) => num(v, base);

  describe(`room version ${v}: rule ${n("4.1")}-${n("4.2")}, member event shape and join_authorised_via_users_server`, () => {
    test(`${n("4.1")} refused if there is no state_key`, () => {
      const room = new Room(v, { joinRule: "public" });
      const ev = room.member(CAROL, "join");
      delete ev.state_key;
      ev.auth_events = room.authEventIds(ev);
      assertRefused(room.check(ev), n("4.1"));
    });
    test(`${n("4.1")} refused if there is no membership property in content`, () => {
      const room = new Room(v, { joinRule: "public" });
      const ev = room.event({ type: "m.room.member", sender: CAROL, state_key: CAROL, content: { displayname: "C" } });
      assertRefused(room.check(ev), n("4.1"));
    });
    test(`${n("4.1")} allowed with a state_key and a membership`, () => {
      const room = new Room(v, { joinRule: "public" });
      assertAllowed(room.check(room.member(CAROL, "join")));
    });

    const restrictedJoin = (room: Room, via: unknown) => room.member(CAROL, "join", CAROL, { join_authorised_via_users_server: via });

    test(`${n("4.2.1")} refused if the event is not validly signed by the server of join_authorised_via_users_server`, () => {
      const room = new Room(v, { joinRule: "restricted" });
      const ev = restrictedJoin(room, ALICE);
      assertRefused(room.check(ev, { isSignedByServer: signedBy("b.example") }), n("4.2.1"));
      assertRefused(room.check(ev), n("4.2.1")); // no signature checker: refused, not trusted
      assertRefused(room.check(ev, { isSignedByServer: () => { throw new Error("no key"); } }), n("4.2.1"));
    });
    test(`${n("4.2.1")} refused if join_authorised_via_users_server is not a user ID`, () => {
      const room = new Room(v, { joinRule: "restricted" });
      assertRefused(room.check(restrictedJoin(room, "alice"), { isSignedByServer: () => true }), n("4.2.1"));
      assertRefused(room.check(restrictedJoin(room, null), { isSignedByServer: () => true }), n("4.2.1"));
    });
    test(`${n("4.2.1")} applies to any membership carrying the key, not only joins`, () => {
      const room = new Room(v, { members: { [CAROL]: "join" } });
      const leave = room.member(CAROL, "leave", CAROL, { join_authorised_via_users_server: ALICE });
      assertRefused(room.check(leave), n("4.2.1"));
      assertAllowed(room.check(leave, { isSignedByServer: signedBy("a.example") }));
    });
    test(`${n("4.2.1")} allowed when signed by that server (asked with the server name of the user ID)`, () => {
      const room = new Room(v, { joinRule: "restricted" });
      const asked: string[] = [];
      const r = room.check(restrictedJoin(room, ALICE), {
        isSignedByServer: (_e, server) => {
          asked.push(server);
          return server === "a.example";
        },
      });
      assertAllowed(r);
      assert.deepEqual(asked, ["a.example"]);
    });
  });

  describe(`room version ${v}: rule ${n("4.3")}, membership join`, () => {
    /** A room holding only its create event, and a join that points straight at it. */
    const justCreated = (create: PDU) => {
      const state = new Map([[stateKey("m.room.create", ""), create]]);
      const join = (user: string): PDU => ({
        ...new Room(v).member(user, "join"),
        room_id: v === "12" ? `!${create.event_id.slice(1)}` : create.room_id,
        prev_events: [create.event_id],
        auth_events: v === "12" ? [] : [create.event_id],
      });
      return { join, check: (ev: PDU) => authorizeEvent(ev, state, v, { createEvent: create }) };
    };
    test(`${n("4.3.1")} allowed: the creator's join when the only previous event is m.room.create`, () => {
      const room = justCreated(makeCreateEvent(v, ALICE));
      assertAllowed(room.check(room.join(ALICE)));
    });
    test(`${n("4.3.1")} refused: someone else's join right after m.room.create (no join rules yet)`, () => {
      const room = justCreated(makeCreateEvent(v, ALICE));
      assertRefused(room.check(room.join(BOB)), n("4.3.7"));
    });
    test(`${n("4.3.1")} refused: the creator's join with another previous event than m.room.create`, () => {
      const create = makeCreateEvent(v, ALICE);
      const room = justCreated(create);
      assertRefused(room.check({ ...room.join(ALICE), prev_events: [create.event_id, "$other"] }), n("4.3.7"));
    });
    test(`${n("4.3.1")} the creator is content.creator in v10 and the create sender from v11`, () => {
      // A (legal in v10) create event whose content.creator differs from its sender.
      const room = justCreated(makeCreateEvent(v, ALICE, { creator: BOB }));
      if (v === "10") {
        assertAllowed(room.check(room.join(BOB)));
        assertRefused(room.check(room.join(ALICE)));
      } else {
        assertAllowed(room.check(room.join(ALICE)));
        assertRefused(room.check(room.join(BOB)));
      }
    });
    test(`${n("4.3.2")} refused if the sender does not match state_key`, () => {
      const room = new Room(v, { joinRule: "public" });
      assertRefused(room.check(room.member(ALICE, "join", CAROL)), n("4.3.2"));
    });
    test(`${n("4.3.3")} refused if the sender is banned (even from a public room)`, () => {
      const room = new Room(v, { joinRule: "public", members: { [CAROL]: "ban" } });
      assertRefused(room.check(room.member(CAROL, "join")), n("4.3.3"));
    });
    for (const rule of ["invite", "knock"]) {
      test(`${n("4.3.4")} join rule ${rule}: allowed if membership is invite`, () => {
        const room = new Room(v, { joinRule: rule, members: { [CAROL]: "invite" } });
        assertAllowed(room.check(room.member(CAROL, "join")));
      });
      test(`${n("4.3.4")} join rule ${rule}: allowed if membership is join (e.g. a profile change)`, () => {
        const room = new Room(v, { joinRule: rule, members: { [CAROL]: "join" } });
        assertAllowed(room.check(room.member(CAROL, "join", CAROL, { displayname: "Carol" })));
      });
      test(`${n("4.3.4")} join rule ${rule}: refused without an invite`, () => {
        for (const m of [undefined, "leave", "knock"]) {
          const room = new Room(v, { joinRule: rule, members: m ? { [CAROL]: m } : {} });
          assertRefused(room.check(room.member(CAROL, "join")), n("4.3.7"));
        }
      });
    }
    for (const rule of ["restricted", "knock_restricted"]) {
      const opts = { isSignedByServer: signedBy("a.example") };
      test(`${n("4.3.5.1")} join rule ${rule}: allowed if membership is invite or join`, () => {
        for (const m of ["invite", "join"]) {
          const room = new Room(v, { joinRule: rule, members: { [CAROL]: m } });
          assertAllowed(room.check(room.member(CAROL, "join")));
        }
      });
      test(`${n("4.3.5.2")} join rule ${rule}: refused without join_authorised_via_users_server`, () => {
        const room = new Room(v, { joinRule: rule });
        assertRefused(room.check(room.member(CAROL, "join")), n("4.3.5.2"));
      });
      test(`${n("4.3.5.2")} join rule ${rule}: refused if the authorising user is not a joined member`, () => {
        for (const m of [undefined, "invite", "leave", "ban"]) {
          const room = new Room(v, { joinRule: rule, members: m ? { [BOB]: m } : {} });
          if (!m) room.state.delete(stateKey("m.room.member", BOB));
          const ev = room.member(CAROL, "join", CAROL, { join_authorised_via_users_server: BOB });
          assertRefused(room.check(ev, opts), n("4.3.5.2"));
        }
      });
      test(`${n("4.3.5.2")} join rule ${rule}: refused if the authorising user cannot invite`, () => {
        const pl = standardPowerLevels(v);
        pl["invite"] = 60; // BOB has 50
        const room = new Room(v, { joinRule: rule, powerLevels: pl, members: { [BOB]: "join" } });
        const ev = room.member(CAROL, "join", CAROL, { join_authorised_via_users_server: BOB });
        assertRefused(room.check(ev, opts), n("4.3.5.2"));
      });
      test(`${n("4.3.5.3")} join rule ${rule}: otherwise allowed (joined authoriser with the invite level)`, () => {
        const room = new Room(v, { joinRule: rule, members: { [BOB]: "join" } });
        const ev = room.member(CAROL, "join", CAROL, { join_authorised_via_users_server: BOB });
        assert.ok(ev.auth_events.includes(room.state.get(stateKey("m.room.member", BOB))!.event_id));
        assertAllowed(room.check(ev, opts));
      });
      test(`${n("4.3.5")} join rule ${rule}: a banned user stays out even with an authoriser (${n("4.3.3")})`, () => {
        const room = new Room(v, { joinRule: rule, members: { [BOB]: "join", [CAROL]: "ban" } });
        const ev = room.member(CAROL, "join", CAROL, { join_authorised_via_users_server: BOB });
        assertRefused(room.check(ev, opts), n("4.3.3"));
      });
    }
    test(`${n("4.3.6")} join rule public: allowed`, () => {
      const room = new Room(v, { joinRule: "public" });
      assertAllowed(room.check(room.member(CAROL, "join")));
    });
    test(`${n("4.3.7")} otherwise refused (join rule private, or unknown)`, () => {
      for (const rule of ["private", "open-sesame"]) {
        const room = new Room(v, { joinRule: rule, members: { [CAROL]: "invite" } });
        assertRefused(room.check(room.member(CAROL, "join")), n("4.3.7"));
      }
    });
    test(`${n("4.3.4")} no m.room.join_rules event counts as invite (as Synapse reads it)`, () => {
      const invited = new Room(v, { joinRule: null, members: { [CAROL]: "invite" } });
      assertAllowed(invited.check(invited.member(CAROL, "join")));
      const uninvited = new Room(v, { joinRule: null });
      assertRefused(uninvited.check(uninvited.member(CAROL, "join")), n("4.3.7"));
    });
  });

  describe(`room version ${v}: rule ${n("4.4")}, membership invite`, () => {
    test(`${n("4.4.2")} refused if the sender's membership is not join`, () => {
      for (const m of ["invite", "leave", "knock"]) {
        const room = new Room(v, { members: { [CAROL]: m } });
        assertRefused(room.check(room.member(CAROL, "invite", DAVE)), n("4.4.2"));
      }
    });
    test(`${n("4.4.3")} refused if the target user is already joined`, () => {
      const room = new Room(v, { members: { [CAROL]: "join" } });
      assertRefused(room.check(room.member(ALICE, "invite", CAROL)), n("4.4.3"));
    });
    test(`${n("4.4.3")} refused if the target user is banned`, () => {
      const room = new Room(v, { members: { [CAROL]: "ban" } });
      assertRefused(room.check(room.member(ALICE, "invite", CAROL)), n("4.4.3"));
    });
    test(`${n("4.4.4")} allowed if the sender's power level is at least the invite level`, () => {
      const room = new Room(v, { members: { [CAROL]: "join", [DAVE]: "leave" } });
      assertAllowed(room.check(room.member(CAROL, "invite", DAVE))); // invite level 0, CAROL 0
      assertAllowed(room.check(room.member(CAROL, "invite", EVE))); // no membership yet
    });
    test(`${n("4.4.5")} refused if the sender's power level is below the invite level`, () => {
      const pl = standardPowerLevels(v);
      pl["invite"] = 50;
      const room = new Room(v, { powerLevels: pl, members: { [CAROL]: "join", [BOB]: "join" } });
      assertRefused(room.check(room.member(CAROL, "invite", DAVE)), n("4.4.5"));
      assertAllowed(room.check(room.member(BOB, "invite", DAVE)));
    });
  });

  describe(`room version ${v}: rule ${n("4.4.1")}, third-party invites`, () => {
    const NO_SIGNED = Symbol("no signed property");
    const signed = { mxid: DAVE, token: "tok", signatures: { "id.example": { "ed25519:0": "SIG" } } };
    const setup = (tpiContent: Record<string, unknown> = { public_key: "PK1", public_keys: [{ public_key: "PK2" }] }) => {
      const room = new Room(v, { members: { [BOB]: "join" } });
      room.put(room.event({ type: "m.room.third_party_invite", sender: ALICE, state_key: "tok", content: { display_name: "d…", ...tpiContent } }));
      return room;
    };
    const invite = (room: Room, s: unknown = signed, sender = ALICE, target = DAVE) =>
      room.member(sender, "invite", target, { third_party_invite: s === NO_SIGNED ? { display_name: "d…" } : { display_name: "d…", signed: s } });
    const verifyWith =
      (goodKey: string, calls: unknown[][] = []): SignatureVerifier =>
      (obj, name, keyId, pk) => {
        calls.push([obj, name, keyId, pk]);
        return name === "id.example" && keyId === "ed25519:0" && pk === goodKey;
      };

    test(`${n("4.4.1.7")} allowed if a signature in signed matches public_keys (and the token's event is an auth event)`, () => {
      const room = setup();
      const ev = invite(room);
      assert.ok(ev.auth_events.includes(room.state.get(stateKey("m.room.third_party_invite", "tok"))!.event_id));
      const calls: unknown[][] = [];
      assertAllowed(room.check(ev, { verifySignature: verifyWith("PK2", calls) }));
      assert.deepEqual(calls.at(-1), [(ev.content["third_party_invite"] as { signed: unknown }).signed, "id.example", "ed25519:0", "PK2"]);
    });
    test(`${n("4.4.1.7")} allowed if a signature in signed matches the single public_key`, () => {
      const room = setup({ public_key: "PK1" });
      assertAllowed(room.check(invite(room), { verifySignature: verifyWith("PK1") }));
    });
    test(`${n("4.4.1.1")} refused if the target user is banned`, () => {
      const room = setup();
      room.setMember(DAVE, "ban");
      assertRefused(room.check(invite(room), { verifySignature: verifyWith("PK2") }), n("4.4.1.1"));
    });
    test(`${n("4.4.1.2")} refused if third_party_invite has no signed property`, () => {
      const room = setup();
      assertRefused(room.check(invite(room, NO_SIGNED), { verifySignature: verifyWith("PK2") }), n("4.4.1.2"));
      assertRefused(room.check(invite(room, "signed"), { verifySignature: verifyWith("PK2") }), n("4.4.1.2"));
    });
    test(`${n("4.4.1.3")} refused if signed does not have mxid and token`, () => {
      const room = setup();
      const { token: _t, ...noToken } = signed;
      const { mxid: _m, ...noMxid } = signed;
      assertRefused(room.check(invite(room, noToken), { verifySignature: verifyWith("PK2") }), n("4.4.1.3"));
      assertRefused(room.check(invite(room, noMxid), { verifySignature: verifyWith("PK2") }), n("4.4.1.3"));
    });
    test(`${n("4.4.1.4")} refused if mxid does not match state_key`, () => {
      const room = setup();
      assertRefused(room.check(invite(room, { ...signed, mxid: EVE }), { verifySignature: verifyWith("PK2") }), n("4.4.1.4"));
    });
    test(`${n("4.4.1.5")} refused if no m.room.third_party_invite has the token as state_key`, () => {
      const room = setup();
      assertRefused(room.check(invite(room, { ...signed, token: "other" }), { verifySignature: verifyWith("PK2") }), n("4.4.1.5"));
    });
    test(`${n("4.4.1.6")} refused if the sender is not the sender of the m.room.third_party_invite`, () => {
      const room = setup();
      assertRefused(room.check(invite(room, signed, BOB), { verifySignature: verifyWith("PK2") }), n("4.4.1.6"));
    });
    test(`${n("4.4.1.8")} refused if no signature matches any public key`, () => {
      const room = setup();
      assertRefused(room.check(invite(room), { verifySignature: verifyWith("PK3") }), n("4.4.1.8"));
      assertRefused(room.check(invite(room, { ...signed, signatures: {} }), { verifySignature: () => true }), n("4.4.1.8"));
    });
    test(`${n("4.4.1.8")} refused when no verifier is injected, or when it throws`, () => {
      const room = setup();
      assertRefused(room.check(invite(room)), n("4.4.1.8"));
      assertRefused(room.check(invite(room), { verifySignature: () => { throw new Error("bad key"); } }), n("4.4.1.8"));
    });
  });

  describe(`room version ${v}: rule ${n("4.5")}, membership leave`, () => {
    for (const m of ["invite", "join", "knock"]) {
      test(`${n("4.5.1")} allowed: leaving yourself from ${m}`, () => {
        const room = new Room(v, { members: { [CAROL]: m } });
        assertAllowed(room.check(room.member(CAROL, "leave")));
      });
    }
    for (const m of [undefined, "leave", "ban"]) {
      test(`${n("4.5.1")} refused: leaving yourself from ${m ?? "no membership"}`, () => {
        const room = new Room(v, { members: m ? { [CAROL]: m } : {} });
        assertRefused(room.check(room.member(CAROL, "leave")), n("4.5.1"));
      });
    }
    test(`${n("4.5.2")} refused if the sender's membership is not join`, () => {
      const room = new Room(v, { members: { [BOB]: "leave", [CAROL]: "join" } });
      assertRefused(room.check(room.member(BOB, "leave", CAROL)), n("4.5.2"));
    });
    test(`${n("4.5.3")} refused: unbanning with less than the ban level`, () => {
      const pl = standardPowerLevels(v);
      pl["ban"] = 75;
      const room = new Room(v, { powerLevels: pl, members: { [BOB]: "join", [CAROL]: "ban" } });
      assertRefused(room.check(room.member(BOB, "leave", CAROL)), n("4.5.3"));
      assertAllowed(room.check(room.member(ALICE, "leave", CAROL)));
    });
    test(`${n("4.5.3")} unbanning also needs the kick level (${n("4.5.5")})`, () => {
      const pl = standardPowerLevels(v);
      pl["ban"] = 40;
      pl["kick"] = 60;
      const room = new Room(v, { powerLevels: pl, members: { [BOB]: "join", [CAROL]: "ban" } });
      assertRefused(room.check(room.member(BOB, "leave", CAROL)), n("4.5.5"));
    });
    test(`${n("4.5.4")} allowed: kick with the kick level, target below the sender`, () => {
      const room = new Room(v, { members: { [BOB]: "join", [CAROL]: "join" } });
      assertAllowed(room.check(room.member(BOB, "leave", CAROL)));
      assertAllowed(room.check(room.member(ALICE, "leave", BOB)));
    });
    test(`${n("4.5.5")} refused: kick without the kick level`, () => {
      const room = new Room(v, { members: { [CAROL]: "join", [DAVE]: "join" } });
      assertRefused(room.check(room.member(CAROL, "leave", DAVE)), n("4.5.5"));
    });
    test(`${n("4.5.5")} refused: kicking someone at or above your level`, () => {
      const room = new Room(v, { powerLevels: standardPowerLevels(v, { [EVE]: 50 }), members: { [BOB]: "join", [EVE]: "join" } });
      assertRefused(room.check(room.member(BOB, "leave", EVE)), n("4.5.5"));
      assertRefused(room.check(room.member(BOB, "leave", ALICE)), n("4.5.5"));
    });
  });

  describe(`room version ${v}: rule ${n("4.6")}, membership ban`, () => {
    test(`${n("4.6.1")} refused if the sender's membership is not join`, () => {
      const room = new Room(v, { members: { [BOB]: "invite", [CAROL]: "join" } });
      assertRefused(room.check(room.member(BOB, "ban", CAROL)), n("4.6.1"));
    });
    test(`${n("4.6.2")} allowed with the ban level against a lower target (member or not)`, () => {
      const room = new Room(v, { members: { [BOB]: "join", [CAROL]: "join" } });
      assertAllowed(room.check(room.member(BOB, "ban", CAROL)));
      assertAllowed(room.check(room.member(BOB, "ban", DAVE)));
    });
    test(`${n("4.6.3")} refused without the ban level`, () => {
      const room = new Room(v, { members: { [CAROL]: "join", [DAVE]: "join" } });
      assertRefused(room.check(room.member(CAROL, "ban", DAVE)), n("4.6.3"));
    });
    test(`${n("4.6.3")} refused against a target at or above the sender`, () => {
      const room = new Room(v, { powerLevels: standardPowerLevels(v, { [EVE]: 50 }), members: { [BOB]: "join" } });
      assertRefused(room.check(room.member(BOB, "ban", EVE)), n("4.6.3"));
      assertRefused(room.check(room.member(BOB, "ban", ALICE)), n("4.6.3"));
    });
  });

  describe(`room version ${v}: rule ${n("4.7")}, membership knock`, () => {
    for (const rule of ["invite", "public", "restricted", "private"]) {
      test(`${n("4.7.1")} refused if the join rule is ${rule}`, () => {
        const room = new Room(v, { joinRule: rule });
        assertRefused(room.check(room.member(CAROL, "knock")), n("4.7.1"));
      });
    }
    for (const rule of ["knock", "knock_restricted"]) {
      test(`${n("4.7.2")} join rule ${rule}: refused if the sender does not match state_key`, () => {
        const room = new Room(v, { joinRule: rule });
        assertRefused(room.check(room.member(ALICE, "knock", CAROL)), n("4.7.2"));
      });
      test(`${n("4.7.3")} join rule ${rule}: allowed if the sender is not banned, invited or joined`, () => {
        for (const m of [undefined, "leave", "knock"]) {
          const room = new Room(v, { joinRule: rule, members: m ? { [CAROL]: m } : {} });
          assertAllowed(room.check(room.member(CAROL, "knock")));
        }
      });
      test(`${n("4.7.4")} join rule ${rule}: refused if the sender is banned, invited or joined`, () => {
        for (const m of ["ban", "invite", "join"]) {
          const room = new Room(v, { joinRule: rule, members: { [CAROL]: m } });
          assertRefused(room.check(room.member(CAROL, "knock")), n("4.7.4"));
        }
      });
    }
  });

  describe(`room version ${v}: rule ${n("4.8")}, unknown membership`, () => {
    test(`${n("4.8")} refused if the membership is unknown`, () => {
      const room = new Room(v, { members: { [CAROL]: "join" } });
      assertRefused(room.check(room.member(CAROL, "lurk")), n("4.8"));
      assertRefused(room.check(room.member(CAROL, 1 as unknown as string)), n("4.8"));
    });
  });
}

describe("room version 12: creators in membership rules", () => {
  test("5.5.4/5.6.2 creators (infinite) can kick and ban anyone with a finite level", () => {
    const pl = standardPowerLevels("12", { [EVE]: 9007199254740991 });
    const room = new Room("12", { powerLevels: pl, members: { [EVE]: "join" } });
    assertAllowed(room.check(room.member(ALICE, "leave", EVE)));
    assertAllowed(room.check(room.member(ALICE, "ban", EVE)));
  });
  test("5.5.5/5.6.3 nobody can kick or ban a creator, not even another creator", () => {
    const room = new Room("12", { additionalCreators: [CAROL], members: { [BOB]: "join", [CAROL]: "join" } });
    assertRefused(room.check(room.member(BOB, "leave", ALICE)), "5.5.5");
    assertRefused(room.check(room.member(BOB, "ban", CAROL)), "5.6.3");
    assertRefused(room.check(room.member(CAROL, "ban", ALICE)), "5.6.3");
    assertRefused(room.check(room.member(ALICE, "leave", CAROL)), "5.5.5");
  });
  test("5.3.5.2 an additional creator can authorise restricted joins (infinite ≥ invite level)", () => {
    const pl = standardPowerLevels("12");
    pl["invite"] = 100;
    const room = new Room("12", { joinRule: "restricted", powerLevels: pl, additionalCreators: [CAROL], members: { [CAROL]: "join" } });
    const ev = room.member(DAVE, "join", DAVE, { join_authorised_via_users_server: CAROL });
    assertAllowed(room.check(ev, { isSignedByServer: signedBy("b.example") }));
  });
  test("v11 has no additional creators: the same list gives no power", () => {
    const room = new Room("11", { additionalCreators: [CAROL], members: { [BOB]: "join", [CAROL]: "join" } });
    assertAllowed(room.check(room.member(BOB, "leave", CAROL)));
  });
});
