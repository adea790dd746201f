// Waits until a process (with its children) has gone quiet: its CPU time (from /proc, 10 ms ticks) grows by at most one
// tick per window, several windows in a row. A load generator that has handed all its requests to
// the sockets uses this to know that the server has read and handled them (parked long-polls cost
// no CPU) without asking the server anything: the server knows nothing about benchmarks.
import { treeCpuMs } from "./cpu.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitForIdle(pid: number, { windowMs = 100, windows = 3, maxCpuMsPerWindow = 10, timeoutMs = 30_000 } = {}): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  let last = treeCpuMs(pid);
  while (Date.now() < deadline) {
    await sleep(windowMs);
    const now = treeCpuMs(pid);
    quiet = now - last <= maxCpuMsPerWindow ? quiet + 1 : 0;
    last = now;
    if (quiet >= windows) return true;
  }
  return false;
}
