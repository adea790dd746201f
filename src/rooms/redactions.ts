// Applying a redaction (client-server API "Redactions"): the target's stored JSON is replaced by
// its redacted form, so the removed content is gone from every read path and from the database;
// its search entries go too.
import type { Storage } from "../storage/database.js";
import { eventsRepo } from "../storage/events.js";
import { deleteSearchEntries } from "../storage/search.js";
import { redactEvent } from "../matrix/redaction.js";
import type { PDU } from "../matrix/pdu.js";

export function redactsOf(pdu: Pick<PDU, "content" | "redacts">): string | undefined {
  if (typeof pdu.redacts === "string") return pdu.redacts;
  const r = pdu.content.redacts;
  return typeof r === "string" ? r : undefined;
}

/** Returns the redacted target when it was applied, so the writer can refresh its state cache. */
export async function applyRedaction(tx: Storage["db"], dialect: Storage["dialect"], room: { roomId: string; version: string }, redaction: PDU): Promise<PDU | undefined> {
  const targetId = redactsOf(redaction);
  if (!targetId) return undefined;
  const events = eventsRepo(tx);
  const target = await events.get(targetId);
  if (!target || target.room_id !== room.roomId || target.redacted_by !== null) return undefined;
  const original = JSON.parse(target.json) as PDU;
  const redacted = redactEvent(original as unknown as Record<string, unknown>, room.version) as unknown as PDU;
  await events.setRedacted(targetId, redaction.event_id, JSON.stringify({ ...redacted, event_id: targetId }));
  await deleteSearchEntries(tx, targetId, dialect);
  return { ...redacted, event_id: targetId };
}
