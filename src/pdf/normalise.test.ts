import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { corpusDirectory, corpusSkipReason, readCorpusFile } from '../testing/corpus.js';
import { IncrementalUpdate } from './incremental.js';
import type { ObjectSpan } from './normalise.js';
import { rewriteWithFreshXref } from './normalise.js';
import type { PdfObject } from './objects.js';
import { PdfDict, PdfName, PdfRef, PdfString } from './objects.js';

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');
const bytesOf = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'latin1'));
const ref = (objectNumber: number, generation = 0): PdfRef => new PdfRef(objectNumber, generation);
const dict = (entries: Record<string, PdfObject>): PdfDict => new PdfDict(new Map(Object.entries(entries)));

const workDirectory = mkdtempSync(join(tmpdir(), 'bubuh-normalise-'));
after(() => rmSync(workDirectory, { recursive: true, force: true }));

/** Test-only recovery scan: every `N G obj` at a line start up to the next `endobj`. */
function scanObjects(bytes: Uint8Array): ObjectSpan[] {
  const text = latin1(bytes);
  const spans: ObjectSpan[] = [];
  for (const match of text.matchAll(/(?:^|[\r\n])((\d+) (\d+) obj)\b/g)) {
    const start = match.index + match[0].length - match[1]!.length;
    const end = text.indexOf('endobj', start) + 'endobj'.length;
    spans.push({ objectNumber: Number(match[2]), generation: Number(match[3]), start, end });
  }
  return spans;
}

function missingTool(tool: string): string | null {
  const probe = spawnSync(tool, ['--version'], { encoding: 'utf8' });
  return probe.error === undefined ? null : `${tool} is not installed, so this independent check was skipped`;
}

function qpdfCheck(bytes: Uint8Array, label: string): { status: number | null; output: string } {
  const path = join(workDirectory, `${label}.pdf`);
  writeFileSync(path, bytes);
  const result = spawnSync('qpdf', ['--check', path], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

test('objects copied verbatim in number order, a full table with a linked free list, trailer without /Prev', () => {
  const broken = bytesOf(
    '%PDF-1.4\n%junk\n' +
      '4 0 obj\n(old four)\nendobj\n' +
      '1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n' +
      '2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n' +
      '4 0 obj\n(new four)\nendobj\n' +
      'xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 9 /Root 1 0 R /Prev 3 >>\nstartxref\n999\n%%EOF\n',
  );
  const spans = scanObjects(broken);
  assert.deepEqual(
    spans.map((span) => span.objectNumber),
    [4, 1, 2, 4],
  );
  const trailer = dict({
    Size: 9,
    Root: ref(1),
    Prev: 3,
    XRefStm: 7,
    ID: [PdfString.fromLatin1('a'), PdfString.fromLatin1('b')],
  });
  const output = rewriteWithFreshXref(broken, spans, trailer);
  assert.equal(
    latin1(output),
    '%PDF-1.4\n%\xE2\xE3\xCF\xD3\n' +
      '1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n' +
      '2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n' +
      '4 0 obj\n(new four)\nendobj\n' +
      'xref\n0 5\n' +
      '0000000003 65535 f \n' +
      '0000000015 00000 n \n' +
      '0000000064 00000 n \n' +
      '0000000000 00000 f \n' +
      '0000000116 00000 n \n' +
      'trailer\n<</Size 5 /Root 1 0 R /ID [(a) (b)]>>\n' +
      'startxref\n142\n%%EOF\n',
  );
});

test('refuses spans that are not whole objects, out-of-range numbers, and a trailer without /Root', () => {
  const bytes = bytesOf('%PDF-1.7\n1 0 obj\nnull\nendobj\n');
  const good: ObjectSpan = { objectNumber: 1, generation: 0, start: 9, end: 28 };
  const trailer = dict({ Root: ref(1) });
  assert.equal(latin1(rewriteWithFreshXref(bytes, [good], trailer)).slice(0, 9), '%PDF-1.7\n');
  assert.throws(
    () => rewriteWithFreshXref(bytes, [{ ...good, start: 10 }], trailer),
    /is not "1 0 obj … endobj"/,
  );
  assert.throws(
    () => rewriteWithFreshXref(bytes, [{ ...good, end: 27 }], trailer),
    /is not "1 0 obj … endobj"/,
  );
  assert.throws(() => rewriteWithFreshXref(bytes, [{ ...good, end: 30 }], trailer), /outside the file/);
  assert.throws(() => rewriteWithFreshXref(bytes, [{ ...good, generation: 1 }], trailer), /is not "1 1 obj/);
  assert.throws(
    () => rewriteWithFreshXref(bytes, [{ ...good, objectNumber: 0 }], trailer),
    /outside 1\.\.8388607/,
  );
  assert.throws(() => rewriteWithFreshXref(bytes, [], trailer), /no objects/);
  assert.throws(() => rewriteWithFreshXref(bytes, [good], new PdfDict()), /no \/Root/);
});

test('corpus a29 (every xref offset 7 bytes off): the rewrite passes qpdf --check and takes a stamp update', (t) => {
  const directory = corpusDirectory();
  if (directory === null) return t.skip(corpusSkipReason);
  const missing = missingTool('qpdf');
  if (missing) return t.skip(missing);
  const original = readCorpusFile(directory, 'a29_xref_offsets_corrupted.pdf');
  const before = qpdfCheck(original, 'a29-original');
  assert.match(
    before.output,
    /WARNING/,
    'the original is damaged, so this test can tell repair from no repair',
  );

  const text = latin1(original);
  const trailerText = /trailer\s*<<([\s\S]*?)>>\s*startxref/.exec(text)![1]!;
  const [, root, info] = /\/Root (\d+) 0 R \/Info (\d+) 0 R/.exec(trailerText)!;
  const [, id0, id1] = /\/ID \[<([0-9A-F]+)><([0-9A-F]+)>\]/.exec(trailerText)!;
  const hex = (value: string): PdfString => new PdfString(new Uint8Array(Buffer.from(value!, 'hex')), true);
  const trailer = dict({
    Size: 19,
    Root: ref(Number(root)),
    Info: ref(Number(info)),
    ID: [hex(id0!), hex(id1!)],
  });
  const spans = scanObjects(original);
  assert.equal(spans.length, 18);

  const normalised = rewriteWithFreshXref(original, spans, trailer);
  const checked = qpdfCheck(normalised, 'a29-normalised');
  assert.equal(checked.status, 0, checked.output);
  assert.doesNotMatch(checked.output, /WARNING/, checked.output);
  assert.match(checked.output, /No syntax or stream encoding errors found/);
  for (const span of spans) {
    assert.ok(
      latin1(normalised).includes(text.slice(span.start, span.end)),
      `object ${span.objectNumber} verbatim`,
    );
  }

  const startxref = Number(/startxref\n(\d+)\n%%EOF\n$/.exec(latin1(normalised))![1]);
  const base = {
    bytes: normalised,
    startxref,
    xrefKind: 'table' as const,
    trailer,
    size: 19,
    security: null,
  };
  const update = new IncrementalUpdate(base, { fileIdentifier: new Uint8Array(16).fill(7) });
  const signature = update.allocate();
  update.addSignature(
    signature,
    dict({ Type: PdfName.of('Sig'), Filter: PdfName.of('Adobe.PPKLite') }),
    4096,
  );
  const stamped = update.build();
  const stampedCheck = qpdfCheck(stamped.bytes, 'a29-stamped');
  assert.equal(stampedCheck.status, 0, stampedCheck.output);
  assert.doesNotMatch(stampedCheck.output, /WARNING/, stampedCheck.output);
  assert.deepEqual(stamped.bytes.subarray(0, normalised.length), normalised);
});
