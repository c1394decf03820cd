import assert from 'node:assert/strict';
import { createPublicKey, generateKeyPairSync, verify, X509Certificate } from 'node:crypto';
import { before, test } from 'node:test';
import { isBubuhError } from '../errors.js';
import { type DevPki, generateDevPki } from './dev-pki.js';
import { createNodeSigner } from './node-signer.js';

const DATA = new TextEncoder().encode('signed attributes stand-in');
let ecdsa: DevPki;
let rsa: DevPki;

before(async () => {
  ecdsa = await generateDevPki({ keyAlgorithm: 'ECDSA-P256' });
  rsa = await generateDevPki({ keyAlgorithm: 'RSA-2048' });
});

function signerOf(pki: DevPki) {
  return createNodeSigner({
    privateKeyPem: pki.signer.privateKeyPem,
    certificate: pki.signer.certificate,
    chain: [pki.issuingCa.certificate],
  });
}

test('ECDSA P-256 signatures are DER Ecdsa-Sig-Values that verify with the certificate key', async () => {
  const signer = signerOf(ecdsa);
  assert.equal(signer.algorithm, 'ECDSA-P256-SHA256');
  assert.deepEqual(signer.chain, [ecdsa.issuingCa.certificate]);
  const signature = await signer.sign(DATA);
  assert.equal(signature[0], 0x30);
  assert.ok(signature.length >= 8 && signature.length <= 72);
  const publicKey = new X509Certificate(ecdsa.signer.certificate).publicKey;
  assert.equal(verify('sha256', DATA, { key: publicKey, dsaEncoding: 'der' }, signature), true);
  assert.equal(verify('sha256', DATA.subarray(1), { key: publicKey, dsaEncoding: 'der' }, signature), false);
});

test('RSA-2048 signatures are PKCS#1 v1.5 of the modulus length', async () => {
  const signer = signerOf(rsa);
  assert.equal(signer.algorithm, 'RSA-PKCS1-SHA256');
  const signature = await signer.sign(DATA);
  assert.equal(signature.length, 256);
  const publicKey = createPublicKey(
    new X509Certificate(rsa.signer.certificate).publicKey.export({ type: 'spki', format: 'pem' }),
  );
  assert.equal(verify('sha256', DATA, publicKey, signature), true);
});

test('a key that does not belong to the certificate is refused at creation', () => {
  assert.throws(
    () =>
      createNodeSigner({
        privateKeyPem: rsa.signer.privateKeyPem,
        certificate: ecdsa.signer.certificate,
        chain: [],
      }),
    (error) =>
      isBubuhError(error) &&
      error.code === 'PADES_CERTIFICATE_INVALID' &&
      /does not match/.test(error.message),
  );
});

test('keys other than P-256 or RSA of at least 2048 bits are refused', () => {
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  });
  const p384 = generateKeyPairSync('ec', { namedCurve: 'secp384r1' }).privateKey.export({
    type: 'pkcs8',
    format: 'pem',
  });
  for (const privateKeyPem of [String(small), String(p384)]) {
    assert.throws(
      () => createNodeSigner({ privateKeyPem, certificate: ecdsa.signer.certificate, chain: [] }),
      (error) => isBubuhError(error) && error.code === 'PADES_CERTIFICATE_INVALID',
    );
  }
});
