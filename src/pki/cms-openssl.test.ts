/**
 * End-to-end: a development hierarchy signs a detached CMS through the Node signer, and OpenSSL — an
 * implementation we did not write — verifies it against the root certificate.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { buildCmsSignature, estimateCmsSize } from '../pades/cms.js';
import { type DevPki, generateDevPki } from './dev-pki.js';
import { createNodeSigner } from './node-signer.js';

const opensslProbe = spawnSync('openssl', ['version'], { encoding: 'utf8' });
const opensslSkipReason =
  opensslProbe.status === 0
    ? null
    : 'openssl is not installed (Debian package "openssl"); OpenSSL CMS checks skipped';

let directory = '';
const hierarchies = new Map<string, DevPki>();

before(async () => {
  directory = mkdtempSync(join(tmpdir(), 'bubuh-cms-'));
  hierarchies.set('ECDSA-P256', await generateDevPki({ keyAlgorithm: 'ECDSA-P256' }));
  hierarchies.set('RSA-2048', await generateDevPki({ keyAlgorithm: 'RSA-2048' }));
});

after(() => {
  rmSync(directory, { recursive: true, force: true });
});

function openssl(args: string[]): { status: number | null; output: string } {
  const result = spawnSync('openssl', args, { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** Signs `content` with the named hierarchy and writes content, signature and root to files. */
async function signToFiles(name: string, content: Uint8Array) {
  const pki = hierarchies.get(name)!;
  const signer = createNodeSigner({
    privateKeyPem: pki.signer.privateKeyPem,
    certificate: pki.signer.certificate,
    chain: [pki.issuingCa.certificate],
  });
  const contentDigest = new Uint8Array(createHash('sha256').update(content).digest());
  const cms = await buildCmsSignature({ contentDigest, signer });
  assert.ok(
    cms.length <= estimateCmsSize(signer, { unsignedAttributeBytes: 0 }),
    'estimate is an upper bound',
  );
  const files = {
    content: join(directory, `${name}-data.bin`),
    signature: join(directory, `${name}-sig.der`),
    root: join(directory, `${name}-root.pem`),
  };
  writeFileSync(files.content, content);
  writeFileSync(files.signature, cms);
  writeFileSync(files.root, pki.root.certificatePem);
  return files;
}

function verifyArgs(files: { content: string; signature: string; root: string }): string[] {
  return ['cms', '-verify', '-binary', '-inform', 'DER', '-in', files.signature, '-content', files.content];
}

const CONTENT = new TextEncoder().encode('%PDF-1.7 byte ranges stand-in: surat pernyataan bermeterai\n');

for (const name of ['ECDSA-P256', 'RSA-2048']) {
  test(`${name}: OpenSSL verifies the detached CMS against the root`, async (t) => {
    if (opensslSkipReason !== null) return t.skip(opensslSkipReason);
    const files = await signToFiles(name, CONTENT);
    const base = verifyArgs(files);
    const anyPurpose = openssl([...base, '-CAfile', files.root, '-purpose', 'any', '-out', '/dev/null']);
    assert.equal(anyPurpose.status, 0, anyPurpose.output);
    assert.match(anyPurpose.output, /Verification successful/);
    // The default purpose is S/MIME signing, which needs emailProtection in the extended key usage.
    const smime = openssl([...base, '-CAfile', files.root, '-out', '/dev/null']);
    assert.equal(smime.status, 0, smime.output);
  });

  test(`${name}: one changed content byte makes OpenSSL refuse`, async (t) => {
    if (opensslSkipReason !== null) return t.skip(opensslSkipReason);
    const files = await signToFiles(name, CONTENT);
    const tampered = CONTENT.slice();
    tampered[5] = tampered[5]! ^ 0x01;
    writeFileSync(files.content, tampered);
    const result = openssl([
      ...verifyArgs(files),
      '-CAfile',
      files.root,
      '-purpose',
      'any',
      '-out',
      '/dev/null',
    ]);
    assert.notEqual(result.status, 0);
    assert.match(result.output, /Verification failure/);
    assert.match(result.output, /CMS_SignerInfo_verify_content:verification failure/);
  });
}

test('OpenSSL sees exactly three signed attributes and no signing-time', async (t) => {
  if (opensslSkipReason !== null) return t.skip(opensslSkipReason);
  const files = await signToFiles('ECDSA-P256', CONTENT);
  const printed = openssl(['cms', '-cmsout', '-print', '-inform', 'DER', '-in', files.signature]);
  assert.equal(printed.status, 0, printed.output);
  const signedAttributes = printed.output.slice(
    printed.output.indexOf('signedAttrs:'),
    printed.output.indexOf('signatureAlgorithm:', printed.output.indexOf('signedAttrs:')),
  );
  const objects = [...signedAttributes.matchAll(/object: (.+)/g)].map((match) => match[1]!.trim());
  assert.deepEqual(objects, [
    'contentType (1.2.840.113549.1.9.3)',
    'messageDigest (1.2.840.113549.1.9.4)',
    'id-smime-aa-signingCertificateV2 (1.2.840.113549.1.9.16.2.47)',
  ]);
  assert.doesNotMatch(printed.output, /signingTime/);
  assert.match(printed.output, /eContent: <ABSENT>/);
  assert.match(printed.output, /unsignedAttrs:\s+<ABSENT>/);
  assert.equal(
    [...printed.output.matchAll(/d\.certificate:/g)].length,
    2,
    'signer and issuing CA, not the root',
  );
});
