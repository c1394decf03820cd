import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BubuhError } from '../errors.js';
import { corpusDirectory, corpusSkipReason, loadCorpus, readCorpusFile } from '../testing/corpus.js';
import { openPdf } from './reader.js';

/** Files refused with a known code until a security handler is plugged in, or always. */
const expectedCodes: Record<string, string> = {
  a26: 'PDF_ENCRYPTED_UNSUPPORTED',
  a27: 'PDF_ENCRYPTED_UNSUPPORTED',
  a37: 'PDF_ENCRYPTED_UNSUPPORTED',
  a28: 'PDF_DAMAGED',
  a30: 'PDF_NOT_PDF',
  a31: 'PDF_EMPTY',
  a34: 'PDF_NESTING_TOO_DEEP',
  a35: 'PDF_NOT_PDF',
};

test('corpus: every file opens and finds its last page, or is refused with its code, within 2 s', (t) => {
  const directory = corpusDirectory();
  if (directory === null) {
    t.skip(corpusSkipReason);
    return;
  }
  for (const entry of loadCorpus(directory)) {
    const prefix = entry.file.slice(0, 3);
    const bytes = readCorpusFile(directory, entry.file);
    const started = performance.now();
    let outcome: string;
    try {
      const document = openPdf(bytes);
      const last = document.getPage('last');
      outcome = 'opened';
      if (entry.expect === 'stamp') {
        assert.equal(document.pageCount(), entry.pages, `${entry.file}: page count`);
        assert.equal(last.pageNumber, entry.pages, `${entry.file}: last page number`);
      }
      if (prefix === 'a29') assert.equal(document.recovered, true, 'a29 needs the recovery scan');
    } catch (error) {
      assert.ok(error instanceof BubuhError, `${entry.file}: ${String(error)}`);
      outcome = error.code;
    }
    const elapsedMs = performance.now() - started;
    assert.ok(elapsedMs < 2000, `${entry.file} took ${elapsedMs} ms`);
    const expectedCode = expectedCodes[prefix];
    if (expectedCode !== undefined) assert.equal(outcome, expectedCode, entry.file);
    else if (entry.expect === 'stamp') assert.equal(outcome, 'opened', entry.file);
    else assert.notEqual(entry.expect, 'reject', `${entry.file} is a reject file without an expected code`);
  }
});

test('corpus: inherited attributes, rotations and boxes of the geometry files', (t) => {
  const directory = corpusDirectory();
  if (directory === null) {
    t.skip(corpusSkipReason);
    return;
  }
  const page = (file: string, pageNumber: number | 'last' = 1) =>
    openPdf(readCorpusFile(directory, file)).getPage(pageNumber);
  assert.equal(page('a17_pernyataan_rotate90.pdf').rotate, 90);
  assert.equal(page('a18_lamaran_scan_rotate270.pdf').rotate, 270);
  assert.deepEqual(page('a19_pernyataan_mediabox_offset.pdf').mediaBox, [150, 250, 762, 1042]);
  assert.deepEqual(page('a20_lamaran_cropbox.pdf').cropBox, [36, 48, 559.28, 805.89]);
  const inherited = page('a22_sewa_inherited_page_attributes.pdf', 'last');
  assert.deepEqual(inherited.mediaBox, [0, 0, 595.28, 841.89]);
  assert.ok(inherited.resources.has('Font'));
});
