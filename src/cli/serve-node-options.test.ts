import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import test from 'node:test';
import { missingServeNodeOptions, serveNodeOptions } from './serve-node-options.js';

test('serve node options: npm start runs bubuh serve with exactly these options', () => {
  const manifest = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    scripts: Record<string, string>;
  };
  assert.deepEqual(serveNodeOptions, ['--v8-pool-size=0', '--max-semi-space-size=64']);
  assert.equal(
    manifest.scripts['start'],
    'node --v8-pool-size=0 --max-semi-space-size=64 bin/bubuh.js serve',
  );
});

test('serve node options: missing ones are found on the command line and in NODE_OPTIONS, any value counting', () => {
  const both = ['--v8-pool-size=0', '--max-semi-space-size=64'];
  assert.deepEqual(missingServeNodeOptions([], undefined), both);
  assert.deepEqual(missingServeNodeOptions(['--enable-source-maps'], ''), both);
  assert.deepEqual(missingServeNodeOptions(['--v8-pool-size=0'], undefined), ['--max-semi-space-size=64']);
  assert.deepEqual(
    missingServeNodeOptions([], '--max-old-space-size=4096  --v8-pool-size=3 --max-semi-space-size=16'),
    [],
  );
  assert.deepEqual(
    missingServeNodeOptions(['--v8-pool-size', '2', '--max-semi-space-size=32'], undefined),
    [],
  );
  assert.deepEqual(missingServeNodeOptions(['--v8-pool-sizes=1'], '--v8-pool --max-semi-space'), both);
});
