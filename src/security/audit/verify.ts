// `rempart audit verify`: walks the whole trail in sequence order, recomputes every hash, checks
// every checkpoint's signature and that the chain passes through each checkpoint's hash. Names the
// first bad record: an edited record (or one whose hash was edited) breaks its own hash, a deleted
// record leaves a gap in the sequence, an inserted or reordered one breaks the chain where it sits,
// and a rewritten-and-rehashed stretch disagrees with the next signed checkpoint.
import type { KeyObject } from "node:crypto";
import type { Storage } from "../../storage/database.js";
import { auditRepo, type CheckpointRow } from "../../storage/audit.js";
import { recordHash } from "./chain.js";
import { checkpointSignatureValid } from "./checkpoints.js";

export interface VerifyResult {
  ok: boolean;
  records: number;
  checkpoints: number;
  firstSeq?: number;
  lastSeq?: number;
  /** The first bad record (or checkpoint), with what is wrong with it. */
  bad?: { seq: number; reason: string };
}

const PAGE = 5000;

export async function verifyTrail(storage: Storage, publicKey: KeyObject, serverName: string): Promise<VerifyResult> {
  const repo = auditRepo(storage.db);
  const cps = await repo.checkpoints();
  const fail = (seq: number, reason: string, records: number): VerifyResult => ({ ok: false, records, checkpoints: cps.length, bad: { seq, reason } });
  for (const c of cps) {
    if (!checkpointSignatureValid(publicKey, serverName, c)) return fail(c.seq, `checkpoint at seq ${c.seq} has an invalid signature`, 0);
  }
  const bySeq = new Map<number, CheckpointRow>(cps.map((c) => [c.seq, c]));
  const first = await repo.first();
  let prevSeq = 0;
  let prevHash = "";
  if (first && first.seq > 1) {
    // Retention pruned the beginning: the chain resumes from a signed anchor checkpoint.
    const anchor = bySeq.get(first.seq - 1);
    if (!anchor) return fail(first.seq - 1, `record ${first.seq - 1} is missing (deleted) and no signed checkpoint anchors seq ${first.seq - 1}`, 0);
    prevSeq = anchor.seq;
    prevHash = anchor.hash;
  } else if (!first && cps.length > 0) {
    // Everything pruned: only the anchor (the newest checkpoint) may remain.
    const newest = cps[cps.length - 1]!;
    if (cps.length > 1) return fail(cps[0]!.seq, `records up to checkpoint ${newest.seq} are missing`, 0);
    return { ok: true, records: 0, checkpoints: cps.length };
  }
  let count = 0;
  let lastCheckpoint = prevSeq;
  for (;;) {
    const rows = await repo.page(prevSeq, PAGE);
    if (rows.length === 0) break;
    for (const r of rows) {
      if (r.seq !== prevSeq + 1) return fail(prevSeq + 1, `record ${prevSeq + 1} is missing (deleted)`, count);
      if (recordHash(prevHash, r.seq, r.ts, r.kind, r.data) !== r.hash) return fail(r.seq, `record ${r.seq} does not match its hash (edited, inserted or reordered)`, count);
      const cp = bySeq.get(r.seq);
      if (cp && cp.hash !== r.hash) {
        // Records were rewritten and rehashed: the signature pins the damage between two checkpoints.
        const after = lastCheckpoint + 1;
        return fail(after, `records ${after}..${r.seq} were rewritten: the chain disagrees with the signed checkpoint at seq ${r.seq}`, count);
      }
      if (cp) lastCheckpoint = cp.seq;
      prevSeq = r.seq;
      prevHash = r.hash;
      count++;
    }
  }
  const beyond = cps.find((c) => c.seq > prevSeq);
  if (beyond) return fail(prevSeq + 1, `record ${prevSeq + 1} is missing (deleted): a signed checkpoint covers records up to ${beyond.seq}`, count);
  return { ok: true, records: count, checkpoints: cps.length, firstSeq: first?.seq, lastSeq: prevSeq || undefined };
}
