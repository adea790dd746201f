// What of an event is searchable (client-server API "Server Side Search": content.body,
// content.name, content.topic). Encrypted events are never indexed: the server has no plaintext.
import type { PDU } from "../matrix/pdu.js";

const KEYS: Record<string, [key: string, field: string]> = {
  "m.room.message": ["content.body", "body"],
  "m.room.name": ["content.name", "name"],
  "m.room.topic": ["content.topic", "topic"],
};

export function searchEntriesFor(pdu: PDU): Array<{ key: string; value: string }> {
  const k = KEYS[pdu.type];
  if (!k) return [];
  const v = pdu.content[k[1]];
  if (typeof v !== "string" || v.trim() === "") return [];
  // Edits are searchable through their new content only via the original; skip the "* edit" text.
  const rel = pdu.content["m.relates_to"] as { rel_type?: unknown } | undefined;
  if (rel && rel.rel_type === "m.replace") return [];
  return [{ key: k[0], value: v.slice(0, 10_000) }];
}
