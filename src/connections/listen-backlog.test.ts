/**
 * `bubuh serve` listens with BUBUH_LISTEN_BACKLOG as its accept queue (Node's default is 511): the
 * kernel reports a listening socket's backlog as its Send-Q in `ss -ltn`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, startServe, waitReady } from '../testing/serve-process.js';

const ss = spawnSync('ss', ['-V'], { encoding: 'utf8' });
const skip =
  process.platform !== 'linux' || ss.status !== 0
    ? 'ss (iproute2) is not installed, so the accept-queue size of the listening socket cannot be read'
    : false;

/** The backlog the kernel reports for the socket listening on `port`, or null. */
function listenBacklog(port: number): number | null {
  const listed = spawnSync('ss', ['-ltnH', `sport = :${port}`], { encoding: 'utf8' });
  // State Recv-Q Send-Q Local Peer: for a listening socket Send-Q is the backlog.
  const fields = listed.stdout.trim().split(/\s+/);
  return fields.length >= 3 ? Number(fields[2]) : null;
}

test('bubuh serve listens with the configured accept queue', { skip }, async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'bubuh-backlog-'));
  const port = await freePort();
  const server = startServe({ BUBUH_DATA_DIR: dataDir, PORT: String(port), BUBUH_LISTEN_BACKLOG: '97' });
  try {
    await waitReady(`http://127.0.0.1:${port}`);
    assert.equal(listenBacklog(port), 97);
  } finally {
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGTERM');
    await exited;
    await rm(dataDir, { recursive: true, force: true });
  }
});
