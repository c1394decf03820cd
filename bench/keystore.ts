/**
 * `npm run bench:keystore` — what one signature costs through each key store: PKCS#8 files (the
 * in-process node:crypto signer) and PKCS#11 (a throw-away SoftHSM2 token, skipped with a reason when
 * SoftHSM2 is absent). For each store and key: the median and 99th percentile of one awaited
 * `signer.sign` on ~200 bytes (the size of a CMS's signed attributes), then signatures per second with
 * 64 calls in flight. Prints a table and, as its last line, one JSON object:
 * `{"bench":"keystore","ecdsa_p256_median_us":{"files":N,"pkcs11":N}, …}`.
 * BENCH_SIGNATURES sets the sequential sample (default 2000).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Signer } from '../src/pades/cms.js';
import { certifySignerPublicKey, generateDevPki, type SignerKeyAlgorithm } from '../src/pki/dev-pki.js';
import type { KeyStore } from '../src/pki/keystore.js';
import { createFilesKeyStore } from '../src/pki/keystore-files.js';
import { openPkcs11KeyStore } from '../src/pki/keystore-pkcs11.js';
import { createSoftHsmTokens, softHsmSkipReason } from '../src/pki/testing/softhsm.js';

const signatures = Number(process.env['BENCH_SIGNATURES'] ?? 2000);
const inFlight = 64;
const SIGNED_ATTRIBUTES_BYTES = 200;

function percentile(values: readonly number[], fraction: number): number {
  const sorted = [...values].sort((left, right) => left - right);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))]!;
}

interface Row {
  readonly store: string;
  readonly key: SignerKeyAlgorithm;
  readonly medianUs: number;
  readonly p99Us: number;
  readonly concurrentPerSecond: number;
}

async function measure(
  signer: Signer,
  count: number,
): Promise<{ medianUs: number; p99Us: number; rate: number }> {
  const data = randomBytes(SIGNED_ATTRIBUTES_BYTES);
  for (let index = 0; index < Math.min(200, count); index += 1) await signer.sign(data); // warm-up
  const samples: number[] = [];
  for (let index = 0; index < count; index += 1) {
    const start = process.hrtime.bigint();
    await signer.sign(data);
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  const start = process.hrtime.bigint();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next += 1;
      await signer.sign(data);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { medianUs: percentile(samples, 0.5), p99Us: percentile(samples, 0.99), rate: count / seconds };
}

async function benchStore(name: string, store: KeyStore, rows: Row[]): Promise<void> {
  const pki = await generateDevPki();
  for (const key of ['ECDSA-P256', 'RSA-2048'] as const) {
    const label = `bench-${key.toLowerCase()}`;
    const spki = await store.generateKey(label, key);
    const issued = await certifySignerPublicKey(pki.issuingCa, spki);
    const signer = await store.signer(label, issued.certificate, [pki.issuingCa.certificate]);
    // RSA signing costs ~30× ECDSA: a smaller sample keeps the run short.
    const result = await measure(signer, key === 'RSA-2048' ? Math.ceil(signatures / 4) : signatures);
    rows.push({ store: name, key, ...result, concurrentPerSecond: result.rate });
  }
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  const directory = mkdtempSync(join(tmpdir(), 'bubuh-bench-keystore-'));
  try {
    const skip = softHsmSkipReason();
    if (skip === null) {
      const tokens = createSoftHsmTokens('bubuh-bench-softhsm-');
      try {
        tokens.initToken('bubuh-bench', '123456');
        const store = await openPkcs11KeyStore({
          modulePath: tokens.modulePath,
          tokenLabel: 'bubuh-bench',
          pin: '123456',
        });
        try {
          await benchStore('pkcs11 (SoftHSM2)', store, rows);
        } finally {
          await store.close();
        }
      } finally {
        tokens.remove();
      }
    } else {
      process.stderr.write(`${skip}\n`);
    }
    const files = createFilesKeyStore(join(directory, 'keys'));
    await benchStore('files', files, rows);
    await files.close();
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }

  process.stdout.write(
    `signatures: ${signatures} sequential per ECDSA key (a quarter for RSA), then ${inFlight} in flight; load ${loadavg()[0]!.toFixed(2)}\n`,
  );
  process.stdout.write('store               key          median µs   p99 µs   signatures/s (64 in flight)\n');
  for (const row of rows) {
    process.stdout.write(
      `${row.store.padEnd(20)}${row.key.padEnd(13)}${row.medianUs.toFixed(1).padStart(9)}${row.p99Us.toFixed(1).padStart(9)}${Math.round(row.concurrentPerSecond).toString().padStart(15)}\n`,
    );
  }
  const pick = (key: SignerKeyAlgorithm, field: 'medianUs' | 'concurrentPerSecond') =>
    Object.fromEntries(
      rows
        .filter((row) => row.key === key)
        .map((row) => [
          row.store.startsWith('pkcs11') ? 'pkcs11' : 'files',
          Math.round(row[field] * 10) / 10,
        ]),
    );
  process.stdout.write(
    `${JSON.stringify({
      bench: 'keystore',
      ecdsa_p256_median_us: pick('ECDSA-P256', 'medianUs'),
      ecdsa_p256_per_s_concurrent: pick('ECDSA-P256', 'concurrentPerSecond'),
      rsa_2048_median_us: pick('RSA-2048', 'medianUs'),
      rsa_2048_per_s_concurrent: pick('RSA-2048', 'concurrentPerSecond'),
    })}\n`,
  );
}

await main();
