/**
 * `npm run bench:engine` — how fast one core stamps a PDF. For every `expect: stamp` corpus file it
 * times, in-process and one stamp at a time:
 *   - bubuh: `stampDocument` with `nodeStampEnvironment` and a dev ECDSA P-256 signer (seal drawn on
 *     the last page, PAdES B-B signature, one incremental update);
 *   - the peer, @libpdf/core (see engine-peer.ts for what it does and does not do);
 *   - the floor: one SHA-256 pass over the file plus one P-256 signature with node:crypto, the two
 *     costs no stamping engine can avoid.
 * Each engine is warmed up on the file, then run until a time budget or a run count is reached,
 * whichever allows the more runs within bounds. Prints a table and, as its LAST line, one JSON object.
 *
 * Environment: BENCH_BUDGET_MS (default 1500) — the measuring time per engine and file.
 */
import { createHash, createPrivateKey, sign as nodeSign } from 'node:crypto';
import { loadavg } from 'node:os';
import { checkCharacters } from '../src/seal/serial.js';
import { generateDevPki } from '../src/pki/dev-pki.js';
import { createNodeSigner } from '../src/pki/node-signer.js';
import { estimateCmsSize } from '../src/pades/cms.js';
import { nodeStampEnvironment } from '../src/stamping/node-environment.js';
import { type StampRequest, stampDocument } from '../src/stamping/stamp-document.js';
import { corpusDirectory, corpusSkipReason, loadCorpus, readCorpusFile } from '../src/testing/corpus.js';
import { peerDescription, peerSigner, peerStamp } from './engine-peer.js';

const budgetMs = Number(process.env['BENCH_BUDGET_MS'] ?? 1500);
/** A fixed, valid serial: 20 body characters and their two check characters. */
const serialBody = '0A1B2C3D4E5F6G7H8J9K';
const serial = serialBody + checkCharacters(serialBody);
const reason = 'Surat Pernyataan';
const location = 'Jakarta';
const signingTime = new Date('2024-09-15T02:30:00Z');

interface Samples {
  readonly runs: number;
  readonly medianMs: number;
  readonly p99Ms: number;
}

interface FileResult {
  readonly file: string;
  readonly bytes: number;
  readonly bubuh: Samples;
  readonly addedBytes: number;
  readonly peer: Samples | { readonly error: string };
  readonly peerAddedBytes: number | null;
  readonly floor: Samples;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  if (sorted.length === 0) return Number.NaN;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/**
 * Warms `work` up, estimates one run from the warm-up, then measures enough runs to fill the budget,
 * clamped to [runsMin, runsMax] — small files get hundreds of runs, the 17 MB scan and a slow peer fewer.
 */
async function measure(
  work: () => Promise<unknown> | unknown,
  bounds: { runsMin: number; runsMax: number; budgetMs: number },
): Promise<Samples> {
  const warmupStart = performance.now();
  let warmups = 0;
  while (warmups < 3 || (warmups < 50 && performance.now() - warmupStart < bounds.budgetMs / 5)) {
    await work();
    warmups += 1;
  }
  const estimateMs = (performance.now() - warmupStart) / warmups;
  const runs = Math.max(bounds.runsMin, Math.min(bounds.runsMax, Math.ceil(bounds.budgetMs / estimateMs)));
  const samples = new Float64Array(runs);
  for (let index = 0; index < runs; index += 1) {
    const start = performance.now();
    await work();
    samples[index] = performance.now() - start;
  }
  samples.sort();
  return {
    runs,
    medianMs: median(Array.from(samples)),
    p99Ms: samples[Math.min(runs - 1, Math.floor(runs * 0.99))]!,
  };
}

function format(value: number): string {
  if (!Number.isFinite(value)) return '—';
  return value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(3);
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** The original must be a prefix of the peer's output, as it is of bubuh's, or it is not incremental. */
function isPrefix(prefix: Uint8Array, bytes: Uint8Array): boolean {
  if (bytes.length < prefix.length) return false;
  return Buffer.from(bytes.buffer, bytes.byteOffset, prefix.length).equals(prefix);
}

async function main(): Promise<void> {
  const directory = corpusDirectory();
  if (directory === null) {
    console.log(corpusSkipReason);
    return;
  }
  const loadBefore = loadavg();
  const pki = await generateDevPki({ keyAlgorithm: 'ECDSA-P256' });
  const key = {
    privateKeyPem: pki.signer.privateKeyPem,
    certificate: pki.signer.certificate,
    chain: [pki.issuingCa.certificate],
  };
  const signer = createNodeSigner(key);
  const environment = nodeStampEnvironment(signer);
  const contentsBytes = estimateCmsSize(signer, { unsignedAttributeBytes: 0 });
  // libpdf's CMS is about 70 bytes larger than bubuh's (it refuses bubuh's exact reservation), so it
  // gets 1 KB more room; the zero padding costs it a few microseconds of hex encoding at most.
  const peerContentsBytes = contentsBytes + 1024;
  const peer = peerSigner(key);
  const floorKey = createPrivateKey({ key: key.privateKeyPem, format: 'pem' });
  const floorOnce = (bytes: Uint8Array) => {
    const digest = createHash('sha256').update(bytes).digest();
    return nodeSign('sha256', digest, { key: floorKey, dsaEncoding: 'der' });
  };

  console.log(`bench:engine — node ${process.version}, one core, in-process, one stamp at a time`);
  console.log(`load average before (1/5/15 min): ${loadBefore.map((value) => value.toFixed(2)).join(' ')}`);
  console.log('bubuh: stampDocument + nodeStampEnvironment, dev P-256 signer, seal 70 pt on the last page.');
  for (const line of peerDescription) console.log(line);
  console.log('floor: one SHA-256 pass over the file + one P-256 signature (node:crypto).\n');
  console.log(
    '| file | bytes | runs | bubuh median ms | bubuh p99 ms | libpdf median ms | libpdf runs | floor median ms | bubuh/floor | added bytes | libpdf added bytes |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');

  const results: FileResult[] = [];
  for (const entry of loadCorpus(directory).filter((item) => item.expect === 'stamp')) {
    const bytes = readCorpusFile(directory, entry.file);
    const large = bytes.length > 4_000_000;
    const request: StampRequest = {
      pdf: bytes,
      page: 'last',
      x: 20,
      y: 20,
      serial,
      verifyUrl: `https://meterai.example.id/s/${serial}`,
      reason,
      location,
      signingTime,
    };
    const first = await stampDocument(request, environment);
    const bubuh = await measure(() => stampDocument(request, environment), {
      runsMin: large ? 20 : 200,
      runsMax: 2000,
      budgetMs,
    });
    let peerResult: FileResult['peer'];
    let peerAddedBytes: number | null = null;
    const peerOptions = {
      reason: `[${serial}] ${reason}`,
      location,
      signingTime,
      contentsBytes: peerContentsBytes,
    };
    try {
      const output = await peerStamp(bytes, peer, peerOptions);
      if (!isPrefix(bytes, output)) throw new Error('output is not an incremental update of the input');
      peerAddedBytes = output.length - bytes.length;
      peerResult = await measure(() => peerStamp(bytes, peer, peerOptions), {
        runsMin: large ? 5 : 20,
        runsMax: 500,
        budgetMs,
      });
    } catch (error) {
      peerResult = { error: (error instanceof Error ? error.message : String(error)).slice(0, 80) };
    }
    const floor = await measure(() => floorOnce(bytes), {
      runsMin: large ? 20 : 200,
      runsMax: 2000,
      budgetMs: budgetMs / 3,
    });
    const result: FileResult = {
      file: entry.file,
      bytes: bytes.length,
      bubuh,
      addedBytes: first.addedBytes,
      peer: peerResult,
      peerAddedBytes,
      floor,
    };
    results.push(result);
    const peerCells =
      'error' in peerResult
        ? [`error: ${peerResult.error}`, '0']
        : [format(peerResult.medianMs), String(peerResult.runs)];
    console.log(
      `| ${entry.file} | ${bytes.length} | ${bubuh.runs} | ${format(bubuh.medianMs)} | ${format(bubuh.p99Ms)} | ${peerCells.join(' | ')} | ${format(floor.medianMs)} | ${(bubuh.medianMs / floor.medianMs).toFixed(2)} | ${first.addedBytes} | ${peerAddedBytes ?? '—'} |`,
    );
  }
  report(results);
}

function report(results: readonly FileResult[]): void {
  const medianMs = median(results.map((result) => result.bubuh.medianMs));
  const peerMedians = results.flatMap((result) => ('error' in result.peer ? [] : [result.peer.medianMs]));
  const peerFailures = results.length - peerMedians.length;
  const libpdfMedianMs = median(peerMedians);
  const floorMedianMs = median(results.map((result) => result.floor.medianMs));
  const addedBytesMedian = median(results.map((result) => result.addedBytes));
  const stampsPerSecond = 1000 / medianMs;
  const speedup = libpdfMedianMs / medianMs;
  const loadAfter = loadavg();
  console.log('');
  console.log(
    `files: ${results.length}; libpdf could not stamp ${peerFailures} of them (excluded from its median).`,
  );
  console.log(`load average after (1/5/15 min): ${loadAfter.map((value) => value.toFixed(2)).join(' ')}`);
  console.log(
    `targets: stamps/s ${stampsPerSecond.toFixed(0)} (>= 1000: ${stampsPerSecond >= 1000 ? 'met' : 'NOT met'}); ` +
      `speed-up vs libpdf ${speedup.toFixed(1)} (>= 20: ${speedup >= 20 ? 'met' : 'NOT met'}); ` +
      `median/floor ${(medianMs / floorMedianMs).toFixed(2)} (<= 4: ${medianMs <= 4 * floorMedianMs ? 'met' : 'NOT met'})`,
  );
  console.log(
    JSON.stringify({
      bench: 'engine',
      median_ms: round(medianMs, 4),
      stamps_per_s_median: round(stampsPerSecond, 1),
      libpdf_median_ms: round(libpdfMedianMs, 3),
      speedup_vs_libpdf: round(speedup, 1),
      floor_median_ms: round(floorMedianMs, 4),
      added_bytes_median: addedBytesMedian,
    }),
  );
}

await main();
