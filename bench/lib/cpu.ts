// CPU time a process has used (/proc/<pid>/stat utime + stime), in milliseconds. On a machine
// shared with other work, wall-clock rates fall with the load; CPU time per operation does much
// less, so benchmarks print both.
import { readFileSync } from "node:fs";

/** Linux reports these in clock ticks; USER_HZ is 100 on every mainstream architecture. */
const TICK_MS = 10;

export function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the parenthesised command name (which may contain spaces): utime is the 14th
  // field of the line, stime the 15th, i.e. the 12th and 13th after ") ".
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(rest[11]) + Number(rest[12])) * TICK_MS;
}

/** As cpuMs, with the process's living children's (a server serving from several processes). */
export function treeCpuMs(pid: number): number {
  let total = cpuMs(pid);
  for (const child of childrenOf(pid)) total += cpuMs(child);
  return total;
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").split(" ").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}
