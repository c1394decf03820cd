/**
 * Crash safety: a child process runs ledger traffic and is killed with SIGKILL at random moments,
 * then restarted, several times. Afterwards every transfer it acknowledged is in the database exactly
 * as acknowledged, expired reservations are released, and `ledger check` passes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eachBackend } from '../testing/backends.js';
import { checkLedger } from './check.js';
import { Ledger } from './ledger.js';

const rounds = 5;
const worker = fileURLToPath(new URL('./crash-worker.js', import.meta.url));

interface Round {
  readonly acknowledged: Map<string, string>;
}

function runUntilKilled(storageOptions: object, round: number, killAfterMs: number): Promise<Round> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [worker], {
      env: {
        ...process.env,
        BUBUH_CRASH_STORAGE: JSON.stringify(storageOptions),
        BUBUH_CRASH_ROUND: String(round),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acknowledged = new Map<string, string>();
    let buffer = '';
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child.stdout.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (line === 'ready') setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        const [word, id, result] = line.split(' ');
        if (word === 'ack' && id && result) acknowledged.set(id, result);
      }
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve({ acknowledged });
      else reject(new Error(`crash worker exited with ${code ?? signal}: ${errors}`));
    });
  });
}

test('SIGKILL at random moments loses no acknowledged transfer and leaves the ledger consistent', async (t) => {
  await eachBackend(t, async (backend) => {
    const acknowledged = new Map<string, string>();
    for (let round = 0; round < rounds; round += 1) {
      const killAfterMs = 100 + Math.floor(Math.random() * 400);
      const outcome = await runUntilKilled(backend.openOptions, round, killAfterMs);
      assert.ok(outcome.acknowledged.size > 0, `round ${round} acknowledged nothing`);
      for (const [id, result] of outcome.acknowledged) acknowledged.set(id, result);
    }
    const committed = [...acknowledged].filter(([, result]) => result === 'ok').map(([id]) => id);
    assert.ok(committed.length > 100, `only ${committed.length} acknowledged transfers`);
    const ledger = new Ledger(backend.storage, {
      batchTransfersMax: 1024,
      queueTransfersMax: 4096,
      clock: () => Date.now() + 60_000,
    });
    const found = new Set<string>();
    for (let start = 0; start < committed.length; start += 500) {
      for (const transfer of await ledger.lookupTransfers(committed.slice(start, start + 500)))
        found.add(transfer.id);
    }
    const missing = committed.filter((id) => !found.has(id));
    assert.deepEqual(missing, []);
    // A restart sweeps every reservation whose timeout passed: none stays reserved.
    await ledger.expirePending(1_000_000);
    const report = await checkLedger(backend.storage);
    assert.deepEqual(report.problems, []);
    assert.equal(report.pendingOpen, 0);
    const [customer] = await ledger.lookupAccounts(['customer:crash:quota']);
    assert.equal(customer?.debitsPending, 0);
    await ledger.close();
  });
});
