import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { unzlibSync } from 'fflate';
import { corpusDirectory, corpusSkipReason, readCorpusFile } from '../testing/corpus.js';
import type { AppendBase, IncrementalUpdateResult } from './incremental.js';
import { fillSignature, flateStream, IncrementalUpdate } from './incremental.js';
import type { PdfObject } from './objects.js';
import { PdfDict, PdfName, PdfRef, PdfStream, PdfString } from './objects.js';
import type { SecurityHandler } from './security.js';
import { serializeObject } from './serialize.js';

// ---------------------------------------------------------------------------------------------
// Fixtures: small PDFs written by hand, so the core tests need no corpus.
// ---------------------------------------------------------------------------------------------

const latin1 = (bytes: Uint8Array): string => Buffer.from(bytes).toString('latin1');
const bytesOf = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'latin1'));
const dict = (entries: Record<string, PdfObject>): PdfDict => new PdfDict(new Map(Object.entries(entries)));
const name = PdfName.of;
const ref = (objectNumber: number): PdfRef => new PdfRef(objectNumber, 0);
const hexString = (hex: string): PdfString => new PdfString(new Uint8Array(Buffer.from(hex, 'hex')), true);

const originalId = '0123456789ABCDEF0123456789ABCDEF';
const newId = new Uint8Array(Buffer.from('FEDCBA9876543210FEDCBA9876543210', 'hex'));
const content = '0 0 1 rg 20 20 80 40 re f';

/** Objects 1..5: catalog, pages, page, content stream, info. */
const baseBodies = [
  '<< /Type /Catalog /Pages 2 0 R >>',
  '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
  '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Resources << >> >>',
  `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
  '<< /Producer (hand) >>',
];

const page = (annots?: PdfObject): PdfDict => {
  const value = dict({
    Type: name('Page'),
    Parent: ref(2),
    MediaBox: [0, 0, 200, 200],
    Contents: ref(4),
    Resources: new PdfDict(),
  });
  if (annots !== undefined) value.set('Annots', annots);
  return value;
};

function baseTrailer(size: number, extra: Record<string, PdfObject> = {}): PdfDict {
  return dict({
    Size: size,
    Root: ref(1),
    Info: ref(5),
    ID: [hexString(originalId), hexString(originalId)],
    ...extra,
  });
}

/** Writes `N 0 obj … endobj` for each body, numbering from `first`; returns text and offsets. */
function objectsText(bodies: string[], first: number, start: number): { text: string; offsets: number[] } {
  let text = '';
  const offsets: number[] = [];
  bodies.forEach((body, index) => {
    offsets.push(start + text.length);
    text += `${first + index} 0 obj\n${body}\nendobj\n`;
  });
  return { text, offsets };
}

const entry = (offset: number): string => `${String(offset).padStart(10, '0')} 00000 n \n`;

/** A one-revision file with a classic table; `finalNewline` false leaves `%%EOF` unterminated. */
function classicFile(finalNewline = true): { bytes: Uint8Array; base: AppendBase } {
  const header = '%PDF-1.7\n%\xE2\xE3\xCF\xD3\n';
  const { text, offsets } = objectsText(baseBodies, 1, header.length);
  const xrefOffset = header.length + text.length;
  const size = baseBodies.length + 1;
  const table = `xref\n0 ${size}\n0000000000 65535 f \n${offsets.map(entry).join('')}`;
  const trailer = `trailer\n<< /Size ${size} /Root 1 0 R /Info 5 0 R /ID [<${originalId}> <${originalId}>] >>\n`;
  const tail = `startxref\n${xrefOffset}\n%%EOF${finalNewline ? '\n' : ''}`;
  const bytes = bytesOf(header + text + table + trailer + tail);
  const base = {
    bytes,
    startxref: xrefOffset,
    xrefKind: 'table',
    trailer: baseTrailer(size),
    size,
    security: null,
  };
  return { bytes, base: base as AppendBase };
}

/** The classic file plus a hand-written update (new /Info 5), so the base already has a /Prev chain. */
function classicFileWithPrev(): { bytes: Uint8Array; base: AppendBase } {
  const first = classicFile();
  const firstText = latin1(first.bytes);
  const { text, offsets } = objectsText(['<< /Producer (hand, updated) >>'], 5, firstText.length);
  const xrefOffset = firstText.length + text.length;
  const trailer = `trailer\n<< /Size 6 /Root 1 0 R /Info 5 0 R /ID [<${originalId}> <${originalId}>] /Prev ${first.base.startxref} >>\n`;
  const bytes = bytesOf(
    `${firstText + text}xref\n5 1\n${entry(offsets[0]!)}${trailer}startxref\n${xrefOffset}\n%%EOF\n`,
  );
  const base = {
    bytes,
    startxref: xrefOffset,
    xrefKind: 'table',
    trailer: baseTrailer(6),
    size: 6,
    security: null,
  };
  return { bytes, base: base as AppendBase };
}

/** A one-revision file whose cross-reference section is an uncompressed stream (object 6). */
function xrefStreamFile(): { bytes: Uint8Array; base: AppendBase } {
  const header = '%PDF-1.7\n%\xE2\xE3\xCF\xD3\n';
  const { text, offsets } = objectsText(baseBodies, 1, header.length);
  const xrefOffset = header.length + text.length;
  const row = (type: number, offset: number, generation: number): string =>
    String.fromCharCode(type, (offset >> 8) & 255, offset & 255, generation);
  const rows = row(0, 0, 255) + offsets.map((offset) => row(1, offset, 0)).join('') + row(1, xrefOffset, 0);
  const dictText = `<< /Type /XRef /Size 7 /W [1 2 1] /Root 1 0 R /Info 5 0 R /ID [<${originalId}> <${originalId}>] /Length ${rows.length} >>`;
  const stream = `6 0 obj\n${dictText}\nstream\n${rows}\nendstream\nendobj\n`;
  const bytes = bytesOf(`${header}${text}${stream}startxref\n${xrefOffset}\n%%EOF\n`);
  const base = {
    bytes,
    startxref: xrefOffset,
    xrefKind: 'stream',
    trailer: baseTrailer(7),
    size: 7,
    security: null,
  };
  return { bytes, base: base as AppendBase };
}

/** The update every tool test appends: a new annotation (object N) and the page replaced to list it. */
function annotate(update: IncrementalUpdate): PdfRef {
  const annotation = update.allocate();
  update.set(
    annotation,
    dict({
      Type: name('Annot'),
      Subtype: name('Square'),
      Rect: [10, 10, 60.5, 60.25],
      C: [1, 0, 0],
      Contents: PdfString.fromLatin1('Diperiksa (ok)'),
      P: ref(3),
    }),
  );
  update.set(ref(3), page([annotation]));
  return annotation;
}

// ---------------------------------------------------------------------------------------------
// External tools: qpdf, mutool, pdfsig, openssl. Each test skips, naming the tool, when absent.
// ---------------------------------------------------------------------------------------------

const workDirectory = mkdtempSync(join(tmpdir(), 'bubuh-pdfwriter-'));
after(() => rmSync(workDirectory, { recursive: true, force: true }));

const toolPresent = new Map<string, boolean>();
function missingTool(...tools: string[]): string | null {
  for (const tool of tools) {
    if (!toolPresent.has(tool)) {
      const probe = spawnSync(tool, tool === 'openssl' ? ['version'] : ['--version'], { encoding: 'utf8' });
      toolPresent.set(tool, probe.error === undefined);
    }
    if (!toolPresent.get(tool)) return `${tool} is not installed, so this independent check was skipped`;
  }
  return null;
}

let fileCounter = 0;
function saveTemporary(bytes: Uint8Array, label: string): string {
  fileCounter += 1;
  const path = join(workDirectory, `${fileCounter}-${label}.pdf`);
  writeFileSync(path, bytes);
  return path;
}

function run(tool: string, args: string[]): { status: number | null; output: string } {
  const result = spawnSync(tool, args, { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** `qpdf --check` must exit 0 and print no warning. */
function assertQpdfClean(path: string): void {
  const { status, output } = run('qpdf', ['--check', path]);
  assert.equal(status, 0, output);
  assert.doesNotMatch(output, /WARNING/i, output);
  assert.match(output, /No syntax or stream encoding errors found/);
}

function assertPrefix(original: Uint8Array, output: Uint8Array): void {
  assert.ok(output.length > original.length);
  assert.equal(Buffer.compare(Buffer.from(output.subarray(0, original.length)), Buffer.from(original)), 0);
}

function checkWithTools(
  t: { skip(message: string): void },
  original: Uint8Array,
  result: IncrementalUpdateResult,
) {
  assertPrefix(original, result.bytes);
  const missing = missingTool('qpdf', 'mutool');
  if (missing) {
    t.skip(missing);
    return null;
  }
  const path = saveTemporary(result.bytes, 'update');
  assertQpdfClean(path);
  const trailer = run('mutool', ['show', path, 'trailer']);
  assert.equal(trailer.status, 0, trailer.output);
  const info = run('mutool', ['info', path]);
  assert.equal(info.status, 0, info.output);
  return { path, trailer: trailer.output, info: info.output };
}

// ---------------------------------------------------------------------------------------------
// Exact bytes.
// ---------------------------------------------------------------------------------------------

test('after a classic table: objects, a table listing only them, trailer with /Prev and the new /ID', () => {
  const { bytes, base } = classicFile();
  const update = new IncrementalUpdate(base, { fileIdentifier: newId });
  annotate(update);
  const result = update.build();
  const start = bytes.length;
  const page3 = start;
  const annot6 = page3 + 117;
  const xref = annot6 + 123;
  assert.equal(
    latin1(result.bytes.subarray(start)),
    '3 0 obj\n<</Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Resources <<>> /Annots [6 0 R]>>\nendobj\n' +
      '6 0 obj\n<</Type /Annot /Subtype /Square /Rect [10 10 60.5 60.25] /C [1 0 0] /Contents (Diperiksa \\(ok\\)) /P 3 0 R>>\nendobj\n' +
      'xref\n3 1\n' +
      `${entry(page3)}` +
      '6 1\n' +
      `${entry(annot6)}` +
      'trailer\n' +
      `<</Size 7 /Root 1 0 R /Info 5 0 R /ID [<${originalId}> <FEDCBA9876543210FEDCBA9876543210>] /Prev ${base.startxref}>>\n` +
      `startxref\n${xref}\n%%EOF\n`,
  );
  assert.equal(result.startxref, xref);
  assert.equal(result.size, 7);
  assert.equal(result.addedBytes, result.bytes.length - bytes.length);
  assert.equal(result.byteRange, null);
  assert.equal(result.contentsOffset, -1);
  assert.equal(result.contentsLength, 0);
});

test('an original without a final EOL gets one LF before the update; the original stays a prefix', () => {
  const { bytes, base } = classicFile(false);
  assert.equal(latin1(bytes.subarray(-5)), '%%EOF');
  const update = new IncrementalUpdate(base, { fileIdentifier: newId });
  update.set(ref(5), dict({ Producer: PdfString.fromLatin1('x') }));
  const result = update.build();
  assertPrefix(bytes, result.bytes);
  assert.equal(latin1(result.bytes.subarray(bytes.length, bytes.length + 9)), '\n5 0 obj\n');
  assert.equal(result.addedBytes, result.bytes.length - bytes.length);
  assert.match(
    latin1(result.bytes),
    new RegExp(`xref\\n5 1\\n${String(bytes.length + 1).padStart(10, '0')} 00000 n \\n`),
  );
});

test('after a cross-reference stream: an xref stream object with its own entry, /Index, /W, /Prev', () => {
  const { bytes, base } = xrefStreamFile();
  const update = new IncrementalUpdate(base, { fileIdentifier: newId });
  annotate(update);
  const result = update.build();
  const page3 = bytes.length;
  const annot7 = page3 + 117; // The base /Size is 7: the annotation is 7, the xref stream 8.
  const xref = annot7 + 123;
  const row = (offset: number): string => String.fromCharCode(1, (offset >> 8) & 255, offset & 255, 0);
  const rows = row(page3) + row(annot7) + row(xref);
  assert.equal(
    latin1(result.bytes.subarray(bytes.length)),
    '3 0 obj\n<</Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Resources <<>> /Annots [7 0 R]>>\nendobj\n' +
      '7 0 obj\n<</Type /Annot /Subtype /Square /Rect [10 10 60.5 60.25] /C [1 0 0] /Contents (Diperiksa \\(ok\\)) /P 3 0 R>>\nendobj\n' +
      `8 0 obj\n<</Type /XRef /Size 9 /Root 1 0 R /Info 5 0 R /ID [<${originalId}> <FEDCBA9876543210FEDCBA9876543210>] ` +
      `/Index [3 1 7 2] /W [1 2 1] /Prev ${base.startxref} /Length 12>>\nstream\r\n${rows}\r\nendstream\nendobj\n` +
      `startxref\n${xref}\n%%EOF\n`,
  );
  assert.equal(result.size, 9);
  assert.equal(result.startxref, xref);
});

test('a compressed cross-reference stream inflates to the same rows', () => {
  const { base } = xrefStreamFile();
  const plain = new IncrementalUpdate(base, { fileIdentifier: newId });
  annotate(plain);
  const compressed = new IncrementalUpdate(base, { fileIdentifier: newId, compressXrefStream: true });
  annotate(compressed);
  const rowsOf = (result: IncrementalUpdateResult): Uint8Array => {
    const text = latin1(result.bytes.subarray(result.startxref));
    const start = text.indexOf('stream\r\n') + 8;
    const end = text.indexOf('\r\nendstream');
    return result.bytes.subarray(result.startxref + start, result.startxref + end);
  };
  const plainResult = plain.build();
  const compressedResult = compressed.build();
  assert.match(
    latin1(compressedResult.bytes.subarray(compressedResult.startxref)),
    /\/Filter \/FlateDecode \/Length \d+>>/,
  );
  assert.deepEqual(unzlibSync(rowsOf(compressedResult)), rowsOf(plainResult));
});

// ---------------------------------------------------------------------------------------------
// Signatures.
// ---------------------------------------------------------------------------------------------

const signingTime = PdfString.fromLatin1("D:20240915093000+07'00'");

/** A signature field (widget on page 3), its /Sig value and a catalog with /AcroForm. */
function addSignatureField(
  update: IncrementalUpdate,
  contentsBytes: number,
  subFilter = 'adbe.pkcs7.detached',
): void {
  const signature = update.allocate();
  const widget = update.allocate();
  update.addSignature(
    signature,
    dict({
      Type: name('Sig'),
      Filter: name('Adobe.PPKLite'),
      SubFilter: name(subFilter),
      M: signingTime,
      Reason: PdfString.fromLatin1('e-meterai 0A1B2C3D4E5F6G7H8J9K0L'),
    }),
    contentsBytes,
  );
  update.set(
    widget,
    dict({
      Type: name('Annot'),
      Subtype: name('Widget'),
      FT: name('Sig'),
      T: PdfString.fromLatin1('meterai-1'),
      V: signature,
      Rect: [0, 0, 0, 0],
      F: 132,
      P: ref(3),
    }),
  );
  update.set(ref(3), page([widget]));
  update.set(
    ref(1),
    dict({ Type: name('Catalog'), Pages: ref(2), AcroForm: dict({ Fields: [widget], SigFlags: 3 }) }),
  );
}

test('signature: /ByteRange is fixed width and exact, /Contents is a zero placeholder excluded with its brackets', () => {
  const { bytes, base } = classicFile();
  const update = new IncrementalUpdate(base, { fileIdentifier: newId });
  addSignatureField(update, 8);
  const result = update.build();
  const total = result.bytes.length;
  const [zero, a, b, c] = result.byteRange!;
  assert.equal(zero, 0);
  assert.equal(a, result.contentsOffset);
  assert.equal(b, result.contentsOffset + result.contentsLength);
  assert.equal(b + c, total);
  assert.equal(result.contentsLength, 18);
  assert.equal(latin1(result.bytes.subarray(a, b)), '<0000000000000000>');
  const appended = latin1(result.bytes.subarray(bytes.length));
  const signatureObject = appended.slice(appended.indexOf('6 0 obj\n')).split('endobj\n')[0];
  const byteRangeText = `[0 ${a} ${b} ${c}`;
  assert.equal(
    signatureObject,
    '6 0 obj\n<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /adbe.pkcs7.detached ' +
      "/M (D:20240915093000+07'00') /Reason (e-meterai 0A1B2C3D4E5F6G7H8J9K0L) " +
      `/ByteRange ${byteRangeText}${' '.repeat(35 - byteRangeText.length)}] /Contents <0000000000000000>>>\n`,
  );
  fillSignature(result, new Uint8Array([0x30, 0x82, 0xab]));
  assert.equal(latin1(result.bytes.subarray(a, b)), '<3082AB0000000000>');
  fillSignature(result, new Uint8Array([0xff]));
  assert.equal(
    latin1(result.bytes.subarray(a, b)),
    '<FF00000000000000>',
    'a second fill leaves no stale digits',
  );
  assert.throws(
    () => fillSignature(result, new Uint8Array(9)),
    /9 bytes of CMS do not fit in 8 reserved bytes/,
  );
  assertPrefix(bytes, result.bytes);
});

test('appendedOnly: the same bytes after the base, offsets within the file, and the fill lands in place', () => {
  for (const withEol of [true, false]) {
    const { bytes: baseBytes, base } = classicFile(withEol);
    const whole = new IncrementalUpdate(base, { fileIdentifier: newId });
    addSignatureField(whole, 8);
    const wholeResult = whole.build();
    const part = new IncrementalUpdate(base, { fileIdentifier: newId });
    addSignatureField(part, 8);
    const partResult = part.build({ appendedOnly: true });
    assert.equal(wholeResult.bytesStart, 0);
    assert.equal(partResult.bytesStart, baseBytes.length);
    assert.deepEqual(partResult.bytes, wholeResult.bytes.subarray(baseBytes.length));
    assert.equal(partResult.bytes.length, partResult.addedBytes);
    const opening = withEol ? '1 0 obj\n' : '\n1 0 obj\n';
    assert.equal(latin1(partResult.bytes.subarray(0, opening.length)), opening, 'an added EOL is appended');
    assert.deepEqual(partResult.byteRange, wholeResult.byteRange);
    assert.equal(partResult.contentsOffset, wholeResult.contentsOffset);
    assert.equal(partResult.startxref, wholeResult.startxref);
    const cms = new Uint8Array([0x30, 0x82, 0xab, 0x01]);
    fillSignature(wholeResult, cms);
    fillSignature(partResult, cms);
    assert.deepEqual(partResult.bytes, wholeResult.bytes.subarray(baseBytes.length));
    const [, a, b] = partResult.byteRange!;
    const start = partResult.bytesStart;
    assert.equal(latin1(partResult.bytes.subarray(a - start, b - start)), '<3082AB0100000000>');
  }
});

test('signature: a real detached CMS over the /ByteRange verifies with pdfsig; qpdf finds no fault', (t) => {
  const missing = missingTool('openssl', 'pdfsig', 'qpdf');
  if (missing) return t.skip(missing);
  const { bytes, base } = classicFileWithPrev();
  const update = new IncrementalUpdate(base, { fileIdentifier: newId });
  addSignatureField(update, 8192);
  const result = update.build();
  const [, a, b, c] = result.byteRange!;
  const signed = Buffer.concat([result.bytes.subarray(0, a), result.bytes.subarray(b, b + c)]);
  const dataPath = join(workDirectory, 'signed-range.bin');
  writeFileSync(dataPath, signed);
  const key = join(workDirectory, 'key.pem');
  const certificate = join(workDirectory, 'certificate.pem');
  const keyArgs = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key];
  const made = run('openssl', [
    'req',
    '-x509',
    ...keyArgs,
    '-out',
    certificate,
    '-subj',
    '/CN=bubuh test',
    '-days',
    '2',
  ]);
  assert.equal(made.status, 0, made.output);
  const cmsPath = join(workDirectory, 'signature.der');
  const cmsArgs = ['cms', '-sign', '-binary', '-md', 'sha256', '-in', dataPath, '-signer', certificate];
  const signedCms = run('openssl', [...cmsArgs, '-inkey', key, '-outform', 'DER', '-out', cmsPath]);
  assert.equal(signedCms.status, 0, signedCms.output);
  fillSignature(result, new Uint8Array(readFileSync(cmsPath)));
  assertPrefix(bytes, result.bytes);
  const path = saveTemporary(result.bytes, 'signed');
  assertQpdfClean(path);
  const verified = run('pdfsig', [path]);
  assert.match(verified.output, /Signature Validation: Signature is Valid\./, verified.output);
  assert.match(verified.output, /- Total document signed/, verified.output);
});

// ---------------------------------------------------------------------------------------------
// Independent tools on hand-built files.
// ---------------------------------------------------------------------------------------------

test('classic base: qpdf --check clean, mutool reads the new trailer and annotation', (t) => {
  const { bytes, base } = classicFile();
  const update = new IncrementalUpdate(base, { fileIdentifier: newId });
  annotate(update);
  const checked = checkWithTools(t, bytes, update.build());
  if (!checked) return;
  assert.match(checked.trailer, new RegExp(`/Prev ${base.startxref}\\b`));
  assert.match(checked.trailer, /\/Size 7\b/);
  assert.match(checked.info, /Pages: 1/);
  const annotation = run('mutool', ['show', checked.path, 'trailer/Root/Pages/Kids/1/Annots/1/Subtype']);
  assert.match(annotation.output, /\/Square/);
});

test('base with a /Prev chain, then two of our updates in a row: every revision stays a prefix', (t) => {
  const { bytes, base } = classicFileWithPrev();
  const first = new IncrementalUpdate(base, { fileIdentifier: newId });
  annotate(first);
  const firstResult = first.build();
  const secondBase: AppendBase = {
    bytes: firstResult.bytes,
    startxref: firstResult.startxref,
    xrefKind: 'table',
    trailer: baseTrailer(firstResult.size),
    size: firstResult.size,
    security: null,
  };
  const second = new IncrementalUpdate(secondBase, { fileIdentifier: newId });
  const note = second.allocate();
  assert.deepEqual([note.objectNumber, note.generation], [7, 0]);
  second.set(
    note,
    dict({ Type: name('Annot'), Subtype: name('Text'), Rect: [100, 100, 120, 120], P: ref(3) }),
  );
  second.set(ref(3), page([ref(6), note]));
  const secondResult = second.build();
  assertPrefix(bytes, secondResult.bytes);
  const checked = checkWithTools(t, firstResult.bytes, secondResult);
  if (!checked) return;
  assert.match(checked.trailer, new RegExp(`/Prev ${firstResult.startxref}\\b`));
  const xref = run('qpdf', ['--show-xref', checked.path]);
  assert.match(xref.output, /^6\/0: uncompressed; offset = \d+$/m);
  assert.match(xref.output, /^7\/0: uncompressed; offset = \d+$/m);
  const annotations = run('mutool', ['show', checked.path, 'trailer/Root/Pages/Kids/1/Annots']);
  assert.match(annotations.output, /\[ *6 0 R 7 0 R *\]/);
});

test('xref-stream base: qpdf --check clean, mutool reads the new xref stream as the trailer', (t) => {
  const { bytes, base } = xrefStreamFile();
  const update = new IncrementalUpdate(base, { fileIdentifier: newId, compressXrefStream: true });
  annotate(update);
  addSignatureField(update, 64);
  const result = update.build();
  fillSignature(result, new Uint8Array(64).fill(0x5a));
  const checked = checkWithTools(t, bytes, result);
  if (!checked) return;
  assert.match(checked.trailer, /\/Type \/XRef/);
  assert.match(checked.trailer, new RegExp(`/Prev ${base.startxref}\\b`));
  assert.match(checked.trailer, /\/Size 11\b/);
});

test('a file with leading garbage whose offsets count from %PDF-: the update counts the same way', (t) => {
  const garbage = 'GARBAGE\n';
  const { bytes: clean, base: cleanBase } = classicFile();
  const bytes = new Uint8Array([...bytesOf(garbage), ...clean]);
  const base: AppendBase = { ...cleanBase, bytes, offsetBase: garbage.length };
  const update = new IncrementalUpdate(base, { fileIdentifier: newId });
  update.set(ref(5), dict({ Producer: PdfString.fromLatin1('x') }));
  const result = update.build();
  const relative = bytes.length - garbage.length;
  assert.match(
    latin1(result.bytes),
    new RegExp(`xref\\n5 1\\n${String(relative).padStart(10, '0')} 00000 n \\n`),
  );
  assert.equal(result.startxref, latin1(result.bytes).lastIndexOf('\nxref\n') + 1 - garbage.length);
  assert.ok(latin1(result.bytes).endsWith(`startxref\n${result.startxref}\n%%EOF\n`));
  if (!checkWithTools(t, bytes, result)) return;
  const absolute = new IncrementalUpdate({ ...base, offsetBase: 0 }, { fileIdentifier: newId });
  absolute.set(ref(5), dict({ Producer: PdfString.fromLatin1('x') }));
  const wrong = run('qpdf', ['--check', saveTemporary(absolute.build().bytes, 'absolute')]);
  assert.match(wrong.output, /WARNING/, 'counting from byte 0 here is detectably wrong');
});

test('flateStream compresses at level 6 with zlib framing and names the filter', (t) => {
  const data = bytesOf('q 1 0 0 1 10 10 cm 0 g BT /F1 8 Tf (METERAI ELEKTRONIK) Tj ET Q\n'.repeat(40));
  const stream = flateStream(
    dict({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 70, 70] }),
    data,
  );
  assert.deepEqual(unzlibSync(stream.raw), data);
  assert.equal(stream.raw[0], 0x78, 'zlib header, as /FlateDecode requires');
  assert.ok(stream.dict.get('Filter') === name('FlateDecode'));
  assert.throws(() => flateStream(dict({ Filter: name('ASCIIHexDecode') }), data), /already names a filter/);
  const { bytes, base } = classicFile();
  const update = new IncrementalUpdate(base, { fileIdentifier: newId });
  const form = update.allocate();
  update.set(form, stream);
  checkWithTools(t, bytes, update.build());
});

// ---------------------------------------------------------------------------------------------
// Encryption.
// ---------------------------------------------------------------------------------------------

/** A fake handler: strings XOR 0x20 ^ object number; streams XOR 0x55 with a 2-byte prefix (like an IV). */
function xorHandler(encryptMetadata = true): SecurityHandler {
  const xor = (bytes: Uint8Array, key: number): Uint8Array => bytes.map((byte) => byte ^ key);
  return {
    version: 4,
    revision: 4,
    method: 'AESV2',
    permissions: -4,
    ownerAuthenticated: false,
    encryptMetadata,
    decryptString: (objectNumber, _generation, bytes) => xor(bytes, 0x20 ^ objectNumber),
    decryptStream: (_objectNumber, _generation, bytes) => xor(bytes.subarray(2), 0x55),
    encryptString: (objectNumber, _generation, bytes) => xor(bytes, 0x20 ^ objectNumber),
    encryptStream: (objectNumber, generation, bytes) =>
      new Uint8Array([objectNumber, generation, ...xor(bytes, 0x55)]),
  };
}

test('encrypted base: strings and streams of new objects are encrypted, /Contents, /ID and the xref are not', () => {
  const { bytes, base } = classicFile();
  const encryptRef = new PdfRef(99, 0);
  const encrypted: AppendBase = {
    ...base,
    security: xorHandler(),
    trailer: baseTrailer(6, { Encrypt: encryptRef }),
  };
  const update = new IncrementalUpdate(encrypted, { fileIdentifier: newId });
  const form = update.allocate(); // 6
  update.set(form, new PdfStream(dict({ Name: PdfString.fromLatin1('AB') }), bytesOf('xyz')));
  addSignatureField(update, 4); // signature 7, widget 8, page 3, catalog 1
  const result = update.build();
  const text = latin1(result.bytes.subarray(bytes.length));
  const xor = (value: string, key: number): string =>
    [...value].map((char) => String.fromCharCode(char.charCodeAt(0) ^ key)).join('');
  const literal = (value: string, key: number): string =>
    latin1(serializeObject(PdfString.fromLatin1(xor(value, key))));
  // Object 6: the dictionary's string with key 0x26 and the stream data XOR 0x55 behind the prefix [6, 0].
  assert.ok(
    text.includes(
      `6 0 obj\n<</Name ${literal('AB', 0x26)} /Length 5>>\nstream\r\n\x06\x00${xor('xyz', 0x55)}\r\nendstream`,
    ),
  );
  // Object 7, the signature: /M and /Reason encrypted with key 0x27, /Contents left as placeholder digits.
  const signature = `/M ${literal("D:20240915093000+07'00'", 0x27)} /Reason ${literal('e-meterai 0A1B2C3D4E5F6G7H8J9K0L', 0x27)}`;
  assert.ok(text.includes(`${signature} /ByteRange [0 `), 'the signature strings are encrypted');
  assert.equal(
    latin1(result.bytes.subarray(result.contentsOffset, result.contentsOffset + 10)),
    '<00000000>',
  );
  // Object 8, the widget: /T with key 0x28.
  assert.ok(text.includes(`/T ${literal('meterai-1', 0x28)}`));
  // The trailer keeps /Encrypt and writes /ID in clear.
  assert.ok(
    text.includes(
      `/ID [<${originalId}> <FEDCBA9876543210FEDCBA9876543210>] /Encrypt 99 0 R /Prev ${base.startxref}>>`,
    ),
  );
});

test('encrypted base: the xref stream stays in clear and metadata stays clear when /EncryptMetadata is false', () => {
  const { base } = xrefStreamFile();
  const encryptRef = new PdfRef(99, 0);
  const trailer = baseTrailer(7, { Encrypt: encryptRef });
  const update = new IncrementalUpdate(
    { ...base, trailer, security: xorHandler(false) },
    { fileIdentifier: newId },
  );
  const metadata = update.allocate(); // 7
  update.set(
    metadata,
    new PdfStream(dict({ Type: name('Metadata'), Subtype: name('XML') }), bytesOf('<x/>')),
  );
  const result = update.build();
  const text = latin1(result.bytes.subarray(base.bytes.length));
  assert.ok(
    text.includes('7 0 obj\n<</Type /Metadata /Subtype /XML /Length 4>>\nstream\r\n<x/>\r\nendstream'),
  );
  assert.ok(text.includes('/Encrypt 99 0 R /Index [7 2] /W [1 2 1]'));
  const section = latin1(result.bytes.subarray(result.startxref));
  const rows = section.slice(section.indexOf('stream\r\n') + 8, section.indexOf('\r\nendstream'));
  const row = (offset: number): string => String.fromCharCode(1, (offset >> 8) & 255, offset & 255, 0);
  assert.equal(rows, row(base.bytes.length) + row(result.startxref));
});

test('an encrypted base without /ID keeps having none (its key was derived without one)', () => {
  const { base } = classicFile();
  const trailer = dict({ Size: 6, Root: ref(1), Encrypt: new PdfRef(99, 0) });
  const update = new IncrementalUpdate(
    { ...base, trailer, security: xorHandler() },
    { fileIdentifier: newId },
  );
  update.set(ref(5), new PdfDict());
  assert.match(
    latin1(update.build().bytes),
    /trailer\n<<\/Size 6 \/Root 1 0 R \/Encrypt 99 0 R \/Prev \d+>>/,
  );
});

test('a clear base without /ID gets [new new]', () => {
  const { base } = classicFile();
  const update = new IncrementalUpdate(
    { ...base, trailer: dict({ Size: 6, Root: ref(1) }) },
    { fileIdentifier: newId },
  );
  update.set(ref(5), new PdfDict());
  const id = 'FEDCBA9876543210FEDCBA9876543210';
  assert.ok(latin1(update.build().bytes).includes(`/ID [<${id}> <${id}>]`));
});

// ---------------------------------------------------------------------------------------------
// Programmer errors.
// ---------------------------------------------------------------------------------------------

test('refuses objects outside the base and the allocation, two generations, two signatures', () => {
  const { base } = classicFile();
  const update = new IncrementalUpdate(base, { fileIdentifier: newId });
  assert.throws(() => update.set(ref(6), null), /neither in the base nor allocated/);
  assert.throws(() => update.set(ref(0), null), /neither in the base nor allocated/);
  update.set(ref(5), new PdfDict());
  assert.throws(() => update.set(new PdfRef(5, 1), new PdfDict()), /two generations/);
  const signature = update.allocate();
  assert.throws(() => update.addSignature(signature, dict({ Contents: null }), 10), /adds \/ByteRange/);
  assert.throws(() => update.addSignature(signature, new PdfDict(), 0), /contentsBytes 0/);
  update.addSignature(signature, new PdfDict(), 10);
  assert.throws(() => update.addSignature(update.allocate(), new PdfDict(), 10), /one signature/);
  assert.throws(() => update.set(signature, null), /is the signature/);
  assert.throws(() => new IncrementalUpdate(base, { fileIdentifier: new Uint8Array(8) }), /16 bytes/);
  assert.throws(() => new IncrementalUpdate({ ...base, startxref: base.bytes.length }), /outside the file/);
  assert.throws(() => new IncrementalUpdate({ ...base, trailer: new PdfDict() }), /no \/Root/);
  const unsigned = new IncrementalUpdate(base);
  unsigned.set(ref(5), null);
  assert.throws(() => fillSignature(unsigned.build(), new Uint8Array(1)), /no signature/);
});

test('an update with no objects is refused (a classic section needs a subsection)', () => {
  const { base } = classicFile();
  assert.throws(() => new IncrementalUpdate(base).build(), /no objects/);
});

// ---------------------------------------------------------------------------------------------
// Corpus files, read with a tiny ad-hoc parse (qpdf's JSON) since the real reader lives elsewhere.
// ---------------------------------------------------------------------------------------------

function fromQpdfJson(value: unknown): PdfObject {
  if (value === null || typeof value === 'boolean' || typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (value.startsWith('/')) return name(value.slice(1));
    const reference = /^(\d+) (\d+) R$/.exec(value);
    if (reference) return new PdfRef(Number(reference[1]), Number(reference[2]));
    if (value.startsWith('b:')) return hexString(value.slice(2));
    if (value.startsWith('u:')) return new PdfString(new Uint8Array(Buffer.from(value.slice(2), 'utf8')));
    throw new Error(`unexpected qpdf JSON value ${value}`);
  }
  if (Array.isArray(value)) return value.map(fromQpdfJson);
  const entries = new Map<string, PdfObject>();
  for (const [key, item] of Object.entries(value as Record<string, unknown>))
    entries.set(key.slice(1), fromQpdfJson(item));
  return new PdfDict(entries);
}

/** The AppendBase and first page (reference and dictionary) of a file, from qpdf and a regex. */
function corpusBase(path: string, bytes: Uint8Array): { base: AppendBase; pageRef: PdfRef; page: PdfDict } {
  const json = JSON.parse(run('qpdf', ['--json=2', '--json-key=qpdf', path]).output);
  const objects = json.qpdf[1] as Record<string, { value?: unknown }>;
  const trailer = fromQpdfJson(objects['trailer']!.value) as PdfDict;
  const text = latin1(bytes);
  const startxref = Number([...text.matchAll(/startxref\s+(\d+)/g)].at(-1)![1]);
  const xrefKind = text.startsWith('xref', startxref) ? 'table' : 'stream';
  const pageKey = Object.keys(objects).find((key) => {
    const value = objects[key]!.value as Record<string, unknown> | undefined;
    return value?.['/Type'] === '/Page';
  })!;
  const pageRef = fromQpdfJson(pageKey.slice(4)) as PdfRef;
  const page = fromQpdfJson(objects[pageKey]!.value) as PdfDict;
  const size = trailer.get('Size') as number;
  return { base: { bytes, startxref, xrefKind, trailer, size, security: null }, pageRef, page };
}

for (const [file, kind] of [
  ['a07_pernyataan_mutool_create.pdf', 'table'],
  ['a10_pernyataan_gs_objstm.pdf', 'stream'],
  ['a14_pernyataan_incremental_update.pdf', 'table'],
  ['a15_lamaran_hybrid_xref.pdf', 'table'],
] as const) {
  test(`corpus ${file}: a signed-looking update appended after its ${kind} section passes qpdf --check`, (t) => {
    const directory = corpusDirectory();
    if (directory === null) return t.skip(corpusSkipReason);
    const missing = missingTool('qpdf', 'mutool');
    if (missing) return t.skip(missing);
    const bytes = readCorpusFile(directory, file);
    const { base, pageRef, page } = corpusBase(join(directory, file), bytes);
    assert.equal(base.xrefKind, kind);
    const update = new IncrementalUpdate(base, { fileIdentifier: newId });
    const annotation = update.allocate();
    update.set(
      annotation,
      dict({ Type: name('Annot'), Subtype: name('Square'), Rect: [10, 10, 80, 80], P: pageRef }),
    );
    const annots = page.get('Annots');
    const replaced = page.clone().set('Annots', [...(Array.isArray(annots) ? annots : []), annotation]);
    update.set(pageRef, replaced);
    const result = update.build();
    const checked = checkWithTools(t, bytes, result);
    if (!checked) return;
    assert.match(checked.trailer, new RegExp(`/Prev ${base.startxref}\\b`));
    const shown = run('mutool', ['show', checked.path, `${pageRef.objectNumber}`]);
    assert.match(shown.output, new RegExp(`/Annots \\[[^\\]]*\\b${annotation.objectNumber} 0 R`));
  });
}
