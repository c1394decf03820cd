/**
 * The shared corpus of real-world PDFs lives beside the repository (`../shared/corpus`) and is not part
 * of a user's clone. Corpus-wide tests call `corpusOrSkip` and say clearly that they were skipped.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { minimalPdf } from '../pdf/fixture-builder.js';

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

/**
 * The benchmarks' letter: the `expect: stamp` corpus file of median size, or a built one-page letter
 * (and a note on stderr) when there is no corpus.
 */
export function medianStampLetter(): { name: string; bytes: Uint8Array } {
  const directory = corpusDirectory();
  if (directory === null) {
    process.stderr.write('corpus not found: using a built one-page letter instead\n');
    return { name: 'built-letter.pdf', bytes: minimalPdf('/MediaBox [0 0 595 842]') };
  }
  const sized = loadCorpus(directory)
    .filter((entry) => entry.expect === 'stamp')
    .map((entry) => ({ name: entry.file, bytes: readCorpusFile(directory, entry.file) }));
  sized.sort((left, right) => left.bytes.length - right.bytes.length);
  return sized[Math.floor((sized.length - 1) / 2)]!;
}
