// The server's ed25519 signing key: generated on first start in data_dir, in Synapse's file format
// so operators can move keys between implementations.
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { generateSigningKey, parseSigningKey, serializeSigningKey, type SigningKey } from "../matrix/signing.js";

export const signingKeyPath = (dataDir: string, serverName: string) => join(dataDir, `${serverName.replace(/[^A-Za-z0-9.-]/g, "_")}.signing.key`);

export function loadOrCreateSigningKey(dataDir: string, serverName: string): { key: SigningKey; created: boolean } {
  const path = signingKeyPath(dataDir, serverName);
  if (existsSync(path)) return { key: parseSigningKey(readFileSync(path, "utf8")), created: false };
  mkdirSync(dataDir, { recursive: true });
  const key = generateSigningKey();
  // Write then rename, so a crash never leaves a half-written key behind; 0600: it is a secret.
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, serializeSigningKey(key), { mode: 0o600 });
  renameSync(tmp, path);
  return { key, created: true };
}
