/**
 * Lower the scheduling priority of the calling thread (Linux), so the stamping threads yield the CPU to
 * the main thread whenever both want it. The main thread admits, queues and refuses requests: when the
 * threads doing the admitted work can starve it, an overloaded node answers its refusals as late as its
 * stamps, which is the failure admission exists to prevent (DESIGN §8). With a nice of 10 a thread gets
 * about a tenth of the weight of a nice-0 thread on a contended core, and all of an idle one, so
 * stamping throughput is unchanged while the machine has spare CPU.
 *
 * Linux schedules threads as tasks: `setpriority(PRIO_PROCESS, tid)` (Node's `os.setPriority`) changes
 * one thread, named by the thread id `/proc/thread-self` links to. Raising niceness needs no privilege.
 * Elsewhere (or without /proc) nothing changes and the reason is returned.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The calling thread's kernel id (Linux), or null when /proc does not say. */
export function currentThreadId(): number | null {
  if (process.platform !== 'linux') return null;
  try {
    // "<pid>/task/<tid>"
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

/** The calling thread's niceness as the kernel reports it (field 19 of its stat), or null. */
export function currentThreadNice(): number | null {
  if (process.platform !== 'linux') return null;
  try {
    const stat = readFileSync('/proc/thread-self/stat', 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[16]);
  } catch {
    return null;
  }
}

/**
 * Sets the calling thread's niceness to `nice` (0–19). Returns null when done, else why not (the
 * caller logs it once; stamping goes on at normal priority).
 */
export function lowerCurrentThreadPriority(nice: number): string | null {
  if (nice === 0) return null;
  const tid = currentThreadId();
  if (tid === null) return 'per-thread priority needs Linux /proc/thread-self';
  try {
    setPriority(tid, nice);
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}
