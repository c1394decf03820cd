/**
 * `npm run bench:tsa` — what PAdES B-T costs on top of B-B. For every `expect: stamp` corpus file it
 * times `stampDocument` with the same dev P-256 signer without a time-stamper (B-B) and with the
 * built-in TSA in-process (B-T: one more SHA-256 and one more P-256 signature, plus the token's DER),
 * and once the token alone. Prints a table and, as its LAST line, one JSON object.
 *
 * Environment: BENCH_BUDGET_MS (default 500) — the measuring time per variant and file.
 */
import { generateDevPki } from '../src/pki/dev-pki.js';
import { createNodeSigner } from '../src/pki/node-signer.js';
import { checkCharacters } from '../src/seal/serial.js';
import { nodeStampEnvironment } from '../src/stamping/node-environment.js';
import { type StampRequest, stampDocument } from '../src/stamping/stamp-document.js';
import { corpusDirectory, corpusSkipReason, loadCorpus, readCorpusFile } from '../src/testing/corpus.js';
import { builtInTimeStamper, createBuiltInAuthority } from '../src/tsa/node-time-stamper.js';

const budgetMs = Number(process.env['BENCH_BUDGET_MS'] ?? 500);
const serialBody = '0A1B2C3D4E5F6G7H8J9K';
const serial = serialBody + checkCharacters(serialBody);

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Median milliseconds of `work` over as many runs as fit the budget (20..2000), after a warm-up. */
async function measure(work: () => Promise<unknown>): Promise<number> {
  const warmupStart = performance.now();
  let warmups = 0;
  while (warmups < 3 || (warmups < 50 && performance.now() - warmupStart < budgetMs / 5)) {
    await work();
    warmups += 1;
  }
  const estimateMs = (performance.now() - warmupStart) / warmups;
  const runs = Math.max(20, Math.min(2000, Math.ceil(budgetMs / estimateMs)));
  const samples: number[] = [];
  for (let index = 0; index < runs; index += 1) {
    const start = performance.now();
    await work();
    samples.push(performance.now() - start);
  }
  return median(samples);
}

async function main(): Promise<void> {
  const directory = corpusDirectory();
  if (directory === null) {
    console.log(corpusSkipReason);
    return;
  }
  const pki = await generateDevPki({ keyAlgorithm: 'ECDSA-P256' });
  const signer = createNodeSigner({
    privateKeyPem: pki.signer.privateKeyPem,
    certificate: pki.signer.certificate,
    chain: [pki.issuingCa.certificate],
  });
  const timeStamper = await builtInTimeStamper(createBuiltInAuthority(pki));
  const plain = nodeStampEnvironment(signer);
  const stamped = { ...plain, timeStamper };
  const signatureValue = new Uint8Array(71).fill(7);
  const tokenMs = await measure(() => timeStamper.timeStamp(signatureValue));

  console.log(`bench:tsa — node ${process.version}, one core, in-process, built-in TSA (dev P-256 key)`);
  console.log(
    `token alone (SHA-256 imprint, TSTInfo, SignedData, one P-256 signature): ${tokenMs.toFixed(3)} ms\n`,
  );
  console.log('| file | B-B median ms | B-T median ms | added ms | B-B added bytes | B-T added bytes |');
  console.log('|---|---:|---:|---:|---:|---:|');
  const rows: { bb: number; bt: number; bbBytes: number; btBytes: number }[] = [];
  for (const entry of loadCorpus(directory).filter((item) => item.expect === 'stamp')) {
    const bytes = readCorpusFile(directory, entry.file);
    const request: StampRequest = {
      pdf: bytes,
      serial,
      verifyUrl: `https://meterai.example.id/s/${serial}`,
      signingTime: new Date('2024-09-15T02:30:00Z'),
    };
    const bbBytes = (await stampDocument(request, plain)).addedBytes;
    const btBytes = (await stampDocument(request, stamped)).addedBytes;
    const bb = await measure(() => stampDocument(request, plain));
    const bt = await measure(() => stampDocument(request, stamped));
    rows.push({ bb, bt, bbBytes, btBytes });
    console.log(
      `| ${entry.file} | ${bb.toFixed(3)} | ${bt.toFixed(3)} | ${(bt - bb).toFixed(3)} | ${bbBytes} | ${btBytes} |`,
    );
  }
  const bbMedian = median(rows.map((row) => row.bb));
  const btMedian = median(rows.map((row) => row.bt));
  console.log(`\nfiles: ${rows.length}`);
  console.log(
    JSON.stringify({
      bench: 'tsa',
      token_ms: Math.round(tokenMs * 1e4) / 1e4,
      bb_median_ms: Math.round(bbMedian * 1e4) / 1e4,
      bt_median_ms: Math.round(btMedian * 1e4) / 1e4,
      bt_added_ms: Math.round((btMedian - bbMedian) * 1e4) / 1e4,
      bt_stamps_per_s_median: Math.round((1000 / btMedian) * 10) / 10,
      bb_added_bytes_median: median(rows.map((row) => row.bbBytes)),
      bt_added_bytes_median: median(rows.map((row) => row.btBytes)),
    }),
  );
}

await main();
