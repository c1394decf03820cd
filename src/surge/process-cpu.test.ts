/**
 * `threadsCpuUs` splits a process's CPU time by thread: the main thread, threads that lowered their
 * priority (the stamping threads), and the rest, as the benchmarks report it per stamp.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { processesCpuUs, threadsCpuUs } from './process-cpu.js';

const onLinux = process.platform === 'linux';

test(
  'a thread that lowered its priority is counted as niced, the main thread as main',
  { skip: onLinux ? false : '/proc is Linux only' },
  async () => {
    const moduleUrl = new URL('../stamps/thread-priority.js', import.meta.url).href;
    const before = await threadsCpuUs(process.pid);
    assert.notEqual(before, null);
    // The worker lowers its priority, then keeps its core busy for 400 ms of wall time.
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
       import(${JSON.stringify(moduleUrl)}).then((priority) => {
         const problem = priority.lowerCurrentThreadPriority(5);
         const end = Date.now() + 400;
         let spins = 0;
         while (Date.now() < end) spins += 1;
         parentPort.postMessage({ problem, spins });
         // Alive until terminated: an ended thread's time leaves /proc/<pid>/task with it.
         setInterval(() => {}, 1000);
       });`,
      { eval: true },
    );
    const reply = await new Promise<{ problem: string | null }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const after = await threadsCpuUs(process.pid);
    await worker.terminate();
    assert.equal(reply.problem, null);
    const niced = after!.niced - before!.niced;
    const main = after!.main - before!.main;
    // Clock ticks are 10 ms; the busy thread got most of 400 ms unless the machine was very loaded.
    assert.ok(niced >= 100_000, `niced threads used ${niced} µs`);
    assert.ok(main < niced, `the waiting main thread used ${main} µs, the spinning one ${niced} µs`);
  },
);

test('a process that does not exist answers null', async () => {
  assert.equal(await threadsCpuUs(2 ** 30), null);
  assert.equal(await processesCpuUs([2 ** 30]), null);
});
