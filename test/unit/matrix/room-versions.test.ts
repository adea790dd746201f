import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  DEFAULT_ROOM_VERSION,
  getRoomVersion,
  isSupportedRoomVersion,
  isValidRoomVersionString,
  requireRoomVersion,
  SUPPORTED_ROOM_VERSIONS,
} from "../../../src/matrix/room-versions.js";

describe("room versions", () => {
  it("supports 10, 11 and 12, defaulting to 12 as the spec recommends", () => {
    assert.deepEqual([...SUPPORTED_ROOM_VERSIONS], ["10", "11", "12"]);
    assert.equal(DEFAULT_ROOM_VERSION, "12");
    for (const id of SUPPORTED_ROOM_VERSIONS) {
      assert.equal(getRoomVersion(id)?.id, id);
      assert.equal(getRoomVersion(id)?.stable, true);
      assert.ok(isSupportedRoomVersion(id));
    }
  });

  it("knows nothing of other versions", () => {
    for (const id of ["1", "9", "13", "", "10 ", "org.matrix.msc4289"]) {
      assert.equal(getRoomVersion(id), undefined, id);
      assert.equal(isSupportedRoomVersion(id), false, id);
      assert.throws(() => requireRoomVersion(id), /unsupported room version/);
    }
    assert.equal(isSupportedRoomVersion(10), false);
    // Not fooled by Object.prototype members.
    assert.equal(getRoomVersion("toString"), undefined);
    assert.equal(getRoomVersion("constructor"), undefined);
  });

  it("has the feature table of content/rooms/_index.md and the per-version changes", () => {
    const table = SUPPORTED_ROOM_VERSIONS.map((id) => {
      const v = requireRoomVersion(id);
      return [
        id,
        v.redaction,
        v.knockAllowed,
        v.restrictedJoins,
        v.knockRestricted,
        v.integerPowerLevels,
        v.implicitRoomCreator,
        v.redactsInContent,
        v.createEventHasRoomId,
        v.creatorsHavePower,
        v.stateResolution,
      ];
    });
    assert.deepEqual(table, [
      ["10", "v10", true, true, true, true, false, false, true, false, "v2"],
      ["11", "v11", true, true, true, true, true, true, true, false, "v2"],
      ["12", "v11", true, true, true, true, true, true, false, true, "v2.1"],
    ]);
  });

  it("is immutable", () => {
    const v = requireRoomVersion("12") as { creatorsHavePower: boolean };
    assert.throws(() => {
      v.creatorsHavePower = false;
    }, TypeError);
    assert.throws(() => (SUPPORTED_ROOM_VERSIONS as string[]).push("13"), TypeError);
  });

  it("validates the room version grammar", () => {
    for (const ok of ["1", "1.2", "1.2-beta", "com.example.version", "a".repeat(32)]) assert.ok(isValidRoomVersionString(ok), ok);
    for (const bad of ["", "A", "1_2", "a b", "a".repeat(33), 1]) assert.equal(isValidRoomVersionString(bad), false, String(bad));
  });
});
