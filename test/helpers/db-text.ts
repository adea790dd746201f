// Every row of every table, as text: to assert that something (a plaintext, a secret) is stored
// nowhere. On PostgreSQL this reads every table the migrations created (all text columns included).
import type { TestServer } from "./server.js";

export async function allStoredText(s: TestServer): Promise<string> {
  const db = s.app.storage.db;
  const tables = await db.introspection.getTables();
  let out = "";
  for (const t of tables) {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const rows = await (db as any).selectFrom(t.name).selectAll().execute();
    out += `\n${t.name}\n${JSON.stringify(rows)}`;
  }
  return out;
}
