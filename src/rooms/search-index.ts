// What of an event is searchable (client-server API "Server Side Search"): content.body of
// m.room.message, content.name of m.room.name, and of m.room.topic both content.topic and the
// text/plain body in content["m.topic"] (spec v1.15). Encrypted events are never indexed: the
// server has no plaintext. One entry per event at most (storage/search.ts keys entries by event).
import type { PDU } from "../matrix/pdu.js";

const KEYS: Record<string, [key: string, field: string]> = {
  "m.room.message": ["content.body", "body"],
  "m.room.name": ["content.name", "name"],
  "m.room.topic": ["content.topic", "topic"],
};

const MAX_INDEXED_CHARS = 10_000;

/** The text/plain representation of an m.topic content block, if any. */
function plainTopic(content: Record<string, unknown>): string | undefined {
  const block = content["m.topic"] as { "m.text"?: unknown } | undefined;
  const texts = block && Array.isArray(block["m.text"]) ? (block["m.text"] as Array<Record<string, unknown>>) : [];
  const plain = texts.find((t) => t && (t.mimetype === undefined || t.mimetype === "text/plain") && typeof t.body === "string");
  return plain ? (plain.body as string) : undefined;
}

export function searchEntriesFor(pdu: PDU): Array<{ key: string; value: string }> {
  const k = KEYS[pdu.type];
  if (!k) return [];
  // Edits are searchable through their new content only via the original; skip the "* edit" text.
  const rel = pdu.content["m.relates_to"] as { rel_type?: unknown } | undefined;
  if (rel && rel.rel_type === "m.replace") return [];
  const parts: string[] = [];
  const v = pdu.content[k[1]];
  if (typeof v === "string" && v.trim() !== "") parts.push(v);
  if (pdu.type === "m.room.topic") {
    const plain = plainTopic(pdu.content);
    // content.topic SHOULD duplicate it; index it only when it says something else.
    if (plain !== undefined && plain.trim() !== "" && plain !== v) parts.push(plain);
  }
  if (parts.length === 0) return [];
  return [{ key: k[0], value: parts.join("\n").slice(0, MAX_INDEXED_CHARS) }];
}
