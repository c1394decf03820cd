import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { createNode } from '../node.js';
import { eachBackend } from '../testing/backends.js';
import { buildApp } from './app.js';
import { loopGuardOff } from '../testing/overload.js';

test('health, readiness, request ids and the 404 refusal', async (t) => {
  await eachBackend(t, async (backend) => {
    const config = loadConfig(
      {},
      {
        BUBUH_DATA_DIR: backend.openOptions.dataDir,
        DATABASE_URL: backend.openOptions.databaseUrl,
        ...loopGuardOff,
      },
    );
    const node = await createNode(config, createLogger('silent'), {
      ...(backend.openOptions.postgresSchema ? { postgresSchema: backend.openOptions.postgresSchema } : {}),
    });
    const app = await buildApp(node);
    try {
      const health = await app.inject({ method: 'GET', url: '/healthz' });
      assert.equal(health.statusCode, 200);
      assert.deepEqual(health.json(), { status: 'ok' });
      const ready = await app.inject({
        method: 'GET',
        url: '/readyz',
        headers: { 'x-request-id': 'abc-123' },
      });
      assert.equal(ready.statusCode, 200);
      assert.deepEqual(ready.json(), { status: 'ready', storage: backend.name, ledger_queue_depth: 0 });
      assert.equal(ready.headers['x-request-id'], 'abc-123');
      const missing = await app.inject({ method: 'GET', url: '/nowhere?x=1' });
      assert.equal(missing.statusCode, 404);
      assert.deepEqual(missing.json(), {
        error: {
          code: 'NOT_FOUND',
          message: 'There is nothing at /nowhere. Check the address.',
          message_id: 'Alamat /nowhere tidak ada. Periksa kembali alamatnya.',
          details: { path: '/nowhere' },
        },
      });
    } finally {
      await app.close();
      await node.close();
    }
  });
});
