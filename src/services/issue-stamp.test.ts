import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { checkLedger } from '../ledger/check.js';
import { Ledger } from '../ledger/ledger.js';
import { minimalPdf } from '../pdf/fixture-builder.js';
import { generateDevPki } from '../pki/dev-pki.js';
import { createNodeSigner } from '../pki/node-signer.js';
import { isValidSerial } from '../seal/serial.js';
import { nodeStampEnvironment } from '../stamping/node-environment.js';
import { eachBackend } from '../testing/backends.js';
import { issueStamp } from './issue-stamp.js';
import { provisionDevelopmentQuota } from './provision-development.js';

const pki = await generateDevPki();
const signer = createNodeSigner({
  privateKeyPem: pki.signer.privateKeyPem,
  certificate: pki.signer.certificate,
  chain: [pki.issuingCa.certificate],
});

function available(
  account: { creditsPosted: number; debitsPosted: number; debitsPending: number } | undefined,
) {
  return account ? account.creditsPosted - account.debitsPosted - account.debitsPending : 0;
}

test('issue a stamp: one unit spent, the serial registered with the signed digest, refusals refunded', async (t) => {
  await eachBackend(t, async ({ storage }) => {
    const ledger = new Ledger(storage, { batchTransfersMax: 64, queueTransfersMax: 1024 });
    const quota = await provisionDevelopmentQuota(ledger);
    assert.deepEqual(quota, { accountId: 'customer:development:quota', minted: 1000, available: 1000 });
    const dependencies = {
      ledger,
      environment: nodeStampEnvironment(signer),
      signerFingerprint: 'ef'.repeat(32),
      publicBaseUrl: 'https://bubuh.example',
      reservationTimeoutSeconds: 60,
      clock: () => 1_790_000_000_000,
    };
    const pdf = minimalPdf();
    const issued = await issueStamp(dependencies, {
      pdf,
      quotaAccountId: quota.accountId,
      reason: 'Surat Pernyataan',
    });
    assert.ok(isValidSerial(issued.serial));
    assert.deepEqual(issued.pdf.subarray(0, pdf.length), pdf);
    const digest = createHash('sha256')
      .update(issued.pdf.subarray(0, issued.byteRange[1]))
      .update(issued.pdf.subarray(issued.byteRange[2], issued.byteRange[2] + issued.byteRange[3]))
      .digest('hex');
    const rows = await storage.db.selectFrom('stamp_registry').selectAll().execute();
    assert.deepEqual(rows, [
      {
        serial: issued.serial,
        content_digest: digest,
        transfer_id: issued.transferId,
        signer_fingerprint: 'ef'.repeat(32),
        page: 1,
        stamped_at: 1_790_000_000_000,
        status: 'valid',
      },
    ]);
    const [spent] = await ledger.lookupTransfers([issued.transferId]);
    assert.equal(spent?.kind, 'post_pending');
    assert.equal(available((await ledger.lookupAccounts([quota.accountId]))[0]), 999);

    // A refused document (seal off the page) refunds its reservation before the error reaches us.
    const refused = await issueStamp(dependencies, {
      pdf,
      quotaAccountId: quota.accountId,
      x: 600,
      y: 10,
    }).catch((error: unknown) => error);
    assert.equal((refused as { code?: string }).code, 'SEAL_OUT_OF_PAGE');
    assert.equal(available((await ledger.lookupAccounts([quota.accountId]))[0]), 999);
    const broken = await issueStamp(dependencies, {
      pdf: new TextEncoder().encode('not a pdf'),
      quotaAccountId: quota.accountId,
    }).catch((error: unknown) => error);
    assert.equal((broken as { code?: string }).code, 'PDF_NOT_PDF');

    // No quota: refused with the available count, nothing reserved.
    await ledger.createAccounts([
      { id: 'customer:empty:quota', ledger: 1, code: 4, debitsMustNotExceedCredits: true },
    ]);
    const empty = await issueStamp(dependencies, { pdf, quotaAccountId: 'customer:empty:quota' }).catch(
      (error: unknown) => error,
    );
    assert.equal((empty as { code?: string }).code, 'QUOTA_INSUFFICIENT');
    assert.equal(
      (empty as { message?: string }).message,
      'Not enough e-meterai quota (0 available). Buy quota first.',
    );

    const report = await checkLedger(storage);
    assert.deepEqual(report.problems, []);
    assert.equal(report.pendingOpen, 0);
    assert.equal(report.totals.debitsPosted, 1001);
    await ledger.close();
  });
});
