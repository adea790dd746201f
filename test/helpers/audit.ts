// Reading the audit trail in tests, and running `rempart audit verify` on a test server's database.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestServer } from "./server.js";

export interface Rec {
  seq: number;
  ts: number;
  kind: string;
  data: Record<string, unknown>;
}

/** Every record, after flushing what is queued. */
export async function records(s: TestServer): Promise<Rec[]> {
  await s.app.audit.flush();
  const rows = await s.app.storage.db.selectFrom("audit_log").selectAll().orderBy("seq").execute();
  return rows.map((r) => ({ seq: Number(r.seq), ts: Number(r.ts), kind: r.kind, data: JSON.parse(r.data) as Record<string, unknown> }));
}

/** Read records of one endpoint (e.g. "messages"), oldest first. */
export async function reads(s: TestServer, endpoint?: string): Promise<Rec[]> {
  return (await records(s)).filter((r) => r.kind === "read" && (endpoint === undefined || r.data.e === endpoint));
}

/** Runs the real CLI against the server's configured database; returns its exit code and output. */
export function verifyCli(s: TestServer): { code: number; out: string } {
  const file = join(s.config.data_dir, "rempart-verify.yaml");
  writeFileSync(file, `server_name: ${s.config.server_name}\ndata_dir: ${JSON.stringify(s.config.data_dir)}\ndatabase: ${JSON.stringify(s.config.database)}\nlog_level: silent\n`);
  const r = spawnSync(process.execPath, ["bin/rempart.js", "audit", "verify", "--config", file], { encoding: "utf8", env: { ...process.env, DATABASE_URL: "" } });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}
