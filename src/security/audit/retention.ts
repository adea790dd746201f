// Retention of the audit trail (default ~13 months). Records are pruned only up to a signed
// checkpoint, which stays as the anchor from which `audit verify` resumes the chain.
import type { Storage } from "../../storage/database.js";
import { auditRepo } from "../../storage/audit.js";

export async function pruneTrail(storage: Storage, retentionDays: number, now: number): Promise<{ records: number; anchor?: number }> {
  const repo = auditRepo(storage.db);
  const cutoff = now - retentionDays * 86_400_000;
  // The newest checkpoint written before the cutoff: every record it covers is older than the cutoff.
  const anchor = (await repo.checkpoints()).filter((c) => c.ts < cutoff).pop();
  if (!anchor) return { records: 0 };
  return { records: await repo.pruneThrough(anchor.seq), anchor: anchor.seq };
}
