/**
 * The verifier's online mode against a real node listening on port 0: a registered stamp is valid, a
 * revoked serial is invalid, a serial the registry never issued is invalid, a stamp lifted onto another
 * document (same serial, another digest) is invalid, an unreachable registry leaves the stamp
 * untrusted, and a copied seal drawing without a signature is no_stamp without asking anything.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../config.js';
import { buildApp } from '../http/app.js';
import { createLogger } from '../logger.js';
import { type BubuhNode, createNode } from '../node.js';
import { buildPdf, minimalPdf, streamBody } from '../pdf/fixture-builder.js';
import type { DevPki } from '../pki/dev-pki.js';
import { loadOrCreateDevPki } from '../pki/key-files.js';
import { createNodeSigner } from '../pki/node-signer.js';
import { revokeStamp } from '../pki/revocations.js';
import { drawSeal } from '../seal/seal.js';
import { generateSerial } from '../seal/serial.js';
import { nodeStampEnvironment } from '../stamping/node-environment.js';
import { stampDocument } from '../stamping/stamp-document.js';
import { fixedBytes } from '../stamping/testing/stamp-fixtures.js';
import type { RegistryFetch } from './registry.js';
import { type VerificationReport, verifyDocument } from './verify-document.js';
import { loopGuardOff } from '../testing/overload.js';

let dataDir: string;
let node: BubuhNode;
let app: FastifyInstance;
let pki: DevPki;
let registryUrl: string;
const signingTime = new Date(Math.floor(Date.now() / 1000) * 1000);

before(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'bubuh-registry-'));
  const config = loadConfig({}, { BUBUH_DATA_DIR: dataDir, DATABASE_URL: undefined, ...loopGuardOff });
  node = await createNode(config, createLogger('silent'));
  app = await buildApp(node);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  assert.ok(address !== null && typeof address === 'object');
  registryUrl = `http://127.0.0.1:${address.port}/`;
  pki = (await loadOrCreateDevPki(dataDir)).pki;
});

after(async () => {
  await app.close();
  await node.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function serialFor(label: string): string {
  return generateSerial((count) => fixedBytes(label, count));
}

/** Stamps a document with the node's signer; registers the serial unless told not to. */
async function stamp(serial: string, options: { register?: boolean; pdf?: Uint8Array } = {}) {
  const signer = createNodeSigner({
    privateKeyPem: pki.signer.privateKeyPem,
    certificate: pki.signer.certificate,
    chain: [pki.issuingCa.certificate],
  });
  const result = await stampDocument(
    { pdf: options.pdf ?? minimalPdf(), serial, verifyUrl: `http://localhost:8080/s/${serial}`, signingTime },
    nodeStampEnvironment(signer),
  );
  if (options.register !== false) {
    await node.storage.db
      .insertInto('stamp_registry')
      .values({
        serial,
        content_digest: Buffer.from(result.contentDigest).toString('hex'),
        transfer_id: `transfer-${serial}`,
        signer_fingerprint: 'f'.repeat(64),
        page: result.pageNumber,
        stamped_at: signingTime.getTime(),
        status: 'valid',
      })
      .execute();
  }
  return result;
}

/** globalThis.fetch, counting the requests. */
function countingFetch(): { fetch: RegistryFetch; urls: string[] } {
  const urls: string[] = [];
  return {
    urls,
    fetch: async (url, init) => {
      urls.push(url);
      const response = await fetch(url, { headers: { ...init.headers } });
      return { status: response.status, json: () => response.json() as Promise<unknown> };
    },
  };
}

function verifyOnline(pdf: Uint8Array, fetchLike: RegistryFetch, url = registryUrl) {
  return verifyDocument(pdf, {
    trustAnchors: [pki.root.certificate],
    online: { registryUrl: url, fetch: fetchLike },
  });
}

function summary(report: VerificationReport) {
  return {
    verdict: report.verdict,
    registry: report.signatures.map((signature) => signature.checks.registry),
    codes: report.signatures.map((signature) => signature.findings.map((item) => item.code)),
  };
}

test('a registered stamp is valid online, asked once by its serial', async () => {
  const serial = serialFor('online valid');
  const stamped = await stamp(serial);
  const counted = countingFetch();
  const report = await verifyOnline(stamped.pdf, counted.fetch);
  assert.deepEqual(summary(report), { verdict: 'valid', registry: ['ok'], codes: [[]] });
  assert.deepEqual(counted.urls, [`${registryUrl}v1/serials/${serial}`]);
  // Offline the registry is not asked and says so.
  const offline = await verifyDocument(stamped.pdf, { trustAnchors: [pki.root.certificate] });
  assert.deepEqual(summary(offline), { verdict: 'valid', registry: ['not_checked'], codes: [[]] });
});

test('a revoked e-meterai serial is invalid online: registry_serial_revoked', async () => {
  const serial = serialFor('online revoked');
  const stamped = await stamp(serial);
  const revokedAt = new Date(Date.UTC(2025, 5, 1, 8, 0, 0));
  await revokeStamp(node.storage, { serial, reason: 'cessationOfOperation', now: revokedAt });
  const report = await verifyOnline(stamped.pdf, countingFetch().fetch);
  assert.deepEqual(summary(report), {
    verdict: 'invalid',
    registry: ['registry_serial_revoked'],
    codes: [['registry_serial_revoked']],
  });
  const [item] = report.signatures[0]!.findings;
  assert.equal(
    item!.en,
    `The e-meterai ${serial} was revoked by the registry at 2025-06-01T08:00:00.000Z (cessationOfOperation).`,
  );
  assert.equal(
    item!.id,
    `E-meterai ${serial} telah dicabut oleh registri pada 2025-06-01T08:00:00.000Z (cessationOfOperation).`,
  );
  // The signature itself is still sound: offline the same file is valid.
  const offline = await verifyDocument(stamped.pdf, { trustAnchors: [pki.root.certificate] });
  assert.equal(offline.verdict, 'valid');
});

test('a serial the registry never issued is invalid online: registry_serial_unknown', async () => {
  const serial = serialFor('online unknown');
  const stamped = await stamp(serial, { register: false });
  const report = await verifyOnline(stamped.pdf, countingFetch().fetch);
  assert.deepEqual(summary(report), {
    verdict: 'invalid',
    registry: ['registry_serial_unknown'],
    codes: [['registry_serial_unknown']],
  });
  assert.equal(
    report.signatures[0]!.findings[0]!.en,
    `The registry at ${registryUrl.slice(0, -1)} has no e-meterai with serial ${serial}: it was not issued there.`,
  );
});

test('a serial reused on another document is invalid online: registry_digest_mismatch', async () => {
  const serial = serialFor('online reused');
  const original = await stamp(serial);
  const other = minimalPdf('/MediaBox [0 0 595 842]');
  const reused = await stamp(serial, { register: false, pdf: other });
  const report = await verifyOnline(reused.pdf, countingFetch().fetch);
  assert.deepEqual(summary(report), {
    verdict: 'invalid',
    registry: ['registry_digest_mismatch'],
    codes: [['registry_digest_mismatch']],
  });
  const registered = Buffer.from(original.contentDigest).toString('hex').slice(0, 16);
  const found = Buffer.from(reused.contentDigest).toString('hex').slice(0, 16);
  assert.equal(
    report.signatures[0]!.findings[0]!.en,
    `The registry binds serial ${serial} to another document (digest ${registered}…, this document ${found}…): the e-meterai was taken from another document.`,
  );
});

test('an unreachable registry leaves a sound stamp untrusted: registry_unavailable', async () => {
  const serial = serialFor('online unreachable');
  const stamped = await stamp(serial);
  const refusing: RegistryFetch = async () => {
    throw new Error('connection refused');
  };
  const report = await verifyOnline(stamped.pdf, refusing, 'https://registry.invalid');
  assert.deepEqual(summary(report), {
    verdict: 'untrusted',
    registry: ['registry_unavailable'],
    codes: [['registry_unavailable']],
  });
  assert.equal(
    report.signatures[0]!.findings[0]!.en,
    `The registry at https://registry.invalid could not be asked about serial ${serial} (connection refused); revocation and reuse were not checked.`,
  );
  const failing: RegistryFetch = async () => ({ status: 503, json: async () => ({}) });
  const busy = await verifyOnline(stamped.pdf, failing);
  assert.deepEqual(summary(busy).registry, ['registry_unavailable']);
  assert.match(busy.signatures[0]!.findings[0]!.en, /\(HTTP 503\)/);
});

test('a seal drawing copied onto a page without its signature stays no_stamp and asks nothing', async () => {
  const serial = serialFor('online copied');
  await stamp(serial);
  const seal = drawSeal({ serial, url: `http://localhost:8080/s/${serial}`, sizePt: 70 });
  const font = (name: string) =>
    `<< /Type /Font /Subtype /Type1 /BaseFont /${name} /Encoding /WinAnsiEncoding >>`;
  const copied = buildPdf({
    objects: [
      { number: 1, body: '<< /Type /Catalog /Pages 2 0 R >>' },
      { number: 2, body: '<< /Type /Pages /Kids [3 0 R] /Count 1 >>' },
      {
        number: 3,
        body: `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /${seal.resourceFontNames.regular} 5 0 R /${seal.resourceFontNames.bold} 6 0 R >> >> >>`,
      },
      { number: 4, body: streamBody('', seal.content) },
      { number: 5, body: font(seal.fonts.regular) },
      { number: 6, body: font(seal.fonts.bold) },
    ],
    trailer: '/Root 1 0 R',
  });
  const counted = countingFetch();
  const report = await verifyOnline(copied, counted.fetch);
  assert.equal(report.verdict, 'no_stamp');
  assert.deepEqual(report.signatures, []);
  assert.deepEqual(
    report.reasons.map((reason) => reason.code),
    ['no_stamp'],
  );
  assert.deepEqual(counted.urls, []);
});
