import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as x509 from '@peculiar/x509';
import {
  generateDevPki,
  ISSUING_CA_SUBJECT,
  ROOT_CA_SUBJECT,
  SIGNER_EXTENDED_KEY_USAGES,
} from './dev-pki.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const SKEW_MS = 5 * 60 * 1000;

function extension<T extends x509.Extension>(
  certificate: x509.X509Certificate,
  type: new (raw: ArrayBuffer) => T,
): T {
  const found = certificate.getExtension(type);
  assert.ok(found, `extension ${type.name} is present`);
  return found;
}

test('the hierarchy has the names, lifetimes and extensions of the design', async () => {
  const now = new Date(Date.UTC(2026, 5, 1, 12, 0, 0));
  const pki = await generateDevPki({ now, validityDays: 7, nodeName: 'node-7' });
  const root = new x509.X509Certificate(pki.root.certificate);
  const ca = new x509.X509Certificate(pki.issuingCa.certificate);
  const signer = new x509.X509Certificate(pki.signer.certificate);
  assert.equal(root.subject, ROOT_CA_SUBJECT);
  assert.equal(root.issuer, ROOT_CA_SUBJECT);
  assert.equal(ca.subject, ISSUING_CA_SUBJECT);
  assert.equal(ca.issuer, ROOT_CA_SUBJECT);
  assert.equal(signer.subject, 'CN=bubuh Development Signer node-7 (NOT FOR PRODUCTION), O=bubuh, C=ID');
  assert.equal(signer.issuer, ISSUING_CA_SUBJECT);
  assert.equal(root.notBefore.getTime(), now.getTime() - SKEW_MS);
  assert.equal(root.notAfter.getTime(), now.getTime() + 3652 * DAY_MS);
  assert.equal(ca.notAfter.getTime(), now.getTime() + 1826 * DAY_MS);
  assert.equal(signer.notAfter.getTime(), now.getTime() + 7 * DAY_MS);

  const rootConstraints = extension(root, x509.BasicConstraintsExtension);
  assert.deepEqual(
    [rootConstraints.ca, rootConstraints.pathLength, rootConstraints.critical],
    [true, undefined, true],
  );
  const caConstraints = extension(ca, x509.BasicConstraintsExtension);
  assert.deepEqual([caConstraints.ca, caConstraints.pathLength, caConstraints.critical], [true, 0, true]);
  const caUsage = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;
  assert.equal(extension(root, x509.KeyUsagesExtension).usages, caUsage);
  assert.equal(extension(ca, x509.KeyUsagesExtension).usages, caUsage);
  const signerUsage = extension(signer, x509.KeyUsagesExtension);
  assert.equal(signerUsage.usages, x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation);
  assert.equal(signerUsage.critical, true);
  assert.deepEqual(
    [...extension(signer, x509.ExtendedKeyUsageExtension).usages],
    [...SIGNER_EXTENDED_KEY_USAGES],
  );
  assert.deepEqual(SIGNER_EXTENDED_KEY_USAGES, ['1.3.6.1.5.5.7.3.36', '1.3.6.1.5.5.7.3.4']);
  assert.equal(signer.getExtension(x509.BasicConstraintsExtension), null);

  // Each authority key identifier names the issuer's subject key identifier.
  const rootKeyId = extension(root, x509.SubjectKeyIdentifierExtension).keyId;
  const caKeyId = extension(ca, x509.SubjectKeyIdentifierExtension).keyId;
  assert.equal(extension(ca, x509.AuthorityKeyIdentifierExtension).keyId, rootKeyId);
  assert.equal(extension(signer, x509.AuthorityKeyIdentifierExtension).keyId, caKeyId);
  assert.ok(await ca.verify({ publicKey: root.publicKey, signatureOnly: true }));
  assert.ok(await signer.verify({ publicKey: ca.publicKey, signatureOnly: true }));
  assert.match(pki.signer.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
});

test('serial numbers are positive and distinct', async () => {
  const pki = await generateDevPki();
  const serials = [pki.root, pki.issuingCa, pki.signer].map(
    (item) => new x509.X509Certificate(item.certificate).serialNumber,
  );
  assert.equal(new Set(serials).size, 3);
  for (const serial of serials) assert.match(serial, /^[0-7][0-9a-f]{31}$/);
});

test('bad options are programmer errors', async () => {
  await assert.rejects(generateDevPki({ validityDays: 0 }), /invariant/);
  await assert.rejects(generateDevPki({ nodeName: 'a b' }), /invariant/);
});
