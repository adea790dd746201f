// Fresh, throw-away data directories under the system temp dir.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const made = new Set<string>();
let installed = false;

/** A new empty directory; removed by `removeDataDir` or, at the latest, when the process exits. */
export function freshDataDir(prefix = "rempart-bench-"): string {
  if (!installed) {
    installed = true;
    process.on("exit", () => {
      for (const d of made) rmSync(d, { recursive: true, force: true });
    });
  }
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.add(dir);
  return dir;
}

export function removeDataDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  made.delete(dir);
}
