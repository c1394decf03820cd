/**
 * The stamping threads run at a lower priority than the main thread: `lowerCurrentThreadPriority`
 * changes only the thread that calls it, as the kernel reports in /proc.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { currentThreadId, currentThreadNice } from './thread-priority.js';

const onLinux = process.platform === 'linux';

test(
  'a worker thread lowers its own priority and leaves the main thread alone',
  { skip: onLinux ? false : 'per-thread priority is Linux only' },
  async () => {
    const mainNice = currentThreadNice();
    assert.equal(typeof mainNice, 'number');
    const mainTid = currentThreadId();
    assert.equal(mainTid, process.pid, 'the main thread id is the process id');
    const moduleUrl = new URL('./thread-priority.js', import.meta.url).href;
    const worker = new Worker(
      `const { parentPort } = require('node:worker_threads');
     import(${JSON.stringify(moduleUrl)}).then((priority) => {
       const before = priority.currentThreadNice();
       const problem = priority.lowerCurrentThreadPriority(Math.min(19, before + 7));
       parentPort.postMessage({ tid: priority.currentThreadId(), before, problem, after: priority.currentThreadNice() });
     });`,
      { eval: true },
    );
    const reply = await new Promise<{ tid: number; before: number; problem: string | null; after: number }>(
      (resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      },
    );
    await worker.terminate();
    assert.notEqual(reply.tid, mainTid);
    assert.equal(reply.before, mainNice);
    assert.deepEqual(
      { problem: reply.problem, after: reply.after },
      { problem: null, after: Math.min(19, mainNice! + 7) },
    );
    assert.equal(currentThreadNice(), mainNice);
  },
);
