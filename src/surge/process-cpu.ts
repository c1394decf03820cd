/**
 * CPU time from Linux's `/proc`, for the benchmarks that report what a request costs the machine (clock
 * ticks of 10 ms, the Linux default). Each function answers null where `/proc` cannot be read.
 */
import { readFile } from 'node:fs/promises';

/** CPU time (user + system) used so far by these processes and their threads, in µs. */
export async function processesCpuUs(pids: readonly number[]): Promise<number | null> {
  let total = 0;
  for (const pid of pids) {
    try {
      // The command name (field 2) may hold spaces; utime and stime are fields 14 and 15.
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) * 10_000;
    } catch {
      return null;
    }
  }
  return total;
}

/**
 * The whole machine's busy CPU time so far, all cores, in µs: every state of `/proc/stat`'s first line
 * but idle and iowait (steal, time the host gave to other guests, is not counted either).
 */
export async function machineBusyUs(): Promise<number | null> {
  try {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n', 1)[0]!;
    const [user, nice, system, , , irq, softirq] = line.trim().split(/\s+/).slice(1).map(Number);
    if ([user, nice, system, irq, softirq].some((value) => value === undefined || !Number.isFinite(value)))
      return null;
    return (user! + nice! + system! + irq! + softirq!) * 10_000;
  } catch {
    return null;
  }
}
