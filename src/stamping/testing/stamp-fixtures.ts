/**
 * Test-only: what every stamping test needs — one development PKI for the whole test file, a valid
 * serial, its verify URL, a fixed signing time, and environments that make a stamp reproducible.
 */
import { createHash } from 'node:crypto';
import type { Signer } from '../../pades/cms.js';
import { openStandardSecurityHandler } from '../../pdf/crypt/standard-handler.js';
import { openPdf, type PdfDocument } from '../../pdf/reader.js';
import { type DevPki, generateDevPki } from '../../pki/dev-pki.js';
import { createNodeSigner } from '../../pki/node-signer.js';
import { generateSerial } from '../../seal/serial.js';
import { nodeStampEnvironment } from '../node-environment.js';
import type { StampEnvironment } from '../stamp-document.js';

/** Deterministic bytes from a label, so every run mints the same serial and file identifier. */
export function fixedBytes(label: string, count: number): Uint8Array {
  const output = new Uint8Array(count);
  for (let block = 0; block * 32 < count; block += 1) {
    const digest = createHash('sha256').update(`${label}/${block}`).digest();
    output.set(digest.subarray(0, Math.min(32, count - block * 32)), block * 32);
  }
  return output;
}

export const testSerial = generateSerial((count) => fixedBytes('bubuh test serial', count));
export const testVerifyUrl = `https://bubuh.example/s/${testSerial}`;
export const testSigningTime = new Date('2025-01-02T03:04:05Z');
/** `pdfDate(testSigningTime)`, written out so the test does not trust the function it checks. */
export const testSigningTimePdf = 'D:20250102030405Z';
export const testReason = 'Surat Pernyataan';

export interface TestPki {
  readonly pki: DevPki;
  readonly signer: Signer;
}

let pkiPromise: Promise<TestPki> | null = null;

/** One ECDSA P-256 hierarchy per process: generating it costs milliseconds, not worth repeating. */
export function testPki(): Promise<TestPki> {
  pkiPromise ??= generateDevPki({ keyAlgorithm: 'ECDSA-P256' }).then((pki) => ({
    pki,
    signer: createNodeSigner({
      privateKeyPem: pki.signer.privateKeyPem,
      certificate: pki.signer.certificate,
      chain: [pki.issuingCa.certificate],
    }),
  }));
  return pkiPromise;
}

/** Node's environment with `randomBytes` fixed, so only the signer can make two runs differ. */
export function fixedRandomEnvironment(signer: Signer): StampEnvironment {
  return { ...nodeStampEnvironment(signer), randomBytes: (count) => fixedBytes('bubuh test random', count) };
}

/**
 * A signer whose `sign` returns one fixed DER Ecdsa-Sig-Value of the maximum P-256 size (72 bytes),
 * with the real certificates: node:crypto's ECDSA signatures are randomised, this one is not.
 */
export function fixedSignatureSigner(signer: Signer): Signer {
  const component = (label: string) => [0x02, 0x21, 0x00, ...fixedBytes(label, 32)];
  const value = Uint8Array.from([0x30, 0x46, ...component('r'), ...component('s')]);
  return {
    algorithm: signer.algorithm,
    certificate: signer.certificate,
    chain: signer.chain,
    sign: () => Promise.resolve(value.slice()),
  };
}

/** Opens a document the way `stampDocument` does, with the standard security handler plugged in. */
export function openWithHandler(bytes: Uint8Array, password?: string): PdfDocument {
  return openPdf(bytes, {
    ...(password === undefined ? {} : { password }),
    openSecurityHandler: (encrypt, firstId, given) => openStandardSecurityHandler(encrypt, firstId, given),
  });
}
