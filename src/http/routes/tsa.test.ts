/**
 * `POST /tsa` on a listening node: an OpenSSL-made query (SHA-256, nonce, certReq) is answered with a
 * reply that `openssl ts -verify -queryfile` accepts against root + issuing CA; a malformed query gets a
 * rejection TimeStampResp; a wrong content type and an oversized body are refused inside the protocol
 * too. The route never touches storage, so one (SQLite) node is enough.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadConfig } from '../../config.js';
import { createLogger } from '../../logger.js';
import { type BubuhNode, createNode } from '../../node.js';
import { pkiDirectory } from '../../pki/key-files.js';
import { runTool, temporaryDirectory, toolSkipReason } from '../../stamping/testing/tools.js';
import { isBubuhError } from '../../errors.js';
import { httpTimeStamper } from '../../tsa/node-time-stamper.js';
import {
  parseTimeStampResponse,
  parseTstInfo,
  PkiFailure,
  PkiStatus,
  tokenTstInfo,
} from '../../tsa/protocol.js';
import { buildApp } from '../app.js';
import { tsaRequestBytesMax } from './tsa.js';

const directory = temporaryDirectory('bubuh-tsa-http-');
let node: BubuhNode;
let app: FastifyInstance;
let url = '';

before(async () => {
  const config = loadConfig({}, { BUBUH_DATA_DIR: join(directory.path, 'data') });
  node = await createNode(config, createLogger('silent'));
  app = await buildApp(node);
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  url = `${address}/tsa`;
});

after(async () => {
  await app.close();
  await node.close();
  directory.remove();
});

function path(name: string): string {
  return join(directory.path, name);
}

function output(result: { stdout: string; stderr: string }): string {
  return `${result.stdout}${result.stderr}`;
}

async function post(body: Uint8Array, type = 'application/timestamp-query') {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
  return {
    status: response.status,
    type: response.headers.get('content-type'),
    body: new Uint8Array(await response.arrayBuffer()),
  };
}

function statusOf(body: Uint8Array) {
  const parsed = parseTimeStampResponse(body);
  assert.ok(typeof parsed !== 'string', String(parsed));
  return { status: parsed.status, failures: parsed.failures, token: parsed.token !== null };
}

test('an OpenSSL query over HTTP gets a reply that openssl ts -verify accepts', async (t) => {
  const skip = toolSkipReason('openssl');
  if (skip !== null) return t.skip(skip);
  writeFileSync(path('F'), 'dokumen yang dicap waktu\n');
  const query = await runTool('openssl', [
    'ts',
    '-query',
    '-data',
    path('F'),
    '-sha256',
    '-cert',
    '-out',
    path('q.tsq'),
  ]);
  assert.equal(query.status, 0, output(query));
  const answer = await post(new Uint8Array(readFileSync(path('q.tsq'))));
  assert.equal(answer.status, 200);
  assert.equal(answer.type, 'application/timestamp-reply');
  writeFileSync(path('r.tsr'), answer.body);
  const pki = pkiDirectory(join(directory.path, 'data'));
  const chain = `${readFileSync(join(pki, 'root.pem'), 'utf8').trim()}\n${readFileSync(join(pki, 'ca.pem'), 'utf8').trim()}\n`;
  writeFileSync(path('chain.pem'), chain);
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
});

test('a malformed query gets a rejection reply with badDataFormat', async () => {
  const answer = await post(Uint8Array.from([0x30, 0x03, 0x02, 0x01]));
  assert.equal(answer.status, 200);
  assert.equal(answer.type, 'application/timestamp-reply');
  assert.deepEqual(statusOf(answer.body), {
    status: PkiStatus.rejection,
    failures: [PkiFailure.badDataFormat],
    token: false,
  });
});

test('a wrong content type is 415 and an oversized body 413, both with a badRequest reply', async () => {
  const wrongType = await post(Uint8Array.of(0x30, 0x00), 'application/octet-stream');
  assert.equal(wrongType.status, 415);
  assert.equal(wrongType.type, 'application/timestamp-reply');
  assert.deepEqual(statusOf(wrongType.body), {
    status: PkiStatus.rejection,
    failures: [PkiFailure.badRequest],
    token: false,
  });
  const oversized = await post(new Uint8Array(tsaRequestBytesMax + 1));
  assert.equal(oversized.status, 413);
  assert.equal(oversized.type, 'application/timestamp-reply');
  assert.deepEqual(statusOf(oversized.body), {
    status: PkiStatus.rejection,
    failures: [PkiFailure.badRequest],
    token: false,
  });
});

test('the external-TSA client: a token from /tsa, TSA_UNAVAILABLE when nobody answers', async () => {
  const signatureValue = Uint8Array.from({ length: 70 }, (_, index) => index);
  const token = await httpTimeStamper({ url, timeoutMs: 5000 }).timeStamp(signatureValue);
  const content = tokenTstInfo(token);
  assert.ok(typeof content !== 'string');
  const info = parseTstInfo(content);
  assert.ok(typeof info !== 'string');
  assert.equal(
    Buffer.from(info.messageImprint.hashedMessage).toString('hex'),
    createHash('sha256').update(signatureValue).digest('hex'),
  );
  const refusedWith = async (target: string) => {
    try {
      await httpTimeStamper({ url: target, timeoutMs: 2000 }).timeStamp(signatureValue);
    } catch (error) {
      assert.ok(isBubuhError(error), String(error));
      return { code: error.code, problem: error.details['problem'] };
    }
    throw new Error('no refusal');
  };
  assert.deepEqual(await refusedWith(url.replace('/tsa', '/no-tsa-here')), {
    code: 'TSA_UNAVAILABLE',
    problem: 'HTTP status 404',
  });
  const closed = await refusedWith('http://127.0.0.1:1/tsa');
  assert.equal(closed.code, 'TSA_UNAVAILABLE');
});
