// Memory of a process as the kernel sees it (/proc/<pid>/status), in MB (2^20 bytes).
import { readFileSync } from "node:fs";

export interface Memory {
  /** Resident set size now. */
  rssMb: number;
  /** Peak resident set size so far. */
  hwmMb: number;
}

function field(status: string, name: string): number {
  const m = new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status);
  if (!m) throw new Error(`no ${name} in /proc status`);
  return Number(m[1]) / 1024;
}

export function readMemory(pid: number): Memory {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return { rssMb: field(status, "VmRSS"), hwmMb: field(status, "VmHWM") };
}
