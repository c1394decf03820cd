/**
 * `npm run bench:verify` — verifies every stamped corpus output offline (trust anchor given, no
 * registry), one core, with the same isomorphic verifier the browser runs (WebCrypto only). Prints a
 * table per file and, as its last line, one JSON object:
 * `{"bench":"verify","median_ms":N,"verifications_per_s_median":N}`.
 * The time budget per file is BENCH_BUDGET_MS (default 1000).
 */
import { loadavg } from 'node:os';
import { generateDevPki } from '../src/pki/dev-pki.js';
import { createNodeSigner } from '../src/pki/node-signer.js';
import { checkCharacters } from '../src/seal/serial.js';
import { nodeStampEnvironment } from '../src/stamping/node-environment.js';
import { stampDocument } from '../src/stamping/stamp-document.js';
import { corpusDirectory, corpusSkipReason, loadCorpus, readCorpusFile } from '../src/testing/corpus.js';
import { verifyDocument } from '../src/verify/verify-document.js';

const budgetMs = Number(process.env['BENCH_BUDGET_MS'] ?? 1000);
const serialBody = '0A1B2C3D4E5F6G7H8J9K';
const serial = serialBody + checkCharacters(serialBody);

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function main(): Promise<void> {
  const directory = corpusDirectory();
  if (!directory) {
    process.stderr.write(`${corpusSkipReason}\n`);
    process.exitCode = 1;
    return;
  }
  const pki = await generateDevPki();
  const signer = createNodeSigner({
    privateKeyPem: pki.signer.privateKeyPem,
    certificate: pki.signer.certificate,
    chain: [pki.issuingCa.certificate],
  });
  const environment = nodeStampEnvironment(signer);
  const trustAnchors = [pki.root.certificate];
  const rows: string[][] = [];
  const medians: number[] = [];
  for (const entry of loadCorpus(directory).filter((item) => item.expect === 'stamp')) {
    const stamped = await stampDocument(
      {
        pdf: readCorpusFile(directory, entry.file),
        serial,
        verifyUrl: `https://bubuh.example/s/${serial}`,
        signingTime: new Date(),
        reason: 'Surat Pernyataan',
      },
      environment,
    );
    const first = await verifyDocument(stamped.pdf, { trustAnchors });
    // Warm-up, then as many verifications as fit the budget (at least 5).
    for (let round = 0; round < 20; round += 1) await verifyDocument(stamped.pdf, { trustAnchors });
    const times: number[] = [];
    const started = performance.now();
    while (times.length < 5 || performance.now() - started < budgetMs) {
      const begin = performance.now();
      await verifyDocument(stamped.pdf, { trustAnchors });
      times.push(performance.now() - begin);
      if (times.length >= 5000) break;
    }
    const fileMedian = median(times);
    medians.push(fileMedian);
    rows.push([
      entry.file,
      String(stamped.pdf.length),
      String(times.length),
      fileMedian.toFixed(3),
      first.verdict,
    ]);
  }
  const header = ['file', 'bytes', 'runs', 'median ms', 'verdict'];
  process.stdout.write(`verify benchmark (WebCrypto, offline), load ${loadavg()[0]!.toFixed(2)}\n`);
  process.stdout.write(`| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|\n`);
  for (const row of rows) process.stdout.write(`| ${row.join(' | ')} |\n`);
  const overall = median(medians);
  process.stdout.write(
    `${JSON.stringify({
      bench: 'verify',
      median_ms: Number(overall.toFixed(4)),
      verifications_per_s_median: Number((1000 / overall).toFixed(1)),
    })}\n`,
  );
}

await main();
