/**
 * `bubuh stamp --lt` puts the issuing CA's current CRL (the bytes `crl.der` holds and `/pki/crl.der`
 * serves) into the /DSS next to the certificates; pdfsig, qpdf and mutool still accept the file, and
 * the offline verifier, given no CRL at all, reads the revocation from the document's own DSS: a signer
 * revoked (a `revocations` row) before the stamp makes it invalid.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { minimalPdf } from '../pdf/fixture-builder.js';
import { isArray, isDict, isRef, PdfStream } from '../pdf/objects.js';
import { assertPdfsigAllValid, assertQpdfClean } from '../stamping/testing/external-checks.js';
import { openWithHandler } from '../stamping/testing/stamp-fixtures.js';
import { runTool, toolSkipReason } from '../stamping/testing/tools.js';
import { openStorage } from '../storage/database.js';
import { repositoryRoot } from '../testing/corpus.js';
import { type VerificationReport, verifyDocument } from '../verify/verify-document.js';
import { certificateSerialOf, readCrlFacts } from './crl.js';
import { CRL_FILE_NAME, loadDevPki, pkiDirectory } from './key-files.js';
import { fingerprintOf, revokeCertificate } from './revocations.js';

const bin = join(repositoryRoot(), 'bin', 'bubuh.js');
const data = mkdtempSync(join(tmpdir(), 'bubuh-dss-crl-'));

after(() => rmSync(data, { recursive: true, force: true }));

function bubuh(args: string[]) {
  // SQLite in the data directory: the CLI's own database, as a person running it offline has.
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const result = spawnSync(process.execPath, [bin, ...args, '--data', data], {
    encoding: 'utf8',
    env: { ...inherited, LOG_LEVEL: 'silent' },
  });
  assert.equal(result.status, 0, `bubuh ${args.join(' ')}:\n${result.stdout}${result.stderr}`);
  return result;
}

/** The decoded streams the file's /DSS lists under `key`, as hex. */
function dssStreams(pdf: Uint8Array, key: 'CRLs' | 'Certs'): string[] {
  const document = openWithHandler(pdf);
  const dss = document.resolve(document.catalog.get('DSS'));
  assert.ok(isDict(dss));
  const list = dss.get(key);
  assert.ok(isArray(list));
  return list.map((ref) => {
    assert.ok(isRef(ref));
    const stream = document.getObject(ref);
    assert.ok(stream instanceof PdfStream);
    return Buffer.from(document.decodeStream(stream)).toString('hex');
  });
}

function summary(report: VerificationReport) {
  const [signature] = report.signatures;
  return {
    verdict: report.verdict,
    signatures: report.signatures.length,
    signatureVerdict: signature!.verdict,
    revocation: signature!.checks.revocation,
    codes: signature!.findings.map((item) => item.code),
  };
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

test('bubuh stamp --lt: the /DSS holds the current CRL; tools accept it; a revoked signer is caught offline', async (t) => {
  const input = join(data, 'letter.pdf');
  writeFileSync(input, minimalPdf('/MediaBox [0 0 595 842]'));

  const first = join(data, 'first-lt.pdf');
  bubuh(['stamp', input, '-o', first, '--lt']);
  const pki = (await loadDevPki(data))!;
  const firstCrl = new Uint8Array(readFileSync(join(pkiDirectory(data), CRL_FILE_NAME)));
  assert.deepEqual(readCrlFacts(firstCrl).entries, []);
  const firstPdf = new Uint8Array(readFileSync(first));
  assert.deepEqual(dssStreams(firstPdf, 'CRLs'), [hex(firstCrl)]);
  assert.deepEqual(dssStreams(firstPdf, 'Certs'), [
    hex(pki.signer.certificate),
    hex(pki.issuingCa.certificate),
    hex(pki.root.certificate),
    hex(pki.tsa.certificate),
  ]);
  // Offline, no CRL passed: the DSS CRL does not list the signer, but it was issued before the
  // time-stamped signing time, so it cannot prove the signer good then: revocation stays unknown.
  assert.deepEqual(summary(await verifyDocument(firstPdf, { trustAnchors: [pki.root.certificate] })), {
    verdict: 'valid_with_later_changes',
    signatures: 1,
    signatureVerdict: 'valid_with_later_changes',
    revocation: 'unknown',
    codes: ['time_stamp_valid', 'later_revisions_harmless'],
  });

  // Revoked by a row alone, as another node sharing the database records it (`bubuh pki revoke` on
  // this node would also give it a new signer at once): this node still signs with it, and its next
  // B-LT stamp's DSS carries the CRL reissued from the row.
  const signerSerial = certificateSerialOf(pki.signer.certificate);
  const storage = await openStorage({ dataDir: data });
  try {
    await revokeCertificate(storage, {
      serial: signerSerial,
      reason: 'keyCompromise',
      issuerFingerprint: fingerprintOf(pki.issuingCa.certificate),
    });
  } finally {
    await storage.close();
  }
  // The revocation's time is cut to the second; the stamp must come strictly after it.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const second = join(data, 'second-lt.pdf');
  bubuh(['stamp', input, '-o', second, '--lt']);
  const secondCrl = new Uint8Array(readFileSync(join(pkiDirectory(data), CRL_FILE_NAME)));
  assert.deepEqual(
    readCrlFacts(secondCrl).entries.map((entry) => [entry.serial, entry.reason]),
    [[signerSerial, 'keyCompromise']],
  );
  const secondPdf = new Uint8Array(readFileSync(second));
  assert.deepEqual(dssStreams(secondPdf, 'CRLs'), [hex(secondCrl)]);
  assert.deepEqual(summary(await verifyDocument(secondPdf, { trustAnchors: [pki.root.certificate] })), {
    verdict: 'invalid',
    signatures: 1,
    signatureVerdict: 'invalid',
    revocation: 'certificate_revoked',
    codes: ['time_stamp_valid', 'certificate_revoked', 'later_revisions_harmless'],
  });

  for (const tool of ['qpdf', 'pdfsig', 'mutool'] as const) {
    const skip = toolSkipReason(tool);
    if (skip !== null) return t.skip(skip);
  }
  for (const file of [first, second]) {
    await assertQpdfClean(file);
    // pdfsig checks the signature itself (it is not told our root or CRL).
    await assertPdfsigAllValid(file, 1);
    const mutool = await runTool('mutool', ['sign', '-v', file]);
    assert.equal(mutool.status, 0, `${mutool.stdout}${mutool.stderr}`);
    assert.match(
      mutool.stdout,
      /^\tThe signature is valid but there have been edits since signing\.$/m,
      mutool.stdout,
    );
  }
});
