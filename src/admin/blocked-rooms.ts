// Blocked rooms cannot be entered (Synapse admin API "Block Room"): a persist hook of the room
// writer refuses a join, invite or knock into a room on the block list, inside the write's
// transaction, so no path around the membership endpoints can slip one in. Leaving, kicks and
// bans still work, and members already joined may keep updating their own membership.
import type { PersistHook } from "../rooms/writer.js";
import { stateKey } from "../matrix/pdu.js";
import { forbidden } from "../http/errors.js";

const ENTERING = new Set(["join", "invite", "knock"]);

export const refuseJoinsToBlockedRooms: PersistHook = async (tx, room, pdu) => {
  if (pdu.type !== "m.room.member" || typeof pdu.state_key !== "string") return;
  const membership = pdu.content.membership;
  if (typeof membership !== "string" || !ENTERING.has(membership)) return;
  if (room.state.get(stateKey("m.room.member", pdu.state_key))?.content.membership === membership) return;
  const blocked = await tx.selectFrom("blocked_rooms").select("room_id").where("room_id", "=", room.roomId).executeTakeFirst();
  if (blocked) throw forbidden("This room has been blocked on this server");
};
