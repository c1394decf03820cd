/**
 * The proof that one stamp is right, on fixtures built in code: the original stays a byte prefix, the
 * /ByteRange covers everything but the signature, the CMS verifies (by node:crypto here, and by OpenSSL,
 * qpdf, poppler when they are installed), the added objects are exactly what a PAdES seal needs, and bad
 * requests are refused with their codes.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { BubuhError } from '../errors.js';
import {
  buildPdf,
  concatBytes,
  type FixtureObject,
  latin1Bytes,
  minimalPdf,
  streamBody,
} from '../pdf/fixture-builder.js';
import { placeSeal } from '../pdf/geometry.js';
import { isDict, isRef, PdfRef } from '../pdf/objects.js';
import type { Rectangle } from '../pdf/page-tree.js';
import { openPdf } from '../pdf/reader.js';
import { nodeStampEnvironment } from './node-environment.js';
import { type StampRequest, type StampResult, stampDocument } from './stamp-document.js';
import { assertPdfsigAllValid, assertQpdfClean } from './testing/external-checks.js';
import { cmsFromGap } from './testing/signature-check.js';
import {
  assertSignedBytes,
  assertStampObjects,
  newestXrefKind,
  readStampedObjects,
} from './testing/stamp-checks.js';
import {
  fixedRandomEnvironment,
  fixedSignatureSigner,
  openWithHandler,
  type TestPki,
  testPki,
  testReason,
  testSerial,
  testSigningTime,
  testSigningTimePdf,
  testVerifyUrl,
} from './testing/stamp-fixtures.js';
import { runTool, temporaryDirectory, toolSkipReason } from './testing/tools.js';

let pki: TestPki;
let directory: { readonly path: string; remove(): void };

before(async () => {
  pki = await testPki();
  directory = temporaryDirectory('bubuh-stamp-');
  writeFileSync(join(directory.path, 'root.pem'), pki.pki.root.certificatePem);
});

after(() => directory.remove());

const contentStream = streamBody('', latin1Bytes('0 0 m 100 100 l S'));

interface DocumentShape {
  readonly pageEntries?: string;
  readonly catalogEntries?: string;
  /** Objects 5 to 8, free for the fixture's AcroForm, annotations and arrays. */
  readonly extraObjects?: readonly FixtureObject[];
  readonly xref?: 'table' | 'stream' | 'hybrid';
}

/** A one-page document; with an xref stream or hybrid file, catalog and page tree sit in an object stream. */
function onePageDocument(shape: DocumentShape): Uint8Array {
  const catalog = { number: 1, body: `<< /Type /Catalog /Pages 2 0 R ${shape.catalogEntries ?? ''} >>` };
  const pages = { number: 2, body: '<< /Type /Pages /Kids [3 0 R] /Count 1 >>' };
  const pageEntries = shape.pageEntries ?? '/MediaBox [0 0 612 792]';
  const page = { number: 3, body: `<< /Type /Page /Parent 2 0 R ${pageEntries} /Contents 4 0 R >>` };
  const others = [page, { number: 4, body: contentStream }, ...(shape.extraObjects ?? [])];
  const xref = shape.xref ?? 'table';
  if (xref === 'table') return buildPdf({ objects: [catalog, pages, ...others], trailer: '/Root 1 0 R' });
  return buildPdf({
    objects: others,
    compressed: [catalog, pages],
    objectStreamNumber: 9,
    xref,
    trailer: '/Root 1 0 R',
  });
}

/** A second revision that turns the page by 90° and moves the content: `xref` is the update's kind. */
function updatedDocument(xref: 'table' | 'stream'): Uint8Array {
  return buildPdf({
    base: minimalPdf(),
    objects: [
      {
        number: 3,
        body: '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Rotate 90 /Contents 4 0 R >>',
      },
    ],
    xref,
    trailer: '/Root 1 0 R',
  });
}

function twoPageDocument(): Uint8Array {
  return buildPdf({
    objects: [
      { number: 1, body: '<< /Type /Catalog /Pages 2 0 R >>' },
      { number: 2, body: '<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 >>' },
      { number: 3, body: '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>' },
      { number: 4, body: contentStream },
      { number: 5, body: '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 842 595] /Contents 4 0 R >>' },
    ],
    trailer: '/Root 1 0 R',
  });
}

const linkAnnotation = {
  number: 5,
  body: '<< /Type /Annot /Subtype /Link /Rect [10 10 50 20] /Border [0 0 0] >>',
};
const textField = {
  number: 5,
  body: '<< /Type /Annot /Subtype /Widget /FT /Tx /T (nama) /V (Budi) /Rect [50 700 250 720] /P 3 0 R >>',
};

interface StampCase {
  readonly name: string;
  readonly pdf: Uint8Array;
  readonly page?: number | 'last';
  readonly x: number;
  readonly y: number;
  readonly pageNumber: number;
  /** The widget /Rect, worked out by hand from the page's boxes and rotation. */
  readonly rect: Rectangle;
  readonly reason?: string;
  /** /Annots before the widget, by object number; /Fields before the new field; the expected /SigFlags. */
  readonly annotsBefore?: readonly number[];
  readonly fieldsBefore?: readonly number[];
  readonly sigFlags?: number;
  /** When /Annots is an indirect array: its object number, which must still hold the array. */
  readonly annotsObject?: number;
  /** Entries of an existing AcroForm that must survive, e.g. /DA. */
  readonly formEntriesKept?: readonly string[];
}

const cases: readonly StampCase[] = [
  { name: 'classic table', pdf: minimalPdf(), x: 400, y: 36, pageNumber: 1, rect: [400, 36, 470, 106] },
  {
    name: 'xref stream, catalog in an object stream',
    pdf: onePageDocument({ xref: 'stream' }),
    x: 400,
    y: 36,
    pageNumber: 1,
    rect: [400, 36, 470, 106],
  },
  {
    name: 'hybrid file (table + /XRefStm)',
    pdf: onePageDocument({ xref: 'hybrid' }),
    x: 400,
    y: 36,
    pageNumber: 1,
    rect: [400, 36, 470, 106],
  },
  {
    name: 'earlier incremental update, table after table, /Rotate 90',
    pdf: updatedDocument('table'),
    x: 100,
    y: 50,
    pageNumber: 1,
    rect: [475, 100, 545, 170],
  },
  {
    name: 'earlier incremental update with an xref stream on a classic file',
    pdf: updatedDocument('stream'),
    x: 100,
    y: 50,
    pageNumber: 1,
    rect: [475, 100, 545, 170],
  },
  {
    name: '/Rotate 180',
    pdf: onePageDocument({ pageEntries: '/MediaBox [0 0 612 792] /Rotate 180' }),
    x: 100,
    y: 50,
    pageNumber: 1,
    rect: [442, 672, 512, 742],
  },
  {
    name: '/Rotate 270 with a /CropBox',
    pdf: onePageDocument({ pageEntries: '/MediaBox [0 0 612 792] /CropBox [36 36 576 756] /Rotate 270' }),
    x: 100,
    y: 50,
    pageNumber: 1,
    rect: [86, 586, 156, 656],
  },
  {
    name: 'offset /MediaBox',
    pdf: onePageDocument({ pageEntries: '/MediaBox [150 250 762 1042]' }),
    x: 400,
    y: 36,
    pageNumber: 1,
    rect: [550, 286, 620, 356],
    reason: '',
  },
  {
    name: 'inline /Annots and an inline AcroForm with a text field',
    pdf: onePageDocument({
      pageEntries: '/MediaBox [0 0 612 792] /Annots [5 0 R]',
      catalogEntries: '/AcroForm << /Fields [5 0 R] /DA (/Helv 0 Tf 0 g) >>',
      extraObjects: [textField],
    }),
    x: 400,
    y: 36,
    pageNumber: 1,
    rect: [400, 36, 470, 106],
    annotsBefore: [5],
    fieldsBefore: [5],
    sigFlags: 3,
    formEntriesKept: ['DA'],
  },
  {
    name: 'indirect /Annots array and an indirect AcroForm with indirect /Fields and /SigFlags 1',
    pdf: onePageDocument({
      pageEntries: '/MediaBox [0 0 612 792] /Annots 6 0 R',
      catalogEntries: '/AcroForm 7 0 R',
      extraObjects: [
        textField,
        { number: 6, body: '[5 0 R 8 0 R]' },
        { number: 7, body: '<< /Fields 10 0 R /SigFlags 1 /DA (/Helv 0 Tf 0 g) >>' },
        { ...linkAnnotation, number: 8 },
        { number: 10, body: '[5 0 R]' },
      ],
    }),
    x: 400,
    y: 36,
    pageNumber: 1,
    rect: [400, 36, 470, 106],
    annotsBefore: [5, 8],
    fieldsBefore: [5],
    sigFlags: 3,
    annotsObject: 6,
    formEntriesKept: ['DA'],
  },
  {
    name: 'page 1 named explicitly, xref-stream file with an inline link /Annots',
    pdf: onePageDocument({
      xref: 'stream',
      pageEntries: '/MediaBox [0 0 612 792] /Annots [5 0 R]',
      extraObjects: [linkAnnotation],
    }),
    page: 1,
    x: 36,
    y: 36,
    pageNumber: 1,
    rect: [36, 36, 106, 106],
    annotsBefore: [5],
  },
  {
    name: 'page 1 of two',
    pdf: twoPageDocument(),
    page: 1,
    x: 36,
    y: 36,
    pageNumber: 1,
    rect: [36, 36, 106, 106],
  },
  {
    name: 'last page of two',
    pdf: twoPageDocument(),
    x: 700,
    y: 36,
    pageNumber: 2,
    rect: [700, 36, 770, 106],
  },
];

function request(pdf: Uint8Array, fields: Partial<StampRequest> = {}): StampRequest {
  return {
    pdf,
    x: 400,
    y: 36,
    serial: testSerial,
    verifyUrl: testVerifyUrl,
    reason: testReason,
    signingTime: testSigningTime,
    ...fields,
  };
}

function refs(values: readonly unknown[]): number[] {
  return values.map((value) => {
    assert.ok(value instanceof PdfRef, 'an indirect reference');
    return value.objectNumber;
  });
}

async function assertToolsAccept(
  t: TestContext,
  name: string,
  output: Uint8Array,
  ranges: Uint8Array,
  cms: Uint8Array,
) {
  const stem = join(directory.path, name.replace(/[^a-z0-9]+/gi, '-'));
  writeFileSync(`${stem}.pdf`, output);
  await t.test('openssl cms -verify against the root', async (sub) => {
    const skip = toolSkipReason('openssl');
    if (skip !== null) return sub.skip(skip);
    writeFileSync(`${stem}.ranges`, ranges);
    writeFileSync(`${stem}.p7s`, cms);
    const verified = await runTool('openssl', [
      'cms',
      '-verify',
      '-binary',
      '-inform',
      'DER',
      '-in',
      `${stem}.p7s`,
      '-content',
      `${stem}.ranges`,
      '-CAfile',
      join(directory.path, 'root.pem'),
      '-purpose',
      'any',
      '-out',
      '/dev/null',
    ]);
    assert.equal(verified.status, 0, verified.stderr);
    assert.match(verified.stderr, /Verification successful/);
  });
  await t.test('qpdf --check is clean', async (sub) => {
    const skip = toolSkipReason('qpdf');
    if (skip !== null) return sub.skip(skip);
    await assertQpdfClean(`${stem}.pdf`);
  });
  await t.test('pdfsig: the signature is valid', async (sub) => {
    const skip = toolSkipReason('pdfsig');
    if (skip !== null) return sub.skip(skip);
    const [signature] = await assertPdfsigAllValid(`${stem}.pdf`, 1);
    assert.equal(signature?.fieldName, `e-meterai ${testSerial}`);
    assert.equal(signature?.subFilter, 'ETSI.CAdES.detached');
  });
}

function rangesOf(result: StampResult): Uint8Array {
  const [, gapStart, gapEnd, tailLength] = result.byteRange;
  return concatBytes([result.pdf.subarray(0, gapStart), result.pdf.subarray(gapEnd, gapEnd + tailLength)]);
}

for (const stampCase of cases) {
  test(`stamps: ${stampCase.name}`, async (t) => {
    const input = stampCase.pdf.slice();
    const box = { x: stampCase.x, y: stampCase.y, sizePt: 70 };
    const original = openPdf(input);
    assert.deepEqual(placeSeal(original.getPage(stampCase.pageNumber), box).rect, stampCase.rect);
    const result = await stampDocument(
      request(input, {
        x: stampCase.x,
        y: stampCase.y,
        reason: stampCase.reason ?? testReason,
        ...(stampCase.page === undefined ? {} : { page: stampCase.page }),
      }),
      nodeStampEnvironment(pki.signer),
    );
    assert.deepEqual(input, stampCase.pdf, 'the input buffer is not modified');
    assert.equal(result.pageNumber, stampCase.pageNumber);
    assert.equal(result.normalised, false);
    assert.deepEqual(result.warnings, []);
    assertSignedBytes(input, result, pki.signer, { prefix: true });

    const reopened = openPdf(result.pdf);
    const reason = stampCase.reason === '' ? `[${testSerial}]` : `[${testSerial}] ${testReason}`;
    const stamped = assertStampObjects(reopened, {
      pageNumber: stampCase.pageNumber,
      rect: stampCase.rect,
      serial: testSerial,
      reason,
      signingTimePdf: testSigningTimePdf,
      byteRange: result.byteRange,
    });
    assert.deepEqual(refs(stamped.annots), [
      ...(stampCase.annotsBefore ?? []),
      stamped.widgetRef.objectNumber,
    ]);
    assert.deepEqual(refs(stamped.fields), [
      ...(stampCase.fieldsBefore ?? []),
      stamped.widgetRef.objectNumber,
    ]);
    assert.equal(stamped.form.get('SigFlags'), stampCase.sigFlags ?? 3);
    const formBefore = original.resolve(original.catalog.get('AcroForm'));
    for (const key of stampCase.formEntriesKept ?? []) {
      assert.ok(isDict(formBefore) && formBefore.has(key), `the fixture's AcroForm has /${key}`);
      assert.deepEqual(stamped.form.get(key), formBefore.get(key), `/AcroForm /${key} is kept`);
    }
    if (stampCase.annotsObject !== undefined) {
      const annots = reopened.getPage(stampCase.pageNumber).dict.get('Annots');
      assert.ok(isRef(annots) && annots.objectNumber === stampCase.annotsObject, '/Annots stays indirect');
    }
    assert.equal(
      newestXrefKind(result.pdf),
      newestXrefKind(input),
      'the update keeps the kind of xref section',
    );
    assert.equal(reopened.xrefKind, original.xrefKind);
    await assertToolsAccept(
      t,
      stampCase.name,
      result.pdf,
      rangesOf(result),
      cmsFromGap(result.pdf, result.byteRange).der,
    );
  });
}

async function assertRefused(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof BubuhError, `a BubuhError, got ${String(error)}`);
    assert.equal(error.code, code);
    return true;
  });
}

test('refuses a seal that does not lie wholly on the visible page: SEAL_OUT_OF_PAGE', async () => {
  const environment = nodeStampEnvironment(pki.signer);
  const rotated = onePageDocument({ pageEntries: '/MediaBox [0 0 595 842] /Rotate 90' });
  const refusals: Array<[Uint8Array, Partial<StampRequest>]> = [
    [minimalPdf(), { x: 612 - 69, y: 36 }],
    [minimalPdf(), { x: 36, y: 792 - 69 }],
    [minimalPdf(), { x: -1, y: 36 }],
    [minimalPdf(), { x: 36, y: -0.5 }],
    [minimalPdf(), { x: Number.NaN, y: 36 }],
    // Visible page 842 × 595: a y that fits the unrotated height does not fit the turned page.
    [rotated, { x: 36, y: 595 - 69 }],
    [
      onePageDocument({ pageEntries: '/MediaBox [0 0 612 792] /CropBox [100 100 300 300]' }),
      { x: 131, y: 36 },
    ],
  ];
  for (const [pdf, fields] of refusals) {
    await assertRefused(stampDocument(request(pdf, fields), environment), 'SEAL_OUT_OF_PAGE');
  }
  // The largest position that fits is accepted.
  const fits = await stampDocument(request(minimalPdf(), { x: 612 - 70, y: 792 - 70 }), environment);
  assert.equal(fits.pageNumber, 1);
});

test('refuses seal sizes outside 40–150 pt with SEAL_SIZE_INVALID, before placing the seal', async () => {
  const environment = nodeStampEnvironment(pki.signer);
  for (const sizePt of [39, 151, 39.99, 150.01, 0, -5, Number.NaN]) {
    await assertRefused(
      stampDocument(request(minimalPdf(), { x: 36, y: 36, sizePt }), environment),
      'SEAL_SIZE_INVALID',
    );
  }
  // Too big for a small page is still a size problem first, not a position problem.
  await assertRefused(
    stampDocument(request(minimalPdf('/MediaBox [0 0 100 100]'), { x: 0, y: 0, sizePt: 151 }), environment),
    'SEAL_SIZE_INVALID',
  );
  for (const sizePt of [40, 150]) {
    const result = await stampDocument(request(minimalPdf(), { x: 36, y: 36, sizePt }), environment);
    const stamped = readStampedObjects(openPdf(result.pdf), 1);
    assert.deepEqual(stamped.widget.get('Rect'), [36, 36, 36 + sizePt, 36 + sizePt]);
  }
});

test('refuses a page that does not exist: PDF_PAGE_NOT_FOUND', async () => {
  const environment = nodeStampEnvironment(pki.signer);
  for (const page of [0, -1, 1.5, 3]) {
    await assertRefused(
      stampDocument(request(twoPageDocument(), { page, x: 36, y: 36 }), environment),
      'PDF_PAGE_NOT_FOUND',
    );
  }
  await assertRefused(stampDocument(request(minimalPdf(), { page: 2 }), environment), 'PDF_PAGE_NOT_FOUND');
});

async function encryptWithQpdf(name: string, modify: 'none' | 'annotate'): Promise<Uint8Array> {
  const plain = join(directory.path, `${name}-plain.pdf`);
  const encrypted = join(directory.path, `${name}-encrypted.pdf`);
  writeFileSync(plain, minimalPdf());
  const result = await runTool('qpdf', [
    '--encrypt',
    '',
    'owner',
    '128',
    '--use-aes=y',
    `--modify=${modify}`,
    '--',
    plain,
    encrypted,
  ]);
  assert.equal(result.status, 0, result.stderr);
  return new Uint8Array(readFileSync(encrypted));
}

test('AES-128 with --modify=none is refused: PDF_SIGNING_NOT_PERMITTED', async (t) => {
  const skip = toolSkipReason('qpdf');
  if (skip !== null) return t.skip(skip);
  const pdf = await encryptWithQpdf('modify-none', 'none');
  await assertRefused(
    stampDocument(request(pdf), nodeStampEnvironment(pki.signer)),
    'PDF_SIGNING_NOT_PERMITTED',
  );
});

test('AES-128 with --modify=annotate is stamped, stays encrypted and still decrypts', async (t) => {
  const skip = toolSkipReason('qpdf');
  if (skip !== null) return t.skip(skip);
  const pdf = await encryptWithQpdf('modify-annotate', 'annotate');
  const result = await stampDocument(request(pdf), nodeStampEnvironment(pki.signer));
  assertSignedBytes(pdf, result, pki.signer, { prefix: true });
  const reopened = openWithHandler(result.pdf);
  assert.ok(reopened.trailer.get('Encrypt') !== undefined, 'the output keeps /Encrypt');
  assert.equal(reopened.security?.method, 'AESV2');
  // The strings of the update are encrypted: read back through the handler they are the plain text.
  assertStampObjects(reopened, {
    pageNumber: 1,
    rect: [400, 36, 470, 106],
    serial: testSerial,
    reason: `[${testSerial}] ${testReason}`,
    signingTimePdf: testSigningTimePdf,
    byteRange: result.byteRange,
  });
  const path = join(directory.path, 'modify-annotate-stamped.pdf');
  writeFileSync(path, result.pdf);
  const checked = await runTool('qpdf', ['--check', '--password=', path]);
  assert.equal(checked.status, 0, `${checked.stdout}${checked.stderr}`);
  assert.doesNotMatch(`${checked.stdout}${checked.stderr}`, /WARNING/);
  assert.match(checked.stdout, /R = 4/);
  if (toolSkipReason('pdfsig') === null) await assertPdfsigAllValid(path, 1);
});

test('the result in parts: the upload untouched, what the stamp appended, and their join made once', async () => {
  const environment = fixedRandomEnvironment(fixedSignatureSigner(pki.signer));
  const input = minimalPdf();
  const result = await stampDocument(request(input), environment);
  assert.equal(result.original, input, 'the upload itself, not a copy');
  assert.equal(result.appended.length, result.addedBytes);
  assert.deepEqual(result.pdf, concatBytes([input, result.appended]));
  assert.equal(result.pdf, result.pdf, 'joined once, then kept');
  assert.equal(result.byteRange[2] + result.byteRange[3], input.length + result.appended.length);
  // A file whose cross-reference offset is wrong is rewritten first: the parts extend the rewrite.
  const text = Buffer.from(input).toString('latin1');
  const broken = latin1Bytes(text.replace(/startxref\n\d+/, 'startxref\n9'));
  const repaired = await stampDocument(request(broken), environment);
  assert.equal(repaired.normalised, true);
  assert.notEqual(repaired.original, broken);
  assert.equal(Buffer.from(repaired.original.subarray(0, 8)).toString('latin1'), '%PDF-1.4');
  assert.deepEqual(repaired.pdf, concatBytes([repaired.original, repaired.appended]));
  assert.equal(repaired.addedBytes, repaired.appended.length);
});

test('deterministic: fixed randomness, time and signature give identical bytes', async () => {
  const environment = fixedRandomEnvironment(fixedSignatureSigner(pki.signer));
  const first = await stampDocument(request(minimalPdf()), environment);
  const second = await stampDocument(request(minimalPdf()), environment);
  assert.deepEqual(second.pdf, first.pdf);
  assert.deepEqual(second.contentDigest, first.contentDigest);
  // With the real (randomised) ECDSA signer, only the /Contents gap may differ.
  const real = fixedRandomEnvironment(pki.signer);
  const third = await stampDocument(request(minimalPdf()), real);
  const fourth = await stampDocument(request(minimalPdf()), real);
  assert.deepEqual(fourth.byteRange, third.byteRange);
  assert.deepEqual(rangesOf(fourth), rangesOf(third));
  assert.deepEqual(rangesOf(third), rangesOf(first), 'the signer changes nothing outside /Contents');
  assert.deepEqual(third.contentDigest, first.contentDigest);
});
