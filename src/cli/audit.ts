// `rempart audit verify`: checks the configured database's audit trail (exit 0 intact, 1 tampered).
// `rempart audit prune`: applies the retention period now.
import { existsSync, readFileSync } from "node:fs";
import type { ResolvedConfig } from "../config/schema.js";
import { openStorage } from "../storage/database.js";
import { signingKeyPath } from "../keys/server-key.js";
import { parseSigningKey } from "../matrix/signing.js";
import { verifyTrail } from "../security/audit/verify.js";
import { pruneTrail } from "../security/audit/retention.js";
import type { Args } from "./args.js";

export async function auditCommand(config: ResolvedConfig, args: Args): Promise<number> {
  const sub = args.positional[0];
  if (sub !== "verify" && sub !== "prune") {
    process.stderr.write("usage: rempart audit verify|prune [--config FILE]\n");
    return 2;
  }
  const keyFile = signingKeyPath(config.data_dir, config.server_name);
  if (!existsSync(keyFile)) {
    process.stderr.write(`rempart: no signing key at ${keyFile}: cannot check the audit checkpoints\n`);
    return 2;
  }
  const key = parseSigningKey(readFileSync(keyFile, "utf8"));
  const storage = await openStorage(config.database);
  try {
    if (sub === "prune") {
      const n = await pruneTrail(storage, config.read_gate.audit.retention_days, Date.now());
      process.stdout.write(`pruned ${n.records} records up to checkpoint ${n.anchor ?? "-"}\n`);
      return 0;
    }
    const r = await verifyTrail(storage, key.publicKey, config.server_name);
    if (r.ok) {
      process.stdout.write(`audit trail OK: ${r.records} records (seq ${r.firstSeq ?? "-"}..${r.lastSeq ?? "-"}), ${r.checkpoints} signed checkpoints\n`);
      return 0;
    }
    process.stdout.write(`audit trail TAMPERED: first bad record seq ${r.bad!.seq}: ${r.bad!.reason} (${r.records} records verified before it)\n`);
    return 1;
  } finally {
    await storage.close();
  }
}
