import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { describeConfig, loadConfig } from './config.js';
import { isBubuhError } from './errors.js';

function refusal(environment: Record<string, string>) {
  try {
    loadConfig(environment);
  } catch (error) {
    assert.ok(isBubuhError(error));
    return { code: error.code, message: error.message };
  }
  assert.fail('expected the configuration to be refused');
}

test('defaults: embedded SQLite in ./data on port 8080, development mode', () => {
  const config = loadConfig({});
  assert.equal(config.mode, 'development');
  assert.equal(config.dataDir, resolve('./data'));
  assert.equal(config.port, 8080);
  assert.equal(config.databaseUrl, undefined);
  assert.equal(config.ledgerBatchTransfersMax, 1024);
  assert.ok(Object.isFrozen(config));
});

test('a wrong value names the variable and what is allowed', () => {
  assert.deepEqual(refusal({ PORT: 'abc' }), {
    code: 'CONFIG_INVALID',
    message:
      'Invalid configuration: PORT — "abc" is not a whole number (allowed: 0..65535). Fix the value and start again.',
  });
  assert.deepEqual(refusal({ PORT: '70000' }), {
    code: 'CONFIG_INVALID',
    message: 'Invalid configuration: PORT — 70000 is outside 0..65535. Fix the value and start again.',
  });
  assert.deepEqual(refusal({ BUBUH_MODE: 'prod' }), {
    code: 'CONFIG_INVALID',
    message:
      'Invalid configuration: BUBUH_MODE — "prod" is not one of development, production. Fix the value and start again.',
  });
  assert.deepEqual(refusal({ DATABASE_URL: 'mysql://x' }), {
    code: 'CONFIG_INVALID',
    message:
      'Invalid configuration: DATABASE_URL — "mysql://x" is not a postgres:// URL, or unset for SQLite. Fix the value and start again.',
  });
});

test('a configuration file is read; the environment wins over it; unknown keys are refused', () => {
  const directory = mkdtempSync(join(tmpdir(), 'bubuh-config-'));
  const file = join(directory, 'bubuh.json');
  writeFileSync(file, JSON.stringify({ PORT: 9000, LOG_LEVEL: 'warn' }));
  const config = loadConfig({ BUBUH_CONFIG_FILE: file, LOG_LEVEL: 'debug' });
  assert.equal(config.port, 9000);
  assert.equal(config.logLevel, 'debug');
  writeFileSync(file, JSON.stringify({ PROT: 9000 }));
  assert.deepEqual(refusal({ BUBUH_CONFIG_FILE: file }), {
    code: 'CONFIG_INVALID',
    message: `Invalid configuration: PROT — unknown setting in ${file}. Fix the value and start again.`,
  });
  writeFileSync(file, '{not json');
  assert.equal(refusal({ BUBUH_CONFIG_FILE: file }).code, 'CONFIG_FILE_UNREADABLE');
});

test('bubuh config redacts the database password', () => {
  const config = loadConfig({ DATABASE_URL: 'postgres://bubuh:s3cret@db.example:5432/bubuh' });
  assert.equal(
    describeConfig(config)['DATABASE_URL']?.value,
    'postgres://bubuh:REDACTED@db.example:5432/bubuh',
  );
});
