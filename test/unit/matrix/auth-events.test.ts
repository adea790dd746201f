/**
 * Auth events selection (content/server-server-api.md "Auth events selection"), including the v12
 * change: the m.room.create event MUST NOT be selected (content/rooms/v12.md).
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { authEventTypesFor, selectAuthEventIds } from "../../../src/matrix/auth-events.js";
import { stateKey } from "../../../src/matrix/pdu.js";
import { ALICE, BOB, CAROL, Room, VERSIONS } from "./auth-rules-fixtures.js";

const member = (sender: string, target: string, content: Record<string, unknown>) => ({
  type: "m.room.member",
  sender,
  state_key: target,
  content,
});

for (const v of VERSIONS) {
  const create: Array<[string, string]> = v === "12" ? [] : [["m.room.create", ""]];
  describe(`room version ${v}`, () => {
    test("m.room.create has no auth events", () => {
      assert.deepEqual(authEventTypesFor({ type: "m.room.create", sender: ALICE, state_key: "", content: {} }, v), []);
    });
    test(`any event: ${v === "12" ? "" : "create, "}power levels, sender's member`, () => {
      assert.deepEqual(authEventTypesFor({ type: "m.room.message", sender: BOB, content: { body: "x" } }, v), [
        ...create,
        ["m.room.power_levels", ""],
        ["m.room.member", BOB],
      ]);
      assert.deepEqual(authEventTypesFor({ type: "m.room.topic", sender: BOB, state_key: "", content: {} }, v), [
        ...create,
        ["m.room.power_levels", ""],
        ["m.room.member", BOB],
      ]);
    });
    for (const membership of ["join", "invite", "knock"]) {
      test(`membership ${membership}: target's member and join rules`, () => {
        assert.deepEqual(authEventTypesFor(member(ALICE, CAROL, { membership }), v), [
          ...create,
          ["m.room.power_levels", ""],
          ["m.room.member", ALICE],
          ["m.room.member", CAROL],
          ["m.room.join_rules", ""],
        ]);
      });
    }
    for (const membership of ["leave", "ban"]) {
      test(`membership ${membership}: target's member, no join rules`, () => {
        assert.deepEqual(authEventTypesFor(member(ALICE, CAROL, { membership }), v), [
          ...create,
          ["m.room.power_levels", ""],
          ["m.room.member", ALICE],
          ["m.room.member", CAROL],
        ]);
      });
    }
    test("own membership: the sender's member event is listed once", () => {
      assert.deepEqual(authEventTypesFor(member(CAROL, CAROL, { membership: "join" }), v), [
        ...create,
        ["m.room.power_levels", ""],
        ["m.room.member", CAROL],
        ["m.room.join_rules", ""],
      ]);
    });
    test("third-party invite: the m.room.third_party_invite whose state_key is signed.token", () => {
      const ev = member(ALICE, CAROL, { membership: "invite", third_party_invite: { signed: { mxid: CAROL, token: "abc" } } });
      assert.deepEqual(authEventTypesFor(ev, v).at(-1), ["m.room.third_party_invite", "abc"]);
      const noToken = member(ALICE, CAROL, { membership: "invite", third_party_invite: { signed: { mxid: CAROL } } });
      assert.equal(authEventTypesFor(noToken, v).some(([t]) => t === "m.room.third_party_invite"), false);
    });
    test("restricted join: the join_authorised_via_users_server user's member event", () => {
      const ev = member(CAROL, CAROL, { membership: "join", join_authorised_via_users_server: BOB });
      assert.deepEqual(authEventTypesFor(ev, v).at(-1), ["m.room.member", BOB]);
      const leave = member(CAROL, CAROL, { membership: "leave", join_authorised_via_users_server: BOB });
      assert.equal(authEventTypesFor(leave, v).some(([, k]) => k === BOB), false, "only for joins");
    });
    test("selectAuthEventIds keeps the entries present in the state, in selection order", () => {
      const room = new Room(v, { members: { [CAROL]: "invite" } });
      const ids = selectAuthEventIds(member(CAROL, CAROL, { membership: "join" }), room.state, v);
      const expected = [
        ...(v === "12" ? [] : [room.create.event_id]),
        room.state.get(stateKey("m.room.power_levels", ""))!.event_id,
        room.state.get(stateKey("m.room.member", CAROL))!.event_id,
        room.state.get(stateKey("m.room.join_rules", ""))!.event_id,
      ];
      assert.deepEqual(ids, expected);
      // An outsider with no member event: that entry is simply absent.
      const outsider = selectAuthEventIds(member("@zed:z.example", "@zed:z.example", { membership: "join" }), room.state, v);
      assert.equal(outsider.length, expected.length - 1);
    });
  });
}

test("unsupported room versions throw (a programming error)", () => {
  assert.throws(() => authEventTypesFor({ type: "m.room.message", sender: ALICE, content: {} }, "9"), RangeError);
});
