/**
 * CPU time from Linux's `/proc`, for the benchmarks that report what a request costs the machine (clock
 * ticks of 10 ms, the Linux default). Each function answers null where `/proc` cannot be read.
 */
import { readdir, readFile } from 'node:fs/promises';

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

/**
 * A process's CPU time so far split by thread, µs: its main thread, threads running at a nice above 0
 * (bubuh's stamping threads lower their own priority), and every other thread (libuv's pool, V8's
 * helpers, workers left at nice 0). Threads that have ended are not counted: compare readings of a
 * process whose threads live on.
 */
export interface ThreadsCpuUs {
  readonly main: number;
  readonly niced: number;
  readonly other: number;
}

export async function threadsCpuUs(pid: number): Promise<ThreadsCpuUs | null> {
  let main = 0;
  let niced = 0;
  let other = 0;
  try {
    for (const tid of await readdir(`/proc/${pid}/task`)) {
      let stat: string;
      try {
        stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      } catch {
        continue; // the thread ended between the listing and the read
      }
      // After the command name: state is field 3, utime/stime 14/15, nice 19 (indices 0, 11, 12, 16).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const us = (Number(fields[11]) + Number(fields[12])) * 10_000;
      if (Number(tid) === pid) main += us;
      else if (Number(fields[16]) > 0) niced += us;
      else other += us;
    }
  } catch {
    return null;
  }
  return { main, niced, other };
}
