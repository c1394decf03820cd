/**
 * The shared corpus of real-world PDFs lives beside the repository (`../shared/corpus`) and is not part
 * of a user's clone. Corpus-wide tests call `corpusOrSkip` and say clearly that they were skipped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CorpusEntry {
  readonly file: string;
  readonly producer: string;
  readonly pages: number | null;
  readonly bytes: number;
  readonly features: readonly string[];
  readonly expect: 'stamp' | 'reject' | 'either';
  readonly note: string;
  readonly sha256: string;
}

/** The repository root: the nearest directory above this file holding package.json. */
export function repositoryRoot(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 10; depth += 1) {
    if (existsSync(join(directory, 'package.json'))) return directory;
    directory = dirname(directory);
  }
  throw new Error('repository root not found above the test file');
}

/** `BUBUH_CORPUS_DIR`, or `../shared/corpus` beside the repository; null when absent. */
export function corpusDirectory(): string | null {
  const configured = process.env['BUBUH_CORPUS_DIR'];
  const directory = configured ? resolve(configured) : resolve(repositoryRoot(), '..', 'shared', 'corpus');
  return existsSync(join(directory, 'manifest.json')) ? directory : null;
}

export const corpusSkipReason =
  'corpus not found: ../shared/corpus (or BUBUH_CORPUS_DIR) is absent, so the corpus-wide checks were skipped';

export function loadCorpus(directory: string): CorpusEntry[] {
  return JSON.parse(readFileSync(join(directory, 'manifest.json'), 'utf8')) as CorpusEntry[];
}

export function readCorpusFile(directory: string, file: string): Uint8Array {
  return new Uint8Array(readFileSync(join(directory, file)));
}
