/**
 * The web app's words (web/app/texts.ts): every key has both languages, non-empty, and each pair names
 * the same `{placeholders}`, so a translation never drops or invents a value. The file imports nothing;
 * it is transpiled here with the TypeScript compiler and imported as a module.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The repository: this file runs as `<build>/src/web/app-texts.test.js`, the build beside web/. */
const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function placeholders(text: string): string[] {
  return [...text.matchAll(/\{(\w+)\}/g)].map((match) => match[1]!).sort();
}

test('every text of the web app is in Bahasa Indonesia and English with the same placeholders', async (t) => {
  const source = join(repositoryRoot, 'web', 'app', 'texts.ts');
  if (!existsSync(source)) {
    t.skip('skipped: web/app/texts.ts is not beside this build');
    return;
  }
  const typescript = createRequire(import.meta.url)('typescript') as typeof import('typescript');
  const output = typescript.transpileModule(await readFile(source, 'utf8'), {
    compilerOptions: { module: typescript.ModuleKind.ESNext, target: typescript.ScriptTarget.ES2022 },
  }).outputText;
  const directory = await mkdtemp(join(tmpdir(), 'bubuh-texts-'));
  try {
    const file = join(directory, 'texts.mjs');
    await writeFile(file, output);
    const module = (await import(pathToFileURL(file).href)) as {
      texts: Record<string, { id: string; en: string }>;
      format: (language: 'id' | 'en', key: string, values?: Record<string, string | number>) => string;
    };
    const keys = Object.keys(module.texts);
    assert.ok(keys.length > 100, `${keys.length} texts`);
    const mismatched = keys.filter((key) => {
      const { id, en } = module.texts[key]!;
      return id.trim() === '' || en.trim() === '' || placeholders(id).join() !== placeholders(en).join();
    });
    assert.deepEqual(mismatched, []);
    assert.equal(module.format('id', 'historyRefunded'), 'Gagal — kuota dikembalikan otomatis');
    assert.equal(module.format('id', 'historyStamped'), 'Berhasil');
    assert.equal(module.format('en', 'pageOf', { page: 2, count: 5 }), 'Page 2 of 5');
    assert.equal(module.format('id', 'pageOf', { page: 2 }), 'Halaman 2 dari {count}');
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});
