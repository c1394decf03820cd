/**
 * The development outbox endpoint: the newest code written to a phone (not another phone's, not an
 * older one, a torn or foreign line skipped), and no such route outside development mode.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { outboxFilePath } from '../accounts/whatsapp.js';
import { loadConfig } from '../config.js';
import { buildApp } from '../http/app.js';
import { createLogger } from '../logger.js';
import { createNode } from '../node.js';
import { devOutboxPath, latestOutboxCode } from './dev-routes.js';

const line = (to: string, code: string, at: string) => JSON.stringify({ to, code, at, template: 'otp' });

test('latestOutboxCode finds the newest code for the phone and skips other and broken lines', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'bubuh-dev-outbox-'));
  try {
    const path = join(directory, 'whatsapp.jsonl');
    assert.equal(await latestOutboxCode(path, '+6281234567890'), null);
    await writeFile(
      path,
      [
        line('+6281234567890', '111111', '2026-11-23T10:00:00.000Z'),
        line('+6281234567890', '222222', '2026-11-23T10:01:00.000Z'),
        line('+6289999999999', '333333', '2026-11-23T10:02:00.000Z'),
        '{"to":"+6281234567890","code":',
        '',
      ].join('\n'),
    );
    assert.deepEqual(await latestOutboxCode(path, '+6281234567890'), {
      code: '222222',
      at: '2026-11-23T10:01:00.000Z',
    });
    assert.deepEqual(await latestOutboxCode(path, '+6289999999999'), {
      code: '333333',
      at: '2026-11-23T10:02:00.000Z',
    });
    assert.equal(await latestOutboxCode(path, '+6280000000000'), null);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});

test('GET /v1/dev/outbox/latest answers in development mode only', async () => {
  for (const mode of ['development', 'production'] as const) {
    const dataDir = await mkdtemp(join(tmpdir(), 'bubuh-dev-route-'));
    const environment: Record<string, string> = { BUBUH_DATA_DIR: dataDir, BUBUH_MODE: mode };
    let node;
    try {
      node = await createNode(loadConfig({}, environment), createLogger('silent'));
    } catch {
      // A production node refuses to start without its production settings: nothing to ask then.
      assert.equal(mode, 'production');
      await rm(dataDir, { recursive: true, force: true });
      continue;
    }
    const app = await buildApp(node);
    try {
      await mkdir(join(dataDir, 'outbox'), { recursive: true });
      await writeFile(
        outboxFilePath(dataDir),
        `${line('+6281234567890', '424242', '2026-11-23T10:00:00.000Z')}\n`,
      );
      const answer = await app.inject({ method: 'GET', url: `${devOutboxPath}?phone=081234567890` });
      if (mode === 'production') {
        assert.equal(answer.statusCode, 404);
        continue;
      }
      assert.equal(answer.statusCode, 200);
      assert.equal(answer.headers['cache-control'], 'no-store');
      assert.deepEqual(answer.json(), {
        mode: 'development',
        channel: 'file',
        outbox: 'outbox/whatsapp.jsonl',
        phone: '+6281234567890',
        code: '424242',
        at: '2026-11-23T10:00:00.000Z',
      });
    } finally {
      await app.close();
      await node.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }
});
