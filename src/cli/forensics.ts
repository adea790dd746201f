// `rempart forensics`: the forensic report on the configured database (docs/read-gate.md
// "Forensic report"). Verifies the audit chain first and says whether it verified.
//   rempart forensics --user @x:server [--since T] [--until T] [--format md|json|csv] [--config F]
//   rempart forensics --room !id [--event $id] ...   (who read a room, or an event of it)
//   rempart forensics --event $id ...                (the event's room is looked up)
import { existsSync, readFileSync } from "node:fs";
import type { ResolvedConfig } from "../config/schema.js";
import { openStorage } from "../storage/database.js";
import { signingKeyPath } from "../keys/server-key.js";
import { parseSigningKey } from "../matrix/signing.js";
import { Forensics } from "../security/forensics/service.js";
import { formatReport, REPORT_FORMATS, type ReportFormat } from "../security/forensics/format.js";
import { parseTime } from "../security/forensics/time.js";
import { forensicsRepo } from "../storage/forensics.js";
import { optString, type Args } from "./args.js";

const USAGE = "usage: rempart forensics (--user @x:server | --room !id | --event $id) [--since T] [--until T] [--format md|json|csv] [--config FILE]\n";

export async function forensicsCommand(config: ResolvedConfig, args: Args): Promise<number> {
  const user = optString(args, "user");
  let room = optString(args, "room");
  const event = optString(args, "event");
  const format = (optString(args, "format") ?? "md") as ReportFormat;
  if ([user, room ?? event].filter((v) => v !== undefined).length !== 1 || !REPORT_FORMATS.includes(format)) {
    process.stderr.write(USAGE);
    return 2;
  }
  const period: { since?: number; until?: number } = {};
  for (const k of ["since", "until"] as const) {
    const v = optString(args, k);
    if (v === undefined) continue;
    const t = parseTime(v);
    if (t === undefined) {
      process.stderr.write(`rempart: --${k} must be milliseconds since the epoch or an ISO 8601 time\n`);
      return 2;
    }
    period[k] = t;
  }
  const keyFile = signingKeyPath(config.data_dir, config.server_name);
  if (!existsSync(keyFile)) {
    process.stderr.write(`rempart: no signing key at ${keyFile}: cannot check the audit checkpoints\n`);
    return 2;
  }
  const key = parseSigningKey(readFileSync(keyFile, "utf8"));
  const storage = await openStorage(config.database);
  try {
    const f = new Forensics(storage, key.publicKey, config.server_name);
    if (user !== undefined) {
      const r = await f.userReport(user, period);
      process.stdout.write(formatReport(r, format) + (format === "csv" ? "" : "\n"));
      return r.trail.verified ? 0 : 1;
    }
    if (room === undefined) {
      room = (await forensicsRepo(storage.db).positions([event!])).get(event!)?.room_id;
      if (room === undefined) {
        process.stderr.write(`rempart: unknown event ${event}\n`);
        return 1;
      }
    }
    const r = await f.readersReport(room, event, period);
    process.stdout.write(formatReport(r, format) + (format === "csv" ? "" : "\n"));
    return r.trail.verified ? 0 : 1;
  } finally {
    await storage.close();
  }
}
