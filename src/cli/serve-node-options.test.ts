import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';
import { missingServeNodeOptions, serveNodeOptions } from './serve-node-options.js';

test('serve node options: npm start runs bubuh serve with exactly these options', () => {
  const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    scripts: Record<string, string>;
  };
  assert.deepEqual(serveNodeOptions, ['--v8-pool-size=0']);
  assert.equal(manifest.scripts['start'], 'node --v8-pool-size=0 bin/bubuh.js serve');
});

test('serve node options: missing ones are found on the command line and in NODE_OPTIONS, any value counting', () => {
  assert.deepEqual(missingServeNodeOptions([], undefined), ['--v8-pool-size=0']);
  assert.deepEqual(missingServeNodeOptions(['--enable-source-maps'], ''), ['--v8-pool-size=0']);
  assert.deepEqual(missingServeNodeOptions(['--v8-pool-size=0'], undefined), []);
  assert.deepEqual(missingServeNodeOptions([], '--max-old-space-size=4096  --v8-pool-size=3'), []);
  assert.deepEqual(missingServeNodeOptions(['--v8-pool-size', '2'], undefined), []);
  assert.deepEqual(missingServeNodeOptions(['--v8-pool-sizes=1'], '--v8-pool'), ['--v8-pool-size=0']);
});
