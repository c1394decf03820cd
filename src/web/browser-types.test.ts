/**
 * The verifier page and everything it imports from src/ type-check for a browser: the DOM library and
 * no Node types (web/tsconfig.json). A `Buffer`, a `process`, a Node-only module or a WebCrypto call the
 * DOM types refuse fails here, with the compiler's message naming the file. (The Vite build separately
 * refuses any Node module in the page's module graph.)
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/** The repository: this file runs as `<build>/src/web/browser-types.test.js`, the build beside web/. */
const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('the verifier page and its imports from src/ type-check with the DOM library and no Node types', (t) => {
  const project = join(repositoryRoot, 'web', 'tsconfig.json');
  const compiler = join(repositoryRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  if (!existsSync(project) || !existsSync(compiler)) {
    t.skip('skipped: web/tsconfig.json or the TypeScript compiler is not beside this build');
    return;
  }
  const result = spawnSync(process.execPath, [compiler, '-p', project, '--pretty', 'false'], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.equal(`${result.stdout}${result.stderr}`, '');
  assert.equal(result.status, 0);
});
