/**
 * Every file of the shared corpus through `stampDocument`: stamp files are stamped on their last page,
 * bottom right, and judged by our own checks and by qpdf, poppler (pdfsig, pdftoppm), MuPDF and zbar;
 * reject files are refused with their exact code; hostile files are stamped correctly or refused, all
 * quickly and within a memory bound. The in-process stamping runs first, one file at a time, so the
 * memory samples mean something; the external tools then run a few at a time.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { BubuhError } from '../errors.js';
import { placeSeal, visiblePageSize } from '../pdf/geometry.js';
import {
  type CorpusEntry,
  corpusDirectory,
  corpusSkipReason,
  loadCorpus,
  readCorpusFile,
} from '../testing/corpus.js';
import { nodeStampEnvironment } from './node-environment.js';
import { type StampResult, stampDocument } from './stamp-document.js';
import {
  assertPdfsigAllValid,
  assertQpdfClean,
  assertQpdfRewrites,
  decodeQrInCrop,
  mutoolVerdict,
  renderPage,
} from './testing/external-checks.js';
import { compareRasters, sealPixelBox } from './testing/raster.js';
import { assertSignedBytes, assertStampObjects } from './testing/stamp-checks.js';
import {
  openWithHandler,
  type TestPki,
  testPki,
  testReason,
  testSerial,
  testSigningTime,
  testSigningTimePdf,
  testVerifyUrl,
} from './testing/stamp-fixtures.js';
import { temporaryDirectory, type ToolName, toolSkipReason } from './testing/tools.js';

const sealSizePt = 70;
/** The seal sits this far from the right and bottom edges of the visible page. */
const edgeMarginPt = 36;
const addedBytesMax = 12 * 1024;
const refuseWithinMs = 2000;
const rssBytesMax = 1024 * 1024 * 1024;
const bombRssGrowthBytesMax = 200 * 1024 * 1024;
const renderMarginPixels = 2;
/** External tools running at once: the machine has two cores. */
const toolConcurrency = 3;
const a26Password = 'rahasia123';
/**
 * Checks that cost a tool far more than the rest of the corpus together, because of what the ORIGINAL
 * holds: `qpdf --check` decodes every image (a25: thirteen 300 dpi JPEG pages, ~30 s of CPU) and every
 * stream (a36: the 2 GiB flate bomb, ~40 s), and rendering a36 inflates the bomb twice (~2 × 18 s). They
 * run when BUBUH_CORPUS_SLOW=1; by default qpdf rewrites those files to /dev/null instead, which parses
 * every object and cross-reference section (and warns like --check) without decoding the heavy streams.
 */
const slowChecksEnabled = process.env['BUBUH_CORPUS_SLOW'] === '1';
/** With the slow checks on, a tool on a busy machine may need minutes for one of these files. */
const slowToolTimeoutMs = 15 * 60 * 1000;
const slowQpdfCheck = new Set(['a25', 'a36']);
const slowRender = new Set(['a36']);
const slowSkipReason = (what: string) =>
  `${what} takes tens of seconds on this file because of its original content; set BUBUH_CORPUS_SLOW=1 to run it`;

const expectedRefusals: Readonly<Record<string, string>> = {
  a26: 'PDF_PASSWORD_REQUIRED',
  a27: 'PDF_SIGNING_NOT_PERMITTED',
  a28: 'PDF_DAMAGED',
  a30: 'PDF_NOT_PDF',
  a31: 'PDF_EMPTY',
  a34: 'PDF_NESTING_TOO_DEEP',
  a35: 'PDF_NOT_PDF',
};
/** Files whose seal is also decoded with zbar: upright, turned by 90°, and with an offset MediaBox. */
const qrFiles = new Set(['a01', 'a17', 'a19']);

interface Stamped {
  readonly entry: CorpusEntry;
  readonly label: string;
  readonly inputPath: string;
  readonly outputPath: string;
  readonly result: StampResult;
  readonly widgetObjectNumber: number;
  readonly visible: { readonly widthPt: number; readonly heightPt: number };
  readonly x: number;
  readonly password?: string;
}

const directory = corpusDirectory();
const stamped: Stamped[] = [];
let pki: TestPki;
let scratch: { readonly path: string; remove(): void };

before(async () => {
  pki = await testPki();
  scratch = temporaryDirectory('bubuh-corpus-');
});

after(() => scratch.remove());

function labelOf(entry: CorpusEntry): string {
  return entry.file.slice(0, 3);
}

/** Signatures already in the file, from the manifest's `signature-count:N` feature. */
function existingSignatures(entry: CorpusEntry): number {
  const feature = entry.features.find((name) => name.startsWith('signature-count:'));
  return feature === undefined ? 0 : Number(feature.slice('signature-count:'.length));
}

/** Stamps the last page bottom right, as a person placing the seal there would. */
async function stampLastPage(entry: CorpusEntry, bytes: Uint8Array, password?: string): Promise<Stamped> {
  const label = labelOf(entry);
  const page = openWithHandler(bytes, password).getPage('last');
  const visible = visiblePageSize(page);
  const x = visible.widthPt - sealSizePt - edgeMarginPt;
  const result = await stampDocument(
    {
      pdf: bytes,
      x,
      y: edgeMarginPt,
      sizePt: sealSizePt,
      serial: testSerial,
      verifyUrl: testVerifyUrl,
      reason: testReason,
      signingTime: testSigningTime,
      ...(password === undefined ? {} : { password }),
    },
    nodeStampEnvironment(pki.signer),
  );
  const normalised = label === 'a29';
  assert.equal(result.normalised, normalised, `${entry.file}: normalised`);
  assert.equal(result.pageNumber, page.pageNumber);
  assert.ok(result.addedBytes <= addedBytesMax, `${entry.file}: ${result.addedBytes} bytes added`);
  assertSignedBytes(bytes, result, pki.signer, { prefix: !normalised });
  const reopened = openWithHandler(result.pdf, password);
  const objects = assertStampObjects(reopened, {
    pageNumber: page.pageNumber,
    rect: placeSeal(page, { x, y: edgeMarginPt, sizePt: sealSizePt }).rect,
    serial: testSerial,
    reason: `[${testSerial}] ${testReason}`,
    signingTimePdf: testSigningTimePdf,
    byteRange: result.byteRange,
  });
  const suffix = password === undefined ? '' : '-with-password';
  const inputPath = join(directory!, entry.file);
  const outputPath = join(scratch.path, `${label}${suffix}-stamped.pdf`);
  writeFileSync(outputPath, result.pdf);
  return {
    entry,
    label: `${label}${suffix}`,
    inputPath,
    outputPath,
    result,
    widgetObjectNumber: objects.widgetRef.objectNumber,
    visible,
    x,
    ...(password === undefined ? {} : { password }),
  };
}

/** One file, in process: stamped, or refused with the expected code, within the time bound. */
async function stampOrRefuse(entry: CorpusEntry): Promise<void> {
  const label = labelOf(entry);
  const bytes = readCorpusFile(directory!, entry.file);
  const started = performance.now();
  let outcome: Stamped | BubuhError;
  try {
    outcome = await stampLastPage(entry, bytes);
  } catch (error) {
    if (!(error instanceof BubuhError)) throw error;
    outcome = error;
  }
  const elapsedMs = performance.now() - started;
  if (entry.expect === 'stamp') {
    assert.ok(!(outcome instanceof BubuhError), `${entry.file} refused: ${String(outcome)}`);
  } else if (entry.expect === 'reject') {
    assert.ok(outcome instanceof BubuhError, `${entry.file} must be refused`);
    assert.equal(outcome.code, expectedRefusals[label], `${entry.file}: refusal code`);
  }
  if (entry.expect !== 'stamp')
    assert.ok(elapsedMs < refuseWithinMs, `${entry.file} took ${elapsedMs.toFixed(0)} ms`);
  if (!(outcome instanceof BubuhError)) stamped.push(outcome);
  if (label === 'a26') stamped.push(await stampLastPage(entry, bytes, a26Password));
}

test('corpus: every file is stamped or refused with its code, in bounded time and memory', async (t) => {
  if (directory === null) return t.skip(corpusSkipReason);
  const entries = loadCorpus(directory);
  assert.ok(entries.length >= 37, 'the whole corpus');
  let rssPeak = 0;
  for (const entry of entries) {
    const rssBefore = process.memoryUsage().rss;
    await t.test(entry.file, () => stampOrRefuse(entry));
    const rss = process.memoryUsage().rss;
    rssPeak = Math.max(rssPeak, rss);
    assert.ok(rss < rssBytesMax, `RSS ${rss} bytes after ${entry.file}`);
    if (labelOf(entry) === 'a36') {
      const growth = rss - rssBefore;
      assert.ok(growth < bombRssGrowthBytesMax, `the flate bomb raised RSS by ${growth} bytes`);
    }
  }
  t.diagnostic(`peak RSS sampled after a file: ${(rssPeak / 1024 / 1024).toFixed(0)} MiB`);
  const expectedStamped = entries.filter((entry) => entry.expect === 'stamp').length + 1;
  assert.ok(stamped.length >= expectedStamped, 'every stamp file and a26 with its password were stamped');
  assert.deepEqual(
    stamped.filter((item) => item.result.normalised).map((item) => item.label),
    ['a29'],
    'a29 alone is normalised',
  );
});

async function withTool(
  t: TestContext,
  tools: ToolName | readonly ToolName[],
  name: string,
  check: () => Promise<void>,
): Promise<void> {
  await t.test(name, async (sub) => {
    const skip = (typeof tools === 'string' ? [tools] : tools)
      .map(toolSkipReason)
      .find((reason) => reason !== null);
    if (skip !== undefined && skip !== null) return sub.skip(skip);
    await check();
  });
}

/** Every pixel the stamp changed lies in the seal box (plus 2 pixels), and some inside did change. */
async function assertOnlySealChanged(item: Stamped): Promise<void> {
  const pageNumber = item.result.pageNumber;
  const timeoutMs = slowChecksEnabled ? slowToolTimeoutMs : undefined;
  const before = await renderPage(
    item.inputPath,
    pageNumber,
    scratch.path,
    `${item.label}-before`,
    undefined,
    timeoutMs,
  );
  const after = await renderPage(
    item.outputPath,
    pageNumber,
    scratch.path,
    `${item.label}-after`,
    undefined,
    timeoutMs,
  );
  const seal = { x: item.x, y: edgeMarginPt, sizePt: sealSizePt };
  const box = sealPixelBox(after, item.visible, seal, renderMarginPixels);
  const difference = compareRasters(before, after, box);
  assert.equal(
    difference.outside,
    0,
    `${item.label}: first changed pixel outside the seal ${String(difference.firstOutside)}`,
  );
  assert.ok(difference.inside > 0, `${item.label}: the seal changed no pixel`);
}

async function assertQrDecodes(item: Stamped): Promise<void> {
  const scale = 200 / 72;
  // A quiet margin of 6 pt around the seal, so the crop holds the whole symbol.
  const marginPt = 6;
  const crop = {
    left: Math.floor((item.x - marginPt) * scale),
    top: Math.floor((item.visible.heightPt - edgeMarginPt - sealSizePt - marginPt) * scale),
    width: Math.ceil((sealSizePt + 2 * marginPt) * scale),
    height: Math.ceil((sealSizePt + 2 * marginPt) * scale),
  };
  const decoded = await decodeQrInCrop(
    item.outputPath,
    item.result.pageNumber,
    crop,
    scratch.path,
    `${item.label}-qr`,
  );
  assert.equal(decoded, testVerifyUrl);
}

async function externalChecks(t: TestContext, item: Stamped): Promise<void> {
  if (item.password !== undefined) {
    await withTool(t, 'qpdf', 'qpdf --check with the password', () =>
      assertQpdfClean(item.outputPath, item.password),
    );
    return;
  }
  if (slowQpdfCheck.has(item.label) && !slowChecksEnabled) {
    await t.test('qpdf --check', (sub) => sub.skip(slowSkipReason('qpdf --check')));
    await withTool(t, 'qpdf', 'qpdf rewrite without decoding streams', () =>
      assertQpdfRewrites(item.outputPath),
    );
  } else {
    await withTool(t, 'qpdf', 'qpdf --check', () =>
      assertQpdfClean(item.outputPath, undefined, slowChecksEnabled ? slowToolTimeoutMs : undefined),
    );
  }
  await withTool(t, 'pdfsig', 'pdfsig: every signature valid', async () => {
    const signatures = await assertPdfsigAllValid(item.outputPath, existingSignatures(item.entry) + 1);
    assert.equal(signatures[signatures.length - 1]?.fieldName, `e-meterai ${testSerial}`);
  });
  await withTool(t, 'mutool', 'mutool sign -v: unchanged since signing', async () => {
    assert.equal(
      await mutoolVerdict(item.outputPath, item.widgetObjectNumber),
      'The document is unchanged since signing.',
    );
  });
  if (slowRender.has(item.label) && !slowChecksEnabled) {
    await t.test('pdftoppm: only the seal box changed', (sub) => sub.skip(slowSkipReason('rendering')));
  } else {
    await withTool(t, 'pdftoppm', 'pdftoppm: only the seal box changed', () => assertOnlySealChanged(item));
  }
  if (qrFiles.has(item.label)) {
    await withTool(t, ['pdftoppm', 'zbarimg'], 'pdftoppm + zbarimg: the QR code is the verify URL', () =>
      assertQrDecodes(item),
    );
  }
}

test(
  'corpus: stamped files pass qpdf, pdfsig, mutool, the render diff and the QR scan',
  { concurrency: toolConcurrency },
  async (t) => {
    if (directory === null) return t.skip(corpusSkipReason);
    assert.ok(stamped.length > 0, 'the stamping test ran first');
    // The largest files first, so their slow tool runs overlap with the many small ones.
    const ordered = [...stamped].sort((left, right) => right.result.pdf.length - left.result.pdf.length);
    await Promise.all(
      ordered.map((item) => t.test(item.label, { concurrency: 1 }, (sub) => externalChecks(sub, item))),
    );
  },
);
