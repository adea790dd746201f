// Signed checkpoints of the audit chain: the server's ed25519 key (the same key that signs its
// events) signs {server_name, seq, ts, hash}. A database editor who rewrites records and recomputes
// every hash after them still cannot forge the checkpoint signatures, so `rempart audit verify`
// catches rewritten history up to the last checkpoint (at most checkpoint_interval_ms old).
import { sign, verify, type KeyObject } from "node:crypto";
import { canonicalJsonBytes } from "../../matrix/canonical-json.js";
import { decodeBase64, encodeUnpaddedBase64 } from "../../matrix/base64.js";
import type { SigningKey } from "../../matrix/signing.js";
import type { CheckpointRow } from "../../storage/audit.js";

const signedPart = (serverName: string, c: { seq: number; ts: number; hash: string }) =>
  canonicalJsonBytes({ type: "rempart.audit.checkpoint", server_name: serverName, seq: c.seq, ts: c.ts, hash: c.hash });

export function signCheckpoint(key: SigningKey, serverName: string, c: { seq: number; ts: number; hash: string }): CheckpointRow {
  const signature = encodeUnpaddedBase64(sign(null, signedPart(serverName, c), key.privateKey));
  return { ...c, key_id: key.keyId, signature };
}

export function checkpointSignatureValid(publicKey: KeyObject, serverName: string, c: CheckpointRow): boolean {
  try {
    return verify(null, signedPart(serverName, c), publicKey, decodeBase64(c.signature));
  } catch {
    return false;
  }
}
