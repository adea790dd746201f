// An index over each room's members by membership and arrival, holding everything the /sync room
// summary asks of them (spec "Room summary": joined and invited counts, heroes): the first initial
// sync after a start counts and picks them from this index for the rooms whose state is not in
// memory, instead of reading every member event of every room (sync/room-state.ts). The primary key
// (room_id, type, state_key) finds a member by user, not the members by membership.
import type { Kysely } from "kysely";
import type { Dialect } from "../database.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>, _dialect: Dialect): Promise<void> {
  await db.schema
    .createIndex("current_state_room_membership")
    .on("current_state")
    .columns(["room_id", "type", "membership", "stream_ordering", "state_key"])
    .execute();
}
