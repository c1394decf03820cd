/**
 * CPU time from Linux's `/proc`, for the benchmarks that report what a request costs the machine (clock
 * ticks of 10 ms, the Linux default). Each function answers null where `/proc` cannot be read.
 */
import { readdir, readFile } from 'node:fs/promises';

/**
 * A `stat` line of a process or thread: its CPU time (user + system) in µs and its nice. The command
 * name (field 2) may hold spaces, so fields are counted after it: utime and stime are fields 14 and 15,
 * nice is field 19.
 */
function parseStat(stat: string): { cpuUs: number; nice: number } {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { cpuUs: (Number(fields[11]) + Number(fields[12])) * 10_000, nice: Number(fields[16]) };
}

/** CPU time (user + system) used so far by these processes and their threads, in µs. */
export async function processesCpuUs(pids: readonly number[]): Promise<number | null> {
  let total = 0;
  for (const pid of pids) {
    try {
      total += parseStat(await readFile(`/proc/${pid}/stat`, 'utf8')).cpuUs;
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
      const { cpuUs, nice } = parseStat(stat);
      if (Number(tid) === pid) main += cpuUs;
      else if (nice > 0) niced += cpuUs;
      else other += cpuUs;
    }
  } catch {
    return null;
  }
  return { main, niced, other };
}
