// The relation an event declares (client-server API "Forming relationships between events"),
// extracted once at write time so that /relations, /threads and aggregations are index lookups.
import type { PDU } from "../matrix/pdu.js";

export interface RelationRef {
  relType: string;
  eventId: string;
  /** The thread root when the event is part of a thread. */
  threadRoot?: string;
}

export function relationOf(pdu: Pick<PDU, "content">): RelationRef | undefined {
  const rel = pdu.content["m.relates_to"];
  if (typeof rel !== "object" || rel === null || Array.isArray(rel)) return undefined;
  const r = rel as Record<string, unknown>;
  if (typeof r.rel_type !== "string" || typeof r.event_id !== "string") return undefined;
  return { relType: r.rel_type, eventId: r.event_id, threadRoot: r.rel_type === "m.thread" ? r.event_id : undefined };
}
