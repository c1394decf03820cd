/**
 * The built-in TSA against OpenSSL, an implementation we did not write: its tokens verify with
 * `openssl ts -verify` (over a digest, and as a reply to an OpenSSL-made query with nonce and certReq);
 * every way a request can be wrong gets a rejection TimeStampResp with the RFC 3161 failure bit.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { objectIdentifier } from '../pades/der.js';
import { type DevPki, generateDevPki } from '../pki/dev-pki.js';
import { runTool, temporaryDirectory, toolSkipReason } from '../stamping/testing/tools.js';
import { fixedBytes } from '../stamping/testing/stamp-fixtures.js';
import type { TimeStampAuthority } from './authority.js';
import { createBuiltInAuthority } from './node-time-stamper.js';
import {
  DEFAULT_TSA_POLICY,
  encodeTimeStampRequest,
  generalizedTimeMillis,
  oidText,
  parseTimeStampResponse,
  parseTstInfo,
  PkiFailure,
  PkiStatus,
  tokenTstInfo,
  TspOid,
} from './protocol.js';

let pki: DevPki;
let authority: TimeStampAuthority;
const directory = temporaryDirectory('bubuh-tsa-');
const genTime = new Date('2025-03-04T05:06:07.089Z');

before(async () => {
  pki = await generateDevPki({ keyAlgorithm: 'ECDSA-P256', now: new Date('2025-01-01T00:00:00Z') });
  authority = createBuiltInAuthority(pki, { clock: () => genTime.getTime() });
  writeFileSync(
    join(directory.path, 'chain.pem'),
    `${pki.root.certificatePem.trim()}\n${pki.issuingCa.certificatePem.trim()}\n`,
  );
});

after(() => directory.remove());

function sha256(data: Uint8Array | string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

function path(name: string): string {
  return join(directory.path, name);
}

function output(result: { stdout: string; stderr: string }): string {
  return `${result.stdout}${result.stderr}`;
}

test('object identifiers with 128-bit arcs round-trip', () => {
  const encoded = objectIdentifier(DEFAULT_TSA_POLICY);
  assert.equal(oidText(encoded.subarray(2)), DEFAULT_TSA_POLICY);
  assert.equal(oidText(objectIdentifier(TspOid.tstInfo).subarray(2)), TspOid.tstInfo);
  // The second encoding of the policy comes from the cache and is the same.
  assert.equal(
    Buffer.from(objectIdentifier(DEFAULT_TSA_POLICY)).toString('hex'),
    Buffer.from(encoded).toString('hex'),
  );
  assert.throws(() => objectIdentifier('1.40'), /bad object identifier/);
});

test('GeneralizedTime: UTC digits, milliseconds without trailing zeros, none when whole', () => {
  const text = (iso: string) => {
    const encoded = generalizedTimeMillis(new Date(iso));
    assert.equal(encoded[0], 0x18);
    assert.equal(encoded[1], encoded.length - 2);
    return Buffer.from(encoded.subarray(2)).toString('latin1');
  };
  assert.equal(text('2025-03-04T05:06:07.089Z'), '20250304050607.089Z');
  assert.equal(text('2025-03-04T05:06:07.000Z'), '20250304050607Z');
  assert.equal(text('2024-09-15T23:59:59.100Z'), '20240915235959.1Z');
  assert.equal(text('2024-12-31T00:00:00.120Z'), '20241231000000.12Z');
  assert.equal(text('2026-01-01T10:20:30.005Z'), '20260101102030.005Z');
  assert.equal(text('2026-01-01T10:20:30.050Z'), '20260101102030.05Z');
  assert.equal(text('0999-02-03T04:05:06.700Z'), '09990203040506.7Z');
  assert.throws(() => generalizedTimeMillis(new Date(Number.NaN)), /four-digit year/);
});

test('a token carries the TSTInfo asked for: imprint, nonce, policy, 128-bit serial, genTime in ms', async () => {
  const hashedMessage = sha256('signature value');
  const nonce = Uint8Array.of(0x02, 0x03, 0x01, 0x02, 0x03);
  const issued = await authority.issueToken({
    messageImprint: { hashAlgorithm: TspOid.sha256, hashedMessage },
    nonce,
    certReq: true,
  });
  const content = tokenTstInfo(issued.token);
  assert.ok(typeof content !== 'string', String(content));
  const info = parseTstInfo(content);
  assert.ok(typeof info !== 'string', String(info));
  assert.equal(info.policy, DEFAULT_TSA_POLICY);
  assert.equal(info.messageImprint.hashAlgorithm, TspOid.sha256);
  assert.deepEqual(info.messageImprint.hashedMessage, hashedMessage);
  assert.deepEqual(info.nonce, nonce);
  assert.equal(info.genTime.toISOString(), '2025-03-04T05:06:07.089Z');
  assert.equal(info.serialNumber.length, 16);
  assert.deepEqual(info.serialNumber, issued.serialNumber);
  const other = await authority.issueToken({
    messageImprint: { hashAlgorithm: TspOid.sha256, hashedMessage },
    certReq: false,
  });
  assert.notDeepEqual(other.serialNumber, issued.serialNumber);
  // Without certReq the token carries no certificates, so it is smaller by about both of them.
  assert.ok(other.token.length < issued.token.length - pki.tsa.certificate.length);
});

test('openssl ts -verify accepts a token over a digest, against root + issuing CA', async (t) => {
  const skip = toolSkipReason('openssl');
  if (skip !== null) return t.skip(skip);
  const hashedMessage = sha256(fixedBytes('tsa digest', 64));
  const issued = await authority.issueToken({
    messageImprint: { hashAlgorithm: TspOid.sha256, hashedMessage },
    certReq: true,
  });
  writeFileSync(path('token.der'), issued.token);
  const verified = await runTool('openssl', [
    'ts',
    '-verify',
    '-digest',
    hex(hashedMessage),
    '-in',
    path('token.der'),
    '-token_in',
    '-CAfile',
    path('chain.pem'),
  ]);
  assert.equal(verified.status, 0, output(verified));
  assert.match(output(verified), /Verification: OK/);
  const wrong = await runTool('openssl', [
    'ts',
    '-verify',
    '-digest',
    hex(sha256('another message')),
    '-in',
    path('token.der'),
    '-token_in',
    '-CAfile',
    path('chain.pem'),
  ]);
  assert.notEqual(wrong.status, 0);
  assert.match(output(wrong), /message imprint mismatch/);
});

test('an OpenSSL query is answered with a reply that openssl ts -verify accepts', async (t) => {
  const skip = toolSkipReason('openssl');
  if (skip !== null) return t.skip(skip);
  writeFileSync(path('data.txt'), 'surat pernyataan bermeterai\n');
  const query = await runTool('openssl', [
    'ts',
    '-query',
    '-data',
    path('data.txt'),
    '-sha256',
    '-cert',
    '-out',
    path('q.tsq'),
  ]);
  assert.equal(query.status, 0, output(query));
  const reply = await authority.respond(new Uint8Array(readFileSync(path('q.tsq'))));
  writeFileSync(path('r.tsr'), reply);
  const verified = await runTool('openssl', [
    'ts',
    '-verify',
    '-in',
    path('r.tsr'),
    '-queryfile',
    path('q.tsq'),
    '-CAfile',
    path('chain.pem'),
  ]);
  assert.equal(verified.status, 0, output(verified));
  assert.match(output(verified), /Verification: OK/);
  const text = await runTool('openssl', ['ts', '-reply', '-in', path('r.tsr'), '-text']);
  assert.equal(text.status, 0, output(text));
  assert.match(text.stdout, /Status: Granted\./);
  assert.match(text.stdout, new RegExp(`Policy OID: ${DEFAULT_TSA_POLICY.replace(/\./g, '\\.')}`));
  assert.match(text.stdout, /Time stamp: Mar {2}4 05:06:07\.089 2025 GMT/);
  assert.match(text.stdout, /Nonce: 0x[0-9A-F]+/);
});

/** The status and failure bits of a reply. */
function rejection(reply: Uint8Array): { status: number; failures: readonly number[]; token: boolean } {
  const parsed = parseTimeStampResponse(reply);
  assert.ok(typeof parsed !== 'string', String(parsed));
  return { status: parsed.status, failures: parsed.failures, token: parsed.token !== null };
}

test('bad requests get a rejection with the RFC 3161 failure bit', async () => {
  const sha1 = '1.3.14.3.2.26';
  const cases: [string, Uint8Array, number][] = [
    ['not DER', Uint8Array.of(0x30, 0x05, 0x01), PkiFailure.badDataFormat],
    ['empty', new Uint8Array(0), PkiFailure.badDataFormat],
    ['version 2', Uint8Array.of(0x30, 0x03, 0x02, 0x01, 0x02), PkiFailure.badRequest],
    [
      'SHA-1',
      encodeTimeStampRequest({ messageImprint: { hashAlgorithm: sha1, hashedMessage: new Uint8Array(20) } }),
      PkiFailure.badAlg,
    ],
    [
      'short SHA-256',
      encodeTimeStampRequest({
        messageImprint: { hashAlgorithm: TspOid.sha256, hashedMessage: new Uint8Array(20) },
      }),
      PkiFailure.badDataFormat,
    ],
    [
      'another policy',
      encodeTimeStampRequest({
        messageImprint: { hashAlgorithm: TspOid.sha256, hashedMessage: new Uint8Array(32) },
        reqPolicy: '1.2.3.4',
      }),
      PkiFailure.unacceptedPolicy,
    ],
  ];
  for (const [name, request, bit] of cases) {
    assert.deepEqual(
      rejection(await authority.respond(request)),
      { status: PkiStatus.rejection, failures: [bit], token: false },
      name,
    );
  }
  const granted = rejection(
    await authority.respond(
      encodeTimeStampRequest({
        messageImprint: { hashAlgorithm: TspOid.sha256, hashedMessage: new Uint8Array(32) },
        reqPolicy: DEFAULT_TSA_POLICY,
      }),
    ),
  );
  assert.deepEqual(granted, { status: PkiStatus.granted, failures: [], token: true });
});

test('openssl reads a rejection as a rejection with its failure info', async (t) => {
  const skip = toolSkipReason('openssl');
  if (skip !== null) return t.skip(skip);
  writeFileSync(path('bad.tsr'), await authority.respond(Uint8Array.of(0x30, 0x00)));
  const text = await runTool('openssl', ['ts', '-reply', '-in', path('bad.tsr'), '-text']);
  assert.equal(text.status, 0, output(text));
  assert.match(text.stdout, /Status: Rejected\./);
  assert.match(text.stdout, /Status description: the request version is not 1/);
  // OpenSSL's name for badRequest.
  assert.match(text.stdout, /Failure info: transaction not permitted or supported/);
});
