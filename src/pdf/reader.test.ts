import assert from 'node:assert/strict';
import { test } from 'node:test';
import { zlibSync } from 'fflate';
import { BubuhError } from '../errors.js';
import { buildPdf, concatBytes, latin1Bytes, minimalPdf, streamBody } from './fixture-builder.js';
import { nodeInflateRaw } from './inflate-node.js';
import type { PdfObject } from './objects.js';
import { PdfDict, PdfName, PdfRef, PdfStream, type PdfString } from './objects.js';
import type { OpenPdfOptions } from './reader.js';
import { openPdf } from './reader.js';
import type { SecurityHandler } from './security.js';

function rejectsWith(code: string, run: () => unknown, detail?: Record<string, unknown>): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof BubuhError, `expected BubuhError, got ${String(error)}`);
    assert.equal(error.code, code);
    for (const [key, value] of Object.entries(detail ?? {})) assert.equal(error.details[key], value);
    return true;
  });
}

const text = (bytes: Uint8Array): string => new TextDecoder('latin1').decode(bytes);

const letterObjects = [
  { number: 1, body: '<< /Type /Catalog /Pages 2 0 R >>' },
  { number: 2, body: '<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595 842] >>' },
  { number: 3, body: '<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Annots [5 0 R] >>' },
  { number: 4, body: streamBody('', latin1Bytes('BT ET')) },
  { number: 5, body: '<< /Type /Annot /Subtype /Text /Rect [0 0 10 10] /Contents (note) >>' },
];

test('classic table: header, version, trailer, catalog, page, spans', () => {
  const bytes = minimalPdf();
  const document = openPdf(bytes);
  assert.equal(document.version, '1.4');
  assert.equal(document.headerOffset, 0);
  assert.equal(document.xrefKind, 'table');
  assert.equal(document.size, 5);
  assert.equal(document.recovered, false);
  assert.deepEqual(document.warnings, []);
  assert.equal(document.trailer.get('Size'), 5);
  assert.ok(isName(document.catalog.get('Type'), 'Catalog'));
  assert.equal(document.startxref, text(bytes).lastIndexOf('xref\n0 5'));
  const page = document.getPage(1);
  assert.equal(page.ref.key, '3 0');
  assert.deepEqual(page.mediaBox, [0, 0, 612, 792]);
  assert.equal(document.pageCount(), 1);
  const span = document.objectSpan(3)!;
  assert.equal(text(bytes.subarray(span.start, span.end)).slice(0, 8), '3 0 obj\n');
  assert.ok(text(bytes.subarray(span.start, span.end)).endsWith('endobj'));
  assert.equal(document.objectSpan(99), null);
  assert.equal(document.getObject(new PdfRef(99, 0)), null);
});

function isName(value: PdfObject | undefined, expected: string): boolean {
  return value instanceof PdfName && value.value === expected;
}

test('19-byte and 21-byte xref entries are read by the line parser', () => {
  for (const entryEnding of ['\n', ' \r\n']) {
    const document = openPdf(buildPdf({ objects: letterObjects, trailer: '/Root 1 0 R', entryEnding }));
    assert.equal(document.getPage('last').ref.key, '3 0');
    assert.deepEqual(document.getPage(1).mediaBox, [0, 0, 595, 842]);
  }
});

test('xref stream with PNG Up predictor, object streams, and stream trailer', () => {
  const bytes = buildPdf({
    version: '1.5',
    objects: letterObjects.slice(2, 4),
    compressed: [letterObjects[0]!, letterObjects[1]!, letterObjects[4]!],
    objectStreamNumber: 6,
    xref: 'stream',
    predictor: true,
    trailer: '/Root 1 0 R /ID [<0102> <0304>]',
  });
  const document = openPdf(bytes);
  assert.equal(document.xrefKind, 'stream');
  assert.equal(document.size, 8);
  assert.equal(document.pageCount(), 1);
  const annotation = document.getObject(new PdfRef(5, 0)) as PdfDict;
  assert.deepEqual([...(annotation.get('Contents') as PdfString).bytes], [...latin1Bytes('note')]);
  assert.equal(document.objectSpan(5), null, 'objects in object streams have no span of their own');
  assert.deepEqual([...(document.trailer.get('ID') as PdfString[])[1]!.bytes], [3, 4]);
  assert.equal(document.trailer.has('Prev'), false);
});

test('hybrid-reference file: objects hidden in /XRefStm are found, table-free entries are not trusted', () => {
  const bytes = buildPdf({
    version: '1.5',
    objects: [letterObjects[0]!, letterObjects[2]!, letterObjects[3]!],
    compressed: [letterObjects[1]!, letterObjects[4]!],
    objectStreamNumber: 6,
    xref: 'hybrid',
    trailer: '/Root 1 0 R',
  });
  const document = openPdf(bytes);
  assert.equal(document.xrefKind, 'table');
  assert.deepEqual(document.getPage(1).mediaBox, [0, 0, 595, 842]);
  assert.ok(document.getObject(new PdfRef(5, 0)) instanceof PdfDict);
});

test('incremental updates: newest entry wins, a freed object is gone, /Prev chain followed', () => {
  const base = buildPdf({ objects: letterObjects, trailer: '/Root 1 0 R /Info 9 0 R' });
  const update = buildPdf({
    base,
    objects: [
      { number: 2, body: '<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 300 400] /Rotate -90 >>' },
    ],
    trailer: '/Root 1 0 R',
  });
  const document = openPdf(update);
  assert.deepEqual(document.getPage(1).mediaBox, [0, 0, 300, 400]);
  assert.equal(document.getPage(1).rotate, 270);
  assert.deepEqual((document.trailer.get('Info') as PdfRef).key, '9 0', '/Info comes from the older trailer');
  assert.equal(document.startxref, text(update).lastIndexOf('\nxref\n') + 1);

  const stream = buildPdf({
    base,
    objects: [{ number: 6, body: '(added)' }],
    xref: 'stream',
    trailer: '/Root 1 0 R',
  });
  const mixed = openPdf(stream);
  assert.equal(mixed.xrefKind, 'stream');
  assert.deepEqual([...(mixed.getObject(new PdfRef(6, 0)) as PdfString).bytes], [...latin1Bytes('added')]);
  assert.equal(mixed.getPage('last').pageNumber, 1);
});

test('a free entry in a newer section deletes the object', () => {
  const base = buildPdf({ objects: letterObjects, trailer: '/Root 1 0 R' });
  const startxref = text(base).lastIndexOf('\nxref\n') + 1;
  const tail = `xref\n5 1\n0000000000 00001 f\r\ntrailer\n<< /Size 6 /Root 1 0 R /Prev ${startxref} >>\nstartxref\n${base.length}\n%%EOF\n`;
  const document = openPdf(concatBytes([base, latin1Bytes(tail)]));
  assert.equal(document.getObject(new PdfRef(5, 0)), null);
  assert.ok(document.getObject(new PdfRef(4, 0)) instanceof PdfStream);
  assert.deepEqual(document.warnings, []);
});

test('a /Prev chain that loops is cut with a warning', () => {
  const base = buildPdf({ objects: letterObjects, trailer: '/Root 1 0 R' });
  const selfPrev = concatBytes([
    base,
    latin1Bytes(
      `xref\n0 0\ntrailer\n<< /Size 6 /Root 1 0 R /Prev ${base.length} >>\nstartxref\n${base.length}\n%%EOF\n`,
    ),
  ]);
  const document = openPdf(selfPrev);
  assert.equal(document.pageCount(), 1);
  assert.match(document.warnings[0]!, /loops back/);
});

test('leading garbage before %PDF shifts every offset', () => {
  const bytes = minimalPdf('/MediaBox [0 0 612 792]', { prefix: 'JUNK'.repeat(50) });
  const document = openPdf(bytes);
  assert.equal(document.headerOffset, 200);
  assert.equal(document.offsetBase, 200);
  assert.equal(document.recovered, false);
  assert.equal(document.getPage(1).ref.key, '3 0');
  assert.equal(
    text(bytes).slice(document.objectSpan(1)!.start, document.objectSpan(1)!.start + 7),
    '1 0 obj',
  );
});

test('wrong xref offsets: the index is rebuilt by a scan and the document says so', () => {
  const bytes = minimalPdf();
  const shifted = text(bytes).replace(
    /(\d{10}) 00000 n/g,
    (_, offset: string) => `${String(Number(offset) + 7).padStart(10, '0')} 00000 n`,
  );
  const document = openPdf(latin1Bytes(shifted));
  assert.equal(document.recovered, true);
  assert.match(document.warnings[0]!, /rebuilt the object index/);
  assert.equal(document.getPage(1).ref.key, '3 0');
  const span = document.objectSpan(3)!;
  assert.equal(shifted.slice(span.start, span.start + 7), '3 0 obj');
});

test('an unreadable xref section falls back to a scan that finds the trailer', () => {
  const bytes = minimalPdf();
  const broken = text(bytes).replace(
    /startxref\n\d+/,
    `startxref\n${String(5).padStart(String(bytes.length).length, '0')}`,
  );
  const document = openPdf(latin1Bytes(broken));
  assert.equal(document.recovered, true);
  assert.equal(document.pageCount(), 1);
});

test('refusals: empty, not a PDF, PNG, bad version, truncated', () => {
  rejectsWith('PDF_EMPTY', () => openPdf(new Uint8Array(0)));
  rejectsWith('PDF_NOT_PDF', () => openPdf(latin1Bytes('hello world')));
  rejectsWith('PDF_NOT_PDF', () =>
    openPdf(Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  );
  rejectsWith('PDF_NOT_PDF', () => openPdf(latin1Bytes('%PDF-x.y\n')));
  rejectsWith('PDF_NOT_PDF', () => openPdf(latin1Bytes(`${' '.repeat(1030)}%PDF-1.4\n`)));
  const bytes = minimalPdf();
  rejectsWith('PDF_DAMAGED', () => openPdf(bytes.subarray(0, Math.floor(bytes.length * 0.6))));
  rejectsWith('PDF_DAMAGED', () => openPdf(latin1Bytes(text(bytes).replace('%%EOF', '%%EOX'))));
});

test('encrypted file without a handler is refused with PDF_ENCRYPTED_UNSUPPORTED', () => {
  const bytes = buildPdf({
    objects: [
      ...letterObjects,
      { number: 6, body: '<< /Filter /Standard /V 4 /R 4 /O <00> /U <00> /P -4 >>' },
    ],
    trailer: '/Root 1 0 R /Encrypt 6 0 R /ID [<AABB> <AABB>]',
  });
  rejectsWith('PDF_ENCRYPTED_UNSUPPORTED', () => openPdf(bytes));
});

/** A fake handler: XOR with the object number, enough to prove which bytes go through decryption. */
function xorHandler(calls: string[]): SecurityHandler {
  const xor = (objectNumber: number, bytes: Uint8Array) => bytes.map((byte) => byte ^ objectNumber);
  return {
    version: 4,
    revision: 4,
    method: 'AESV2',
    permissions: -4,
    ownerAuthenticated: false,
    encryptMetadata: true,
    decryptString: (objectNumber, generation, bytes) => {
      calls.push(`string ${objectNumber} ${generation}`);
      return xor(objectNumber, bytes);
    },
    decryptStream: (objectNumber, generation, bytes) => {
      calls.push(`stream ${objectNumber} ${generation}`);
      return xor(objectNumber, bytes);
    },
    encryptString: (objectNumber, _generation, bytes) => xor(objectNumber, bytes),
    encryptStream: (objectNumber, _generation, bytes) => xor(objectNumber, bytes),
  };
}

const xorText = (objectNumber: number, value: string): string =>
  [...value].map((character) => String.fromCharCode(character.charCodeAt(0) ^ objectNumber)).join('');

test('decryption plumbing: strings and streams of loaded objects, not /Encrypt, not signature /Contents', () => {
  const hex = (value: string) =>
    [...value].map((character) => character.charCodeAt(0).toString(16).padStart(2, '0')).join('');
  const bytes = buildPdf({
    objects: [
      { number: 1, body: '<< /Type /Catalog /Pages 2 0 R >>' },
      { number: 2, body: '<< /Type /Pages /Kids [3 0 R] /Count 1 >>' },
      {
        number: 3,
        body: `<< /Type /Page /MediaBox [0 0 10 10] /T <${hex(xorText(3, 'Halo'))}> /A [<${hex(xorText(3, 'x'))}>] >>`,
      },
      { number: 4, body: streamBody('', latin1Bytes(xorText(4, 'q Q'))) },
      { number: 5, body: '<< /Type /Sig /Contents <3082> /Name <41> /ByteRange [0 1 2 3] >>' },
      { number: 6, body: '<< /Filter /Standard /V 4 /R 4 /O (owner) /P -4 >>' },
    ],
    trailer: '/Root 1 0 R /Encrypt 6 0 R /ID [<AABB> <CCDD>]',
  });
  const calls: string[] = [];
  let received: { encrypt: PdfDict; firstId: number[]; password: string | undefined } | undefined;
  const options: OpenPdfOptions = {
    password: 'rahasia',
    openSecurityHandler: (encrypt, firstId, password) => {
      received = { encrypt, firstId: [...firstId], password };
      return xorHandler(calls);
    },
  };
  const document = openPdf(bytes, options);
  assert.ok(received !== undefined);
  assert.deepEqual(received.firstId, [0xaa, 0xbb]);
  assert.equal(received.password, 'rahasia');
  assert.deepEqual([...(received.encrypt.get('O') as PdfString).bytes], [...latin1Bytes('owner')]);
  assert.ok(document.security !== null);
  const page = document.getPage(1);
  assert.deepEqual([...(page.dict.get('T') as PdfString).bytes], [...latin1Bytes('Halo')]);
  assert.equal((page.dict.get('T') as PdfString).hex, true);
  assert.deepEqual([...((page.dict.get('A') as PdfObject[])[0] as PdfString).bytes], [...latin1Bytes('x')]);
  const content = document.getObject(new PdfRef(4, 0)) as PdfStream;
  assert.deepEqual([...content.raw], [...latin1Bytes('q Q')]);
  const signature = document.getObject(new PdfRef(5, 0)) as PdfDict;
  assert.deepEqual([...(signature.get('Contents') as PdfString).bytes], [0x30, 0x82]);
  assert.deepEqual([...(signature.get('Name') as PdfString).bytes], [0x41 ^ 5]);
  assert.deepEqual(calls.sort(), ['stream 4 0', 'string 3 0', 'string 3 0', 'string 5 0']);
});

for (const [inflaterName, inflate] of [
  ['fflate', undefined],
  ['node zlib', nodeInflateRaw],
] as const) {
  test(`decodeStream (${inflaterName}): FlateDecode, unsupported filters, bounded output, a bomb`, () => {
    const options = inflate === undefined ? {} : { inflate };
    const data = latin1Bytes('0 0 m 10 10 l S\n'.repeat(100));
    const bytes = buildPdf({
      objects: [
        ...letterObjects.slice(0, 3),
        { number: 4, body: streamBody('/Filter /FlateDecode', zlibSync(data)) },
        { number: 6, body: streamBody('/Filter /DCTDecode', latin1Bytes('jpeg')) },
        { number: 7, body: streamBody('/Filter [/FlateDecode]', zlibSync(new Uint8Array(5000))) },
        {
          number: 8,
          body: streamBody('/Filter /FlateDecode', zlibSync(new Uint8Array(16 * 1024 * 1024), { level: 9 })),
        },
      ],
      trailer: '/Root 1 0 R',
    });
    const document = openPdf(bytes, { ...options, limits: { streamDecodedBytesMax: 4999 } });
    const content = document.getObject(new PdfRef(4, 0)) as PdfStream;
    assert.deepEqual(document.decodeStream(content), data);
    rejectsWith(
      'PDF_FILTER_UNSUPPORTED',
      () => document.decodeStream(document.getObject(new PdfRef(6, 0)) as PdfStream),
      {
        filter: 'DCTDecode',
      },
    );
    rejectsWith(
      'PDF_STREAM_TOO_LARGE',
      () => document.decodeStream(document.getObject(new PdfRef(7, 0)) as PdfStream),
      {
        limit: 4999,
      },
    );
    const atLimit = openPdf(bytes, { ...options, limits: { streamDecodedBytesMax: 5000 } });
    assert.equal(atLimit.decodeStream(atLimit.getObject(new PdfRef(7, 0)) as PdfStream).length, 5000);
    const totalLimited = openPdf(bytes, { ...options, limits: { totalDecodedBytesMax: 6000 } });
    totalLimited.decodeStream(totalLimited.getObject(new PdfRef(7, 0)) as PdfStream);
    rejectsWith('PDF_DECODED_TOTAL_TOO_LARGE', () =>
      totalLimited.decodeStream(totalLimited.getObject(new PdfRef(4, 0)) as PdfStream),
    );
    const bomb = openPdf(bytes, { ...options, limits: { streamDecodedBytesMax: 1024 * 1024 } });
    const started = performance.now();
    rejectsWith('PDF_STREAM_TOO_LARGE', () =>
      bomb.decodeStream(bomb.getObject(new PdfRef(8, 0)) as PdfStream),
    );
    assert.ok(performance.now() - started < 500, 'the bomb is stopped early, not inflated to the end');
  });
}

test('limits: input size, object count, page-tree depth and time, at and past the limit', () => {
  const bytes = minimalPdf();
  assert.equal(openPdf(bytes, { limits: { inputBytesMax: bytes.length } }).pageCount(), 1);
  rejectsWith('PDF_TOO_LARGE', () => openPdf(bytes, { limits: { inputBytesMax: bytes.length - 1 } }), {
    limit: bytes.length - 1,
    value: bytes.length,
  });
  assert.equal(openPdf(bytes, { limits: { objectsMax: 5 } }).pageCount(), 1);
  rejectsWith('PDF_TOO_MANY_OBJECTS', () => openPdf(bytes, { limits: { objectsMax: 4 } }));

  const deepTree = buildPdf({
    objects: [
      { number: 1, body: '<< /Type /Catalog /Pages 2 0 R >>' },
      { number: 2, body: '<< /Type /Pages /Kids [3 0 R] >>' },
      { number: 3, body: '<< /Type /Pages /Kids [4 0 R] /MediaBox [0 0 5 5] >>' },
      { number: 4, body: '<< /Type /Page >>' },
    ],
    trailer: '/Root 1 0 R',
  });
  assert.equal(openPdf(deepTree, { limits: { pageTreeDepthMax: 2 } }).pageCount(), 1);
  rejectsWith(
    'PDF_PAGE_TREE_TOO_DEEP',
    () => openPdf(deepTree, { limits: { pageTreeDepthMax: 1 } }).pageCount(),
    {
      limit: 1,
    },
  );
  assert.deepEqual(openPdf(deepTree).getPage(1).mediaBox, [0, 0, 5, 5]);
});

test('limits: pages are counted by walking the tree, never from /Count, and refused past pagesMax', () => {
  // Three pages in two levels; the root's /Count says 1.
  const threePages = buildPdf({
    objects: [
      { number: 1, body: '<< /Type /Catalog /Pages 2 0 R >>' },
      { number: 2, body: '<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 1 /MediaBox [0 0 5 5] >>' },
      { number: 3, body: '<< /Type /Page >>' },
      { number: 4, body: '<< /Type /Pages /Kids [5 0 R 6 0 R] >>' },
      { number: 5, body: '<< /Type /Page >>' },
      { number: 6, body: '<< /Type /Page /Rotate 90 >>' },
    ],
    trailer: '/Root 1 0 R',
  });
  assert.equal(openPdf(threePages, { limits: { pagesMax: 3 } }).pageCount(), 3);
  assert.equal(openPdf(threePages, { limits: { pagesMax: 3 } }).getPage('last').rotate, 90);
  rejectsWith('PDF_TOO_MANY_PAGES', () => openPdf(threePages, { limits: { pagesMax: 2 } }).pageCount(), {
    limit: 2,
  });
  rejectsWith('PDF_TOO_MANY_PAGES', () => openPdf(threePages, { limits: { pagesMax: 2 } }).getPage('last'), {
    limit: 2,
  });
  // Finding an early page walks only as far as that page.
  assert.equal(openPdf(threePages, { limits: { pagesMax: 2 } }).getPage(2).pageNumber, 2);
  // A page past the limit is refused for the limit, not as a page that does not exist.
  rejectsWith('PDF_TOO_MANY_PAGES', () => openPdf(threePages, { limits: { pagesMax: 2 } }).getPage(3), {
    limit: 2,
  });
  rejectsWith('PDF_PAGE_NOT_FOUND', () => openPdf(threePages, { limits: { pagesMax: 3 } }).getPage(4), {
    page: 4,
    pageCount: 3,
  });
});

test('time limit: a long scan is stopped with PDF_TIME_LIMIT', () => {
  const filler = latin1Bytes('1 0 obj\n'.repeat(400_000));
  const bytes = concatBytes([latin1Bytes('%PDF-1.4\n'), filler, latin1Bytes('startxref\n3\n%%EOF\n')]);
  rejectsWith('PDF_TIME_LIMIT', () => openPdf(bytes, { limits: { timeMsMax: 1 } }), { limitMs: 1 });
});

test('page tree: inheritance, rotation, CropBox clipped to MediaBox, last page, not found', () => {
  const bytes = buildPdf({
    objects: [
      { number: 1, body: '<< /Type /Catalog /Pages 2 0 R >>' },
      {
        number: 2,
        body: '<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 3 /MediaBox [612 792 0 0] /Rotate 450 /Resources << /Font << >> >> >>',
      },
      { number: 3, body: '<< /Type /Page /Parent 2 0 R >>' },
      { number: 4, body: '<< /Type /Pages /Kids [5 0 R] /Count 1 /CropBox [-10 10 300 900] >>' },
      { number: 5, body: '<< /Type /Page /Rotate -180 /Annots 6 0 R >>' },
      { number: 6, body: '[]' },
    ],
    trailer: '/Root 1 0 R',
  });
  const document = openPdf(bytes);
  const first = document.getPage(1);
  assert.deepEqual(first.mediaBox, [0, 0, 612, 792]);
  assert.deepEqual(first.cropBox, [0, 0, 612, 792]);
  assert.equal(first.rotate, 90);
  assert.ok(first.resources.has('Font'));
  assert.equal(first.annots, undefined);
  const last = document.getPage('last');
  assert.equal(last.pageNumber, 2);
  assert.equal(last.ref.key, '5 0');
  assert.deepEqual(last.cropBox, [0, 10, 300, 792]);
  assert.equal(last.rotate, 180);
  assert.equal((last.annots as PdfRef).key, '6 0');
  assert.equal(document.pageCount(), 2, '/Count 3 is not trusted');
  rejectsWith('PDF_PAGE_NOT_FOUND', () => document.getPage(3), { page: 3, pageCount: 2 });
  rejectsWith('PDF_PAGE_NOT_FOUND', () => document.getPage(0), { page: 0, pageCount: 2 });
});

test('page tree cycles are refused with PDF_PAGE_TREE_INVALID', () => {
  const bytes = buildPdf({
    objects: [
      { number: 1, body: '<< /Type /Catalog /Pages 2 0 R >>' },
      { number: 2, body: '<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 2 >>' },
      { number: 3, body: '<< /Type /Page /MediaBox [0 0 10 10] >>' },
    ],
    trailer: '/Root 1 0 R',
  });
  const document = openPdf(bytes);
  assert.equal(document.getPage(1).ref.key, '3 0', 'the first page is found before the cycle is reached');
  rejectsWith('PDF_PAGE_TREE_INVALID', () => document.getPage('last'));
});
