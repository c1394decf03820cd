import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { BubuhError, errorRegistry, renderErrorsMarkdown } from './errors.js';
import { repositoryRoot } from './testing/corpus.js';

test('docs/errors.md is exactly the registry (regenerate with `bubuh docs errors > docs/errors.md`)', () => {
  const documented = readFileSync(join(repositoryRoot(), 'docs', 'errors.md'), 'utf8');
  assert.equal(documented, renderErrorsMarkdown());
});

test('every error has a stable code, an HTTP status and matching messages in both languages', () => {
  const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  for (const [code, definition] of Object.entries(errorRegistry)) {
    assert.match(code, /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/, code);
    assert.ok(definition.status >= 400 && definition.status <= 599, `${code} status ${definition.status}`);
    assert.ok(definition.en.length > 10 && definition.id.length > 10, `${code} needs real messages`);
    assert.notEqual(definition.en, definition.id, `${code}: the Indonesian message is not translated`);
    assert.deepEqual(
      placeholders(definition.id),
      placeholders(definition.en),
      `${code}: placeholders differ`,
    );
  }
});

test('a BubuhError fills its messages and carries Retry-After', () => {
  const error = new BubuhError('LEDGER_OVERLOADED', { retryAfterSeconds: 3 });
  assert.equal(error.status, 503);
  assert.equal(error.message, 'The ledger queue is full. Try again in 3 seconds.');
  assert.equal(error.messageId, 'Buku besar sedang penuh antrean. Coba lagi dalam 3 detik.');
  assert.equal(error.retryAfterSeconds, 3);
  assert.deepEqual(error.toBody(), {
    error: {
      code: 'LEDGER_OVERLOADED',
      message: 'The ledger queue is full. Try again in 3 seconds.',
      message_id: 'Buku besar sedang penuh antrean. Coba lagi dalam 3 detik.',
      details: { retryAfterSeconds: 3 },
    },
  });
});
