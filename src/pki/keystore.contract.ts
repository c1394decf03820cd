/**
 * The key store contract: what every `KeyStore` must do, run by keystore.test.ts against each store.
 * Signatures are checked by implementations we did not write (node:crypto, `openssl cms -verify`) as
 * well as by the project's own verifier on a fully stamped document.
 */
import assert from 'node:assert/strict';
import { createHash, verify, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Signer } from '../pades/cms.js';
import { minimalPdf } from '../pdf/fixture-builder.js';
import { nodeStampEnvironment } from '../stamping/node-environment.js';
import { stampDocument } from '../stamping/stamp-document.js';
import { fixedBytes, testSerial, testVerifyUrl } from '../stamping/testing/stamp-fixtures.js';
import { cmsFromGap } from '../stamping/testing/signature-check.js';
import { runTool, temporaryDirectory, toolSkipReason } from '../stamping/testing/tools.js';
import { verifyDocument } from '../verify/verify-document.js';
import { certifySignerPublicKey, type DevPki, generateDevPki, type SignerKeyAlgorithm } from './dev-pki.js';
import { certificatePublicKey, type KeyStore } from './keystore.js';

export interface KeyStoreSubject {
  /** Shown in the test names, e.g. 'files'. */
  readonly name: string;
  /** Null when the store can run here; otherwise why its contract is skipped. */
  readonly skipReason: string | null;
  /** A fresh, empty store. */
  open(): Promise<KeyStore>;
}

/** Whole seconds (/M keeps no fractions), inside the validity of certificates issued now. */
const signingTime = new Date(Math.floor(Date.now() / 1000) * 1000);

const ALGORITHMS: readonly { key: SignerKeyAlgorithm; signature: Signer['algorithm']; label: string }[] = [
  { key: 'ECDSA-P256', signature: 'ECDSA-P256-SHA256', label: 'contract-ecdsa-p256' },
  { key: 'RSA-2048', signature: 'RSA-PKCS1-SHA256', label: 'contract-rsa-2048' },
];

/** Rejects with a BubuhError of exactly this code and these details. */
async function assertRefusal(
  promise: Promise<unknown>,
  code: string,
  details: Record<string, unknown>,
): Promise<void> {
  await assert.rejects(promise, (error: { code?: string; details?: unknown }) => {
    assert.equal(error.code, code);
    assert.deepEqual(error.details, details);
    return true;
  });
}

function verifiesWith(certificate: Uint8Array, data: Uint8Array, signature: Uint8Array): boolean {
  const key = new X509Certificate(certificate).publicKey;
  return verify('sha256', data, { key, dsaEncoding: 'der' }, signature);
}

export function keyStoreContract(subject: KeyStoreSubject): void {
  describe(`key store contract: ${subject.name}`, { skip: subject.skipReason ?? false }, () => {
    let store: KeyStore;
    let pki: DevPki;
    const signers = new Map<SignerKeyAlgorithm, Signer>();

    before(async () => {
      store = await subject.open();
      pki = await generateDevPki({ keyAlgorithm: 'ECDSA-P256' });
    });

    after(async () => {
      await store?.close();
    });

    for (const algorithm of ALGORITHMS) {
      test(`${algorithm.key}: a key made in the store signs what its certificate verifies`, async () => {
        assert.equal(await store.hasKey(algorithm.label), false);
        const spki = await store.generateKey(algorithm.label, algorithm.key);
        assert.equal(await store.hasKey(algorithm.label), true);
        assert.deepEqual(await store.publicKey(algorithm.label), spki);
        const issued = await certifySignerPublicKey(pki.issuingCa, spki);
        assert.deepEqual(certificatePublicKey(issued.certificate), spki);
        const signer = await store.signer(algorithm.label, issued.certificate, [pki.issuingCa.certificate]);
        assert.equal(signer.algorithm, algorithm.signature);
        assert.deepEqual(signer.certificate, issued.certificate);
        assert.deepEqual(signer.chain, [pki.issuingCa.certificate]);
        const data = fixedBytes(`contract data ${algorithm.key}`, 300);
        const signature = await signer.sign(data);
        if (algorithm.key === 'ECDSA-P256') {
          assert.equal(signature[0], 0x30, 'a DER Ecdsa-Sig-Value');
          assert.ok(signature.length >= 8 && signature.length <= 72, `${signature.length} bytes`);
        } else {
          assert.equal(signature.length, 256, 'PKCS#1 v1.5 with a 2048-bit key');
        }
        assert.equal(verifiesWith(issued.certificate, data, signature), true);
        const changed = data.slice();
        changed[0] = changed[0]! ^ 1;
        assert.equal(verifiesWith(issued.certificate, changed, signature), false);
        signers.set(algorithm.key, signer);
      });
    }

    for (const algorithm of ALGORITHMS) {
      test(`${algorithm.key}: a stamp signed through the store is valid for the verifier and OpenSSL`, async (t) => {
        const signer = signers.get(algorithm.key);
        assert.ok(signer, 'the signer of the test before');
        const stamped = await stampDocument(
          {
            pdf: minimalPdf(),
            serial: testSerial,
            verifyUrl: testVerifyUrl,
            reason: 'Surat Pernyataan',
            signingTime,
          },
          nodeStampEnvironment(signer),
        );
        const report = await verifyDocument(stamped.pdf, { trustAnchors: [pki.root.certificate] });
        assert.equal(report.verdict, 'valid', JSON.stringify(report.reasons));
        assert.equal(report.signatures[0]!.checks.signature, 'ok');
        assert.equal(report.signatures[0]!.checks.chain, 'ok');

        const skip = toolSkipReason('openssl');
        if (skip !== null) return t.skip(skip);
        const [, gapStart, gapEnd, tailLength] = stamped.byteRange;
        const signedBytes = Buffer.concat([
          stamped.pdf.subarray(0, gapStart),
          stamped.pdf.subarray(gapEnd, gapEnd + tailLength),
        ]);
        assert.deepEqual(
          new Uint8Array(createHash('sha256').update(signedBytes).digest()),
          stamped.contentDigest,
        );
        const directory = temporaryDirectory('bubuh-keystore-cms-');
        try {
          const files = {
            content: join(directory.path, 'signed-ranges.bin'),
            signature: join(directory.path, 'signature.der'),
            root: join(directory.path, 'root.pem'),
          };
          writeFileSync(files.content, signedBytes);
          writeFileSync(files.signature, cmsFromGap(stamped.pdf, stamped.byteRange).der);
          writeFileSync(files.root, pki.root.certificatePem);
          const result = await runTool('openssl', [
            'cms',
            '-verify',
            '-binary',
            '-inform',
            'DER',
            '-in',
            files.signature,
            '-content',
            files.content,
            '-CAfile',
            files.root,
            '-purpose',
            'any',
            '-out',
            '/dev/null',
          ]);
          assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
          assert.match(`${result.stdout}${result.stderr}`, /Verification successful/);
        } finally {
          directory.remove();
        }
      });
    }

    test('a missing key is KEYSTORE_KEY_NOT_FOUND', async () => {
      const certificate = signers.get('ECDSA-P256')!.certificate;
      const details = { store: store.kind, label: 'absent-key' };
      assert.equal(await store.hasKey('absent-key'), false);
      await assertRefusal(store.signer('absent-key', certificate, []), 'KEYSTORE_KEY_NOT_FOUND', details);
      await assertRefusal(store.publicKey('absent-key'), 'KEYSTORE_KEY_NOT_FOUND', details);
      assert.equal(await store.deleteKey('absent-key'), false);
    });

    test('an existing label is never overwritten: KEYSTORE_KEY_EXISTS', async () => {
      const before = await store.publicKey('contract-ecdsa-p256');
      await assertRefusal(store.generateKey('contract-ecdsa-p256', 'ECDSA-P256'), 'KEYSTORE_KEY_EXISTS', {
        store: store.kind,
        label: 'contract-ecdsa-p256',
      });
      assert.deepEqual(await store.publicKey('contract-ecdsa-p256'), before);
    });

    test('a certificate of another key is refused before the first signature', async () => {
      await assertRefusal(
        store.signer('contract-ecdsa-p256', pki.signer.certificate, [pki.issuingCa.certificate]),
        'PADES_CERTIFICATE_INVALID',
        { problem: 'the private key does not match the certificate' },
      );
    });

    for (const algorithm of ALGORITHMS) {
      test(`${algorithm.key}: 200 concurrent signatures all verify`, async () => {
        const signer = signers.get(algorithm.key)!;
        const inputs = Array.from({ length: 200 }, (_, index) =>
          fixedBytes(`concurrent ${index}`, 64 + index),
        );
        const signatures = await Promise.all(inputs.map((data) => signer.sign(data)));
        const failures = inputs.filter(
          (data, index) => !verifiesWith(signer.certificate, data, signatures[index]!),
        ).length;
        assert.equal(failures, 0);
      });
    }

    test('a deleted key is gone', async () => {
      const label = 'contract-deleted';
      await store.generateKey(label, 'ECDSA-P256');
      assert.equal(await store.deleteKey(label), true);
      assert.equal(await store.hasKey(label), false);
      await assertRefusal(store.publicKey(label), 'KEYSTORE_KEY_NOT_FOUND', { store: store.kind, label });
      assert.equal(await store.deleteKey(label), false);
    });
  });
}
