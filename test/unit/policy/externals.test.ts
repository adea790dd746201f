// The externals' directory checks and the last-admin successor (src/policy/externals.ts), and the
// paths an expired account may still use (src/policy/account-validity.ts).
import assert from "node:assert/strict";
import { test } from "node:test";
import { stateKey, type PDU, type StateKey } from "../../../src/matrix/pdu.js";
import { lastAdminSuccessor, mayListDirectory, maySearchUsers } from "../../../src/policy/externals.js";
import { exemptFromExpiry } from "../../../src/policy/account-validity.js";
import type { RoomVersionId } from "../../../src/matrix/room-versions.js";

const createEvent = { type: "m.room.create", sender: "@a:s", state_key: "", content: { creator: "@a:s", room_version: "10" } } as unknown as PDU;
function snap(levels: Record<string, number>, joined: string[], version: RoomVersionId = "10") {
  const state = new Map<StateKey, PDU>();
  state.set(stateKey("m.room.power_levels", ""), { type: "m.room.power_levels", state_key: "", content: { users: levels } } as unknown as PDU);
  for (const u of joined) state.set(stateKey("m.room.member", u), { type: "m.room.member", state_key: u, content: { membership: "join" } } as unknown as PDU);
  const ce = version === "12" ? ({ ...createEvent, content: { room_version: "12" } } as unknown as PDU) : createEvent;
  return { state, createEvent: ce, version };
}

test("externals see neither directory", () => {
  assert.equal(mayListDirectory({ external: true }), false);
  assert.equal(mayListDirectory({ external: false }), true);
  assert.equal(maySearchUsers({ external: true }), false);
  assert.equal(maySearchUsers({ external: false }), true);
});

test("the last admin leaving: the highest moderator, never an external", () => {
  const s = snap({ "@a:s": 100, "@m1:s": 50, "@m2:s": 75, "@x:s": 90 }, ["@a:s", "@m1:s", "@m2:s", "@x:s", "@p:s"]);
  assert.equal(lastAdminSuccessor(s, "@a:s", new Set(["@x:s"])), "@m2:s");
  assert.equal(lastAdminSuccessor(s, "@a:s", new Set()), "@x:s", "without the external flag the highest wins");
});

test("no promotion when another admin stays, when a non-admin leaves, or when nobody qualifies", () => {
  assert.equal(lastAdminSuccessor(snap({ "@a:s": 100, "@b:s": 100, "@m:s": 50 }, ["@a:s", "@b:s", "@m:s"]), "@a:s", new Set()), undefined);
  assert.equal(lastAdminSuccessor(snap({ "@a:s": 100, "@m:s": 50 }, ["@a:s", "@m:s"]), "@m:s", new Set()), undefined);
  assert.equal(lastAdminSuccessor(snap({ "@a:s": 100, "@p:s": 10 }, ["@a:s", "@p:s"]), "@a:s", new Set()), undefined);
  // An admin who is not joined any more does not count as staying.
  assert.equal(lastAdminSuccessor(snap({ "@a:s": 100, "@gone:s": 100, "@m:s": 50 }, ["@a:s", "@m:s"]), "@a:s", new Set()), "@m:s");
  // Ties: by user id.
  assert.equal(lastAdminSuccessor(snap({ "@a:s": 100, "@z:s": 50, "@b:s": 50 }, ["@a:s", "@z:s", "@b:s"]), "@a:s", new Set()), "@b:s");
  // Room version 12: creators keep infinite power, no successor needed.
  assert.equal(lastAdminSuccessor(snap({ "@m:s": 50 }, ["@a:s", "@m:s"], "12"), "@a:s", new Set()), undefined);
});

test("an expired account may still renew and log out", () => {
  for (const p of ["/_matrix/client/unstable/account_validity/send_mail", "/_matrix/client/unstable/account_validity/renew?token=x", "/_matrix/client/v3/logout", "/_matrix/client/v3/logout/all"]) {
    assert.equal(exemptFromExpiry(p), true, p);
  }
  for (const p of ["/_matrix/client/v3/sync", "/_matrix/client/v3/account/whoami", "/_matrix/client/v3/createRoom?logout"]) assert.equal(exemptFromExpiry(p), false, p);
});
