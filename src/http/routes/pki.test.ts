/**
 * The public PKI endpoints and the serial record on both databases: the bytes served are the files in
 * the data directory, the CRL verifies against the issuing CA with OpenSSL and follows revocations in
 * the database, and the serial record answers valid, revoked, unknown and malformed serials exactly.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as x509 from '@peculiar/x509';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
import { createNode } from '../../node.js';
import { certificateSerialOf, readCrlFacts } from '../../pki/crl.js';
import { loadDevPki, pkiDirectory } from '../../pki/key-files.js';
import { fingerprintOf, revokeCertificate, revokeStamp } from '../../pki/revocations.js';
import { generateSerial } from '../../seal/serial.js';
import { fixedBytes } from '../../stamping/testing/stamp-fixtures.js';
import { runTool, toolSkipReason } from '../../stamping/testing/tools.js';
import { eachBackend } from '../../testing/backends.js';
import { buildApp } from '../app.js';

const serial = generateSerial((count) => fixedBytes('serial record one', count));
const otherSerial = generateSerial((count) => fixedBytes('serial record two', count));
const digest = 'ab12cd34ef56ab78' + '0'.repeat(48);
const stampedAt = Date.UTC(2025, 0, 15, 3, 4, 5, 678);

function derOfPem(path: string): Uint8Array {
  return new Uint8Array(x509.PemConverter.decodeFirst(readFileSync(path, 'utf8')));
}

test('the PKI endpoints serve the data directory files, and the CRL follows the revocations', async (t) => {
  await eachBackend(t, async (backend) => {
    const dataDir = backend.openOptions.dataDir;
    const config = loadConfig(
      {},
      { BUBUH_DATA_DIR: dataDir, DATABASE_URL: backend.openOptions.databaseUrl, BUBUH_CRL_VALIDITY_DAYS: 7 },
    );
    const node = await createNode(config, createLogger('silent'), {
      ...(backend.openOptions.postgresSchema ? { postgresSchema: backend.openOptions.postgresSchema } : {}),
    });
    const app = await buildApp(node);
    try {
      const directory = pkiDirectory(dataDir);
      const root = await app.inject({ method: 'GET', url: '/pki/root.der' });
      assert.equal(root.statusCode, 200);
      assert.equal(root.headers['content-type'], 'application/pkix-cert');
      assert.equal(root.headers['cache-control'], 'public, max-age=86400');
      assert.equal(root.headers['access-control-allow-origin'], '*');
      assert.deepEqual(new Uint8Array(root.rawPayload), derOfPem(join(directory, 'root.pem')));
      const ca = await app.inject({ method: 'GET', url: '/pki/ca.der' });
      assert.equal(ca.statusCode, 200);
      assert.equal(ca.headers['content-type'], 'application/pkix-cert');
      assert.deepEqual(new Uint8Array(ca.rawPayload), derOfPem(join(directory, 'ca.pem')));

      const before = Date.now();
      const crl = await app.inject({ method: 'GET', url: '/pki/crl.der' });
      assert.equal(crl.statusCode, 200);
      assert.equal(crl.headers['content-type'], 'application/pkix-crl');
      assert.equal(crl.headers['cache-control'], 'public, max-age=300');
      const first = new Uint8Array(crl.rawPayload);
      assert.deepEqual(first, new Uint8Array(readFileSync(join(directory, 'crl.der'))));
      const facts = readCrlFacts(first);
      assert.equal(facts.issuer, 'CN=bubuh Development Issuing CA (NOT FOR PRODUCTION), O=bubuh, C=ID');
      assert.deepEqual(facts.entries, []);
      assert.equal(facts.nextUpdate!.getTime() - facts.thisUpdate.getTime(), 7 * 86_400_000);
      assert.ok(facts.thisUpdate.getTime() >= Math.floor(before / 1000) * 1000);
      // Asked again, the same bytes: nothing changed, so nothing is reissued.
      const again = await app.inject({ method: 'GET', url: '/pki/crl.der' });
      assert.deepEqual(new Uint8Array(again.rawPayload), first);

      const pki = (await loadDevPki(dataDir))!;
      const signerSerial = certificateSerialOf(pki.signer.certificate);
      await revokeCertificate(node.storage, {
        serial: signerSerial,
        reason: 'keyCompromise',
        issuerFingerprint: fingerprintOf(pki.issuingCa.certificate),
      });
      const reissued = await app.inject({ method: 'GET', url: '/pki/crl.der' });
      const second = new Uint8Array(reissued.rawPayload);
      assert.deepEqual(second, new Uint8Array(readFileSync(join(directory, 'crl.der'))));
      const secondFacts = readCrlFacts(second);
      assert.deepEqual(
        secondFacts.entries.map((entry) => [entry.serial, entry.reason]),
        [[signerSerial, 'keyCompromise']],
      );
      assert.ok(secondFacts.number! > facts.number!, 'the CRL number grows');

      const opensslSkip = toolSkipReason('openssl');
      if (opensslSkip !== null) {
        t.diagnostic(opensslSkip);
        return;
      }
      const crlPath = join(dataDir, 'served-crl.der');
      writeFileSync(crlPath, second);
      const chainPath = join(dataDir, 'chain.pem');
      writeFileSync(chainPath, `${pki.issuingCa.certificatePem}\n${pki.root.certificatePem}\n`);
      const verified = await runTool('openssl', [
        'crl',
        '-inform',
        'DER',
        '-in',
        crlPath,
        '-CAfile',
        chainPath,
        '-noout',
      ]);
      assert.equal(verified.status, 0, verified.stderr);
      assert.equal(verified.stderr.trim(), 'verify OK');
      const text = await runTool('openssl', ['crl', '-inform', 'DER', '-in', crlPath, '-noout', '-text']);
      assert.match(text.stdout, /X509v3 CRL Number:/);
      assert.match(text.stdout, /X509v3 Authority Key Identifier:/);
      assert.match(text.stdout, /CRL Reason Code:\s+Key Compromise/);
      // openssl prints the serial's octets, so a leading zero nibble may or may not be there.
      assert.match(
        text.stdout,
        new RegExp(`Serial Number: 0*${signerSerial.replace(/^0+/, '').toUpperCase()}\\n`),
      );
    } finally {
      await app.close();
      await node.close();
    }
  });
});

test('the serial record: valid, revoked, unknown and malformed serials', async (t) => {
  await eachBackend(t, async (backend) => {
    const config = loadConfig(
      {},
      { BUBUH_DATA_DIR: backend.openOptions.dataDir, DATABASE_URL: backend.openOptions.databaseUrl },
    );
    const node = await createNode(config, createLogger('silent'), {
      ...(backend.openOptions.postgresSchema ? { postgresSchema: backend.openOptions.postgresSchema } : {}),
    });
    const app = await buildApp(node);
    try {
      await node.storage.db
        .insertInto('stamp_registry')
        .values({
          serial,
          content_digest: digest,
          transfer_id: 'transfer-1',
          signer_fingerprint: 'f'.repeat(64),
          page: 2,
          stamped_at: stampedAt,
          status: 'valid',
        })
        .execute();
      const valid = await app.inject({ method: 'GET', url: `/v1/serials/${serial}` });
      assert.equal(valid.statusCode, 200);
      assert.equal(valid.headers['cache-control'], 'no-cache');
      assert.equal(valid.headers['access-control-allow-origin'], '*');
      assert.deepEqual(valid.json(), {
        serial,
        status: 'valid',
        stamped_at: '2025-01-15T03:04:05.678Z',
        page: 2,
        digest_prefix: 'ab12cd34ef56ab78',
        revocation: null,
      });
      // As a person types it: lower case, in groups.
      const typed = `${serial.slice(0, 11).toLowerCase()}-${serial.slice(11)}`;
      const typedAnswer = await app.inject({ method: 'GET', url: `/v1/serials/${typed}` });
      assert.equal(typedAnswer.statusCode, 200);
      assert.equal(typedAnswer.json().serial, serial);

      const unknown = await app.inject({ method: 'GET', url: `/v1/serials/${otherSerial}` });
      assert.equal(unknown.statusCode, 404);
      assert.equal(unknown.headers['access-control-allow-origin'], '*');
      assert.deepEqual(unknown.json(), {
        error: {
          code: 'SERIAL_UNKNOWN',
          message: `No e-meterai with serial ${otherSerial} was issued here. Check the serial; an e-meterai without a record is not genuine.`,
          message_id: `Tidak ada e-meterai bernomor seri ${otherSerial} yang diterbitkan di sini. Periksa nomornya; e-meterai tanpa catatan tidak sah.`,
          details: { serial: otherSerial },
        },
      });

      const lastCheck = serial.charAt(21);
      const mistyped = serial.slice(0, 21) + (lastCheck === 'A' ? 'B' : 'A');
      const malformed = await app.inject({ method: 'GET', url: `/v1/serials/${mistyped}` });
      assert.equal(malformed.statusCode, 400);
      assert.deepEqual(malformed.json().error, {
        code: 'SERIAL_MALFORMED',
        message: `"${mistyped}" is not a valid e-meterai serial (check). Check the 22 characters on the seal.`,
        message_id: `"${mistyped}" bukan nomor seri e-meterai yang valid (check). Periksa kembali 22 karakter pada segel.`,
        details: { serial: mistyped, problem: 'check' },
      });
      const short = await app.inject({ method: 'GET', url: '/v1/serials/ABC' });
      assert.equal(short.statusCode, 400);
      assert.deepEqual(short.json().error.details, { serial: 'ABC', problem: 'length' });

      const revokedAt = new Date(Date.UTC(2025, 1, 1, 0, 0, 0));
      await revokeStamp(node.storage, { serial, reason: 'affiliationChanged', now: revokedAt });
      const row = await node.storage.db
        .selectFrom('stamp_registry')
        .select('status')
        .where('serial', '=', serial)
        .executeTakeFirstOrThrow();
      assert.equal(row.status, 'revoked');
      const revoked = await app.inject({ method: 'GET', url: `/v1/serials/${serial}` });
      assert.equal(revoked.statusCode, 200);
      assert.deepEqual(revoked.json(), {
        serial,
        status: 'revoked',
        stamped_at: '2025-01-15T03:04:05.678Z',
        page: 2,
        digest_prefix: 'ab12cd34ef56ab78',
        revocation: { reason: 'affiliationChanged', revoked_at: '2025-02-01T00:00:00.000Z' },
      });
      await assert.rejects(revokeStamp(node.storage, { serial, reason: 'superseded' }), {
        code: 'REVOCATION_EXISTS',
        message: `The e-meterai ${serial} was already revoked at 2025-02-01T00:00:00.000Z (affiliationChanged); a revocation is neither repeated nor undone.`,
      });
      await assert.rejects(revokeStamp(node.storage, { serial: otherSerial, reason: 'superseded' }), {
        code: 'REVOCATION_SERIAL_UNKNOWN',
      });
      const count = await node.storage.db
        .selectFrom('revocations')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      assert.equal(Number(count.n), 1, 'the refused revocation of an unknown serial left no row');
    } finally {
      await app.close();
      await node.close();
    }
  });
});
