/**
 * Many nodes on one PKI: the shared hierarchy is made once even when nodes start together, each node
 * gets its own signer (its node id in the subject) from the one issuing CA, a node whose id changes
 * gets a new signer, and a stamped file missing from a node's files directory is a clear refusal.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import * as x509 from '@peculiar/x509';
import { accountStoreOf } from '../accounts/index.js';
import { openTestNode } from '../accounts/test-node.js';
import { buildApp } from '../http/app.js';
import { minimalPdf } from '../pdf/fixture-builder.js';
import { configuredPkiPaths, loadOrCreateDevPki, pkiDirectory, signerNodeNameOf } from '../pki/key-files.js';
import { certificateSerialOf } from '../pki/crl.js';
import { openFreshBackend, disposeBackend } from '../testing/backends.js';
import { mintQuota } from '../testing/quota.js';
import { defaultNodeId } from './settings.js';

test('the node id defaults to the host name, cleaned for a certificate subject', () => {
  assert.equal(defaultNodeId('web-1.example.co.id'), 'web-1.example.co.id');
  assert.equal(defaultNodeId('my host (2)'), 'my-host--2');
  assert.equal(defaultNodeId('***'), 'node-1');
  assert.equal(defaultNodeId('x'.repeat(80)), 'x'.repeat(64));
});

test('configured paths: one node keeps everything in <data>/pki; BUBUH_PKI_DIR moves the shared part', () => {
  assert.deepEqual(configuredPkiPaths({ dataDir: '/srv/a', pkiDir: undefined }), {
    shared: join('/srv/a', 'pki'),
    node: join('/srv/a', 'pki'),
  });
  assert.deepEqual(configuredPkiPaths({ dataDir: '/srv/a', pkiDir: 'shared/pki' }), {
    shared: resolve('shared/pki'),
    node: join('/srv/a', 'pki'),
  });
});

test('three nodes starting together on one PKI directory: one root, one CA, three signers', async () => {
  const root = await mkdtemp(join(tmpdir(), 'bubuh-shared-pki-'));
  try {
    const shared = join(root, 'shared');
    const names = ['node-a', 'node-b', 'node-c'];
    const loaded = await Promise.all(
      names.map((name) =>
        loadOrCreateDevPki({ shared, node: pkiDirectory(join(root, name)) }, { nodeName: name }),
      ),
    );
    assert.equal(loaded.filter((entry) => entry.created).length, 1);
    const fingerprints = (pick: (index: number) => Uint8Array) =>
      new Set(names.map((_, index) => Buffer.from(pick(index)).toString('hex')));
    assert.equal(fingerprints((index) => loaded[index]!.pki.root.certificate).size, 1);
    assert.equal(fingerprints((index) => loaded[index]!.pki.issuingCa.certificate).size, 1);
    assert.equal(fingerprints((index) => loaded[index]!.pki.signer.certificate).size, 3);
    const ca = new x509.X509Certificate(loaded[0]!.pki.issuingCa.certificate);
    for (const [index, name] of names.entries()) {
      const signer = loaded[index]!.pki.signer.certificate;
      assert.equal(signerNodeNameOf(signer), name);
      assert.equal(new x509.X509Certificate(signer).issuer, ca.subject);
      assert.equal(
        await new x509.X509Certificate(signer).verify({ publicKey: ca.publicKey, signatureOnly: true }),
        true,
      );
      // The node's own directory holds only its signer; the shared one holds no signer.
      assert.deepEqual((await readdir(pkiDirectory(join(root, name)))).sort(), ['signer.key', 'signer.pem']);
    }
    assert.equal(existsSync(join(shared, 'signer.pem')), false);
    assert.equal(existsSync(join(shared, '.init.lock')), false);
    // Every signer and the TSA are archived where any node can revoke them.
    const archived = (await readdir(join(shared, 'issued'))).sort();
    const expected = [
      ...loaded.map((entry) => certificateSerialOf(entry.pki.signer.certificate)),
      certificateSerialOf(loaded[0]!.pki.tsa.certificate),
    ]
      .map((serial) => `${serial}.pem`)
      .sort();
    assert.deepEqual(archived, expected);

    // Loading again changes nothing; a node whose id changed gets a signer under its new name.
    const again = await loadOrCreateDevPki(
      { shared, node: pkiDirectory(join(root, 'node-a')) },
      { nodeName: 'node-a' },
    );
    assert.deepEqual(again.pki.signer.certificate, loaded[0]!.pki.signer.certificate);
    assert.equal(again.signerRenewed, false);
    const renamed = await loadOrCreateDevPki(
      { shared, node: pkiDirectory(join(root, 'node-a')) },
      { nodeName: 'node-z' },
    );
    assert.equal(renamed.signerRenewed, true);
    assert.equal(signerNodeNameOf(renamed.pki.signer.certificate), 'node-z');
    assert.deepEqual(renamed.pki.root.certificate, loaded[0]!.pki.root.certificate);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('a stamped file missing from this node within retention is CLUSTER_FILE_NOT_SHARED', async () => {
  const backend = await openFreshBackend('sqlite');
  assert.ok(backend);
  const filesDir = await mkdtemp(join(tmpdir(), 'bubuh-files-'));
  const node = await openTestNode(backend, {
    settings: { BUBUH_STAMP_WORKERS: 1, BUBUH_NODE_ID: 'node-x', BUBUH_FILES_DIR: filesDir },
  });
  const app = await buildApp(node);
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    assert.ok(address && typeof address === 'object');
    const base = `http://127.0.0.1:${address.port}`;
    const store = accountStoreOf(node);
    const { account } = await store.findOrCreate('+6281200007777');
    const { token } = await store.createSession(account.id);
    await mintQuota(node.ledger, account.id, 1);
    const body = new FormData();
    body.set('doc_type', 'surat_pernyataan');
    body.set('file', new Blob([minimalPdf('/MediaBox [0 0 595 842]')]), 'a.pdf');
    const stamped = await fetch(`${base}/v1/stamps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'idempotency-key': 'not-shared-1' },
      body,
    });
    const view = (await stamped.json()) as { id: string };
    assert.equal(stamped.status, 201, JSON.stringify(view));
    const download = () =>
      fetch(`${base}/v1/stamps/${view.id}/file`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal((await download()).status, 200);
    // As if another node had written it into a files directory this node does not see.
    await rm(filesDir, { recursive: true, force: true });
    const missing = await download();
    assert.equal(missing.status, 503);
    const refusal = (await missing.json()) as { error: { code: string; details: unknown } };
    assert.equal(refusal.error.code, 'CLUSTER_FILE_NOT_SHARED');
    assert.deepEqual(refusal.error.details, { node: 'node-x' });
  } finally {
    await app.close();
    await node.close();
    await disposeBackend(backend);
    await rm(filesDir, { recursive: true, force: true });
  }
});
