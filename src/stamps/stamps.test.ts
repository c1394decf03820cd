import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { unzipSync, zipSync } from 'fflate';
import { accountStoreOf } from '../accounts/index.js';
import { openTestNode, testClock } from '../accounts/test-node.js';
import { checkLedger } from '../ledger/check.js';
import { accountIds } from '../ledger/chart.js';
import type { BubuhNode } from '../node.js';
import { buildApp } from '../http/app.js';
import { buildPdf, minimalPdf } from '../pdf/fixture-builder.js';
import { loadDevPki } from '../pki/key-files.js';
import { generateSerial, isValidSerial } from '../seal/serial.js';
import { parseLocation } from './segment-writer.js';
import { disposeBackend, eachBackend, openFreshBackend } from '../testing/backends.js';
import { mintQuota } from '../testing/quota.js';
import { verifyDocument } from '../verify/verify-document.js';
import { batchServiceOf, cleanFileName } from './routes.js';

const settings = { BUBUH_STAMP_WORKERS: 1 } as const;

async function signIn(node: BubuhNode, phone: string): Promise<{ token: string; accountId: string }> {
  const store = accountStoreOf(node);
  const { account } = await store.findOrCreate(phone);
  const { token } = await store.createSession(account.id);
  return { token, accountId: account.id };
}

async function grantQuota(node: BubuhNode, accountId: string, units: number): Promise<void> {
  await mintQuota(node.ledger, accountId, units);
}

async function available(node: BubuhNode, accountId: string): Promise<number> {
  const [account] = await node.ledger.lookupAccounts([accountIds.customerQuota(accountId)]);
  assert.ok(account);
  return account.creditsPosted - account.debitsPosted - account.debitsPending;
}

/** A one-page A4 letter; the label makes each one a different document. */
function letter(label: string): Uint8Array {
  return minimalPdf(`/MediaBox [0 0 595 842] /PieceInfo << /Label (${label}) >>`);
}

function form(pdf: Uint8Array, fields: Record<string, string>, fileName = 'surat.pdf'): FormData {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.set(name, value);
  body.set('file', new Blob([pdf], { type: 'application/pdf' }), fileName);
  return body;
}

/** The node's app listening on a free local port, for tests that go over real HTTP. */
async function listening(
  node: BubuhNode,
): Promise<{ app: Awaited<ReturnType<typeof buildApp>>; base: string }> {
  const app = await buildApp(node, { bodyBytesMax: 1024 * 1024 });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  assert.ok(address && typeof address === 'object');
  return { app, base: `http://127.0.0.1:${address.port}` };
}

test('stamping over HTTP: stamps spend quota once, history tells each outcome, refusals refund, retries replay, owners only', async (t) => {
  await eachBackend(t, async (backend) => {
    const node = await openTestNode(backend, { settings });
    const { app, base } = await listening(node);
    try {
      const alice = await signIn(node, '+6281200000001');
      const bob = await signIn(node, '+6281200000002');
      await grantQuota(node, alice.accountId, 3);
      const auth = (who: { token: string }) => ({ authorization: `Bearer ${who.token}` });

      const serials: string[] = [];
      for (let index = 0; index < 3; index += 1) {
        const response = await fetch(`${base}/v1/stamps`, {
          method: 'POST',
          headers: { ...auth(alice), 'idempotency-key': `letter-${index}` },
          body: form(letter(`letter ${index}`), {
            doc_type: 'surat_pernyataan',
            doc_number: `SP-${index}`,
            doc_date: '2024-09-05',
          }),
        });
        assert.equal(response.status, 201, await response.clone().text());
        const body = (await response.json()) as Record<string, unknown>;
        assert.equal(body['status'], 'stamped');
        assert.equal(body['file_name'], 'surat.pdf');
        assert.equal(body['doc_type'], 'surat_pernyataan');
        assert.equal(body['doc_number'], `SP-${index}`);
        assert.equal(body['page'], 1);
        assert.equal(body['downloadable'], true);
        assert.equal(body['download_url'], `/v1/stamps/${String(body['id'])}/file`);
        assert.ok(isValidSerial(String(body['serial'])));
        serials.push(String(body['serial']));
        // The answer is built from what was committed, not read back: it must be what a read gives.
        const read = await fetch(`${base}/v1/stamps/${String(body['id'])}`, { headers: auth(alice) });
        assert.deepEqual(await read.json(), body);

        const file = await fetch(`${base}${String(body['download_url'])}`, { headers: auth(alice) });
        assert.equal(file.status, 200);
        assert.equal(file.headers.get('content-type'), 'application/pdf');
        assert.equal(file.headers.get('bubuh-serial'), body['serial']);
        const stamped = new Uint8Array(await file.arrayBuffer());
        assert.equal(stamped.length, body['file_bytes']);
        // The node made its development keys on the first stamp.
        const pki = await loadDevPki(node.config.dataDir);
        assert.ok(pki);
        const report = await verifyDocument(stamped, { trustAnchors: [pki.root.certificate] });
        assert.equal(report.verdict, 'valid');
      }
      assert.equal(new Set(serials).size, 3);
      assert.equal(await available(node, alice.accountId), 0);

      // A retry under the same key replays the same stamp; another file under it is refused.
      const replay = await fetch(`${base}/v1/stamps`, {
        method: 'POST',
        headers: { ...auth(alice), 'idempotency-key': 'letter-0' },
        body: form(letter('letter 0'), {
          doc_type: 'surat_pernyataan',
          doc_number: 'SP-0',
          doc_date: '2024-09-05',
        }),
      });
      assert.equal(replay.status, 201);
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      const replayed = (await replay.json()) as { serial: string; id: string };
      assert.equal(replayed.serial, serials[0]);
      const original = await fetch(`${base}/v1/stamps/${replayed.id}`, { headers: auth(alice) });
      assert.deepEqual(replayed, await original.json());
      const reused = await fetch(`${base}/v1/stamps`, {
        method: 'POST',
        headers: { ...auth(alice), 'idempotency-key': 'letter-0' },
        body: form(letter('another letter'), { doc_type: 'surat_pernyataan' }),
      });
      assert.equal(reused.status, 422);
      assert.equal(
        ((await reused.json()) as { error: { code: string } }).error.code,
        'IDEMPOTENCY_KEY_REUSED',
      );

      // With Accept: application/pdf a replay answers with the same bytes.
      const asPdf = await fetch(`${base}/v1/stamps`, {
        method: 'POST',
        headers: { ...auth(alice), 'idempotency-key': 'letter-1', accept: 'application/pdf' },
        body: form(letter('letter 1'), {
          doc_type: 'surat_pernyataan',
          doc_number: 'SP-1',
          doc_date: '2024-09-05',
        }),
      });
      assert.equal(asPdf.status, 201);
      assert.equal(asPdf.headers.get('bubuh-serial'), serials[1]);
      assert.equal(asPdf.headers.get('content-type'), 'application/pdf');

      // Two requests racing under one new key: one unit is spent, one serial exists.
      await grantQuota(node, alice.accountId, 2);
      const racing = await Promise.all(
        [0, 1].map(() =>
          fetch(`${base}/v1/stamps`, {
            method: 'POST',
            headers: { ...auth(alice), 'idempotency-key': 'racing' },
            body: form(letter('racing'), { doc_type: 'surat_pernyataan' }),
          }),
        ),
      );
      const raced = await Promise.all(
        racing.map(async (response) => ({
          status: response.status,
          body: (await response.json()) as { serial?: string; error?: { code: string } },
        })),
      );
      const winners = raced.filter((answer) => answer.status === 201);
      assert.ok(winners.length >= 1);
      for (const answer of raced) {
        if (answer.status === 201) assert.equal(answer.body.serial, winners[0]!.body.serial);
        else assert.deepEqual([answer.status, answer.body.error?.code], [409, 'IDEMPOTENCY_IN_PROGRESS']);
      }
      assert.equal(await available(node, alice.accountId), 1);
      const again = await fetch(`${base}/v1/stamps`, {
        method: 'POST',
        headers: { ...auth(alice), 'idempotency-key': 'racing' },
        body: form(letter('racing'), { doc_type: 'surat_pernyataan' }),
      });
      assert.equal(((await again.json()) as { serial: string }).serial, winners[0]!.body.serial);
      serials.push(winners[0]!.body.serial!);
      // Spend the spare unit so the next check starts from zero.
      const spare = await fetch(`${base}/v1/stamps`, {
        method: 'POST',
        headers: { ...auth(alice), 'idempotency-key': 'spare' },
        body: form(letter('spare'), { doc_type: 'surat_pernyataan' }),
      });
      assert.equal(spare.status, 201);
      serials.push(((await spare.json()) as { serial: string }).serial);

      // A fourth stamp: no quota left, nothing reserved, nothing in the history.
      const fourth = await fetch(`${base}/v1/stamps`, {
        method: 'POST',
        headers: { ...auth(alice), 'idempotency-key': 'letter-3' },
        body: form(letter('letter 3'), { doc_type: 'surat_pernyataan' }),
      });
      assert.equal(fourth.status, 402);
      assert.equal(((await fourth.json()) as { error: { code: string } }).error.code, 'QUOTA_INSUFFICIENT');

      // A file the engine refuses: the unit is reserved, then refunded in the same request.
      await grantQuota(node, alice.accountId, 1);
      const broken = await fetch(`${base}/v1/stamps`, {
        method: 'POST',
        headers: { ...auth(alice), 'idempotency-key': 'broken' },
        body: form(
          new TextEncoder().encode('%PDF-1.7\nthis is not a PDF at all\n'),
          { doc_type: 'surat_perjanjian' },
          'rusak.pdf',
        ),
      });
      assert.equal(broken.status, 422, await broken.clone().text());
      const brokenCode = ((await broken.json()) as { error: { code: string } }).error.code;
      assert.equal(await available(node, alice.accountId), 1);

      const history = await fetch(`${base}/v1/stamps?limit=2`, { headers: auth(alice) });
      assert.equal(history.status, 200);
      const first = (await history.json()) as { items: Record<string, unknown>[]; next_cursor: string };
      assert.equal(first.items.length, 2);
      assert.equal(first.items[0]?.['status'], 'refunded');
      assert.equal(first.items[0]?.['reason_code'], brokenCode);
      assert.equal(first.items[0]?.['file_name'], 'rusak.pdf');
      assert.equal(first.items[0]?.['downloadable'], false);
      assert.equal(first.items[1]?.['serial'], serials[4]);
      const rest = await fetch(`${base}/v1/stamps?limit=10&cursor=${encodeURIComponent(first.next_cursor)}`, {
        headers: auth(alice),
      });
      const second = (await rest.json()) as { items: Record<string, unknown>[]; next_cursor: string | null };
      assert.deepEqual(
        second.items.map((item) => item['serial']),
        [serials[3], serials[2], serials[1], serials[0]],
      );
      assert.equal(second.next_cursor, null);

      // Nobody else sees or downloads Alice's stamps.
      const stampId = String(first.items[1]?.['id']);
      for (const path of [`/v1/stamps/${stampId}`, `/v1/stamps/${stampId}/file`]) {
        const response = await fetch(`${base}${path}`, { headers: auth(bob) });
        assert.equal(response.status, 404);
        assert.equal(((await response.json()) as { error: { code: string } }).error.code, 'STAMP_NOT_FOUND');
      }
      const bobsList = await fetch(`${base}/v1/stamps`, { headers: auth(bob) });
      assert.deepEqual(await bobsList.json(), { items: [], next_cursor: null });
      const anonymous = await fetch(`${base}/v1/stamps`);
      assert.equal(anonymous.status, 401);

      const ledgerReport = await checkLedger(node.storage);
      assert.deepEqual(ledgerReport.problems, []);
    } finally {
      await app.close();
      await node.close();
    }
  });
});

/** A letter of `count` A4 pages. */
function letterOfPages(count: number): Uint8Array {
  const kids = Array.from({ length: count }, (_, index) => `${index + 3} 0 R`).join(' ');
  return buildPdf({
    objects: [
      { number: 1, body: '<< /Type /Catalog /Pages 2 0 R >>' },
      { number: 2, body: `<< /Type /Pages /Kids [${kids}] /Count ${count} /MediaBox [0 0 595 842] >>` },
      ...Array.from({ length: count }, (_, index) => ({
        number: index + 3,
        body: '<< /Type /Page /Parent 2 0 R >>',
      })),
    ],
    trailer: '/Root 1 0 R',
  });
}

test('stamping: a PDF with more pages than BUBUH_STAMP_PAGES_MAX is refused and its unit refunded', async (t) => {
  await eachBackend(t, async (backend) => {
    const node = await openTestNode(backend, { settings: { ...settings, BUBUH_STAMP_PAGES_MAX: 2 } });
    const { app, base } = await listening(node);
    try {
      const alice = await signIn(node, '+6281200000011');
      await grantQuota(node, alice.accountId, 1);
      const headers = (key: string) => ({ authorization: `Bearer ${alice.token}`, 'idempotency-key': key });

      const long = await fetch(`${base}/v1/stamps`, {
        method: 'POST',
        headers: headers('three-pages'),
        body: form(letterOfPages(3), { doc_type: 'surat_perjanjian', page: '1' }, 'panjang.pdf'),
      });
      assert.equal(long.status, 422, await long.clone().text());
      assert.deepEqual(((await long.json()) as { error: unknown }).error, {
        code: 'PDF_TOO_MANY_PAGES',
        message:
          'This PDF has more than 2 pages (the limit of this service). Split the pages that need the e-meterai into a shorter PDF and upload it again.',
        message_id:
          'PDF ini memiliki lebih dari 2 halaman (batas layanan ini). Pisahkan halaman yang perlu dibubuhi meterai ke PDF yang lebih pendek lalu unggah kembali.',
        details: { limit: 2 },
      });
      // Refused after the reserve (the pages are counted by the engine): the unit is back, and the
      // history says why.
      assert.equal(await available(node, alice.accountId), 1);
      const history = (await (
        await fetch(`${base}/v1/stamps`, { headers: { authorization: `Bearer ${alice.token}` } })
      ).json()) as { items: Record<string, unknown>[] };
      assert.deepEqual(
        history.items.map((item) => [item['file_name'], item['status'], item['reason_code']]),
        [['panjang.pdf', 'refunded', 'PDF_TOO_MANY_PAGES']],
      );

      // At the limit it stamps.
      const short = await fetch(`${base}/v1/stamps`, {
        method: 'POST',
        headers: headers('two-pages'),
        body: form(letterOfPages(2), { doc_type: 'surat_perjanjian' }, 'pendek.pdf'),
      });
      assert.equal(short.status, 201, await short.clone().text());
      assert.equal(((await short.json()) as Record<string, unknown>)['page'], 2);
      assert.equal(await available(node, alice.accountId), 0);
    } finally {
      await app.close();
      await node.close();
    }
  });
});

test('stamping: a stamped file is deleted after its retention and then answers 410', async (t) => {
  await eachBackend(t, async (backend) => {
    const clock = testClock(Date.now());
    const node = await openTestNode(backend, {
      clock,
      settings: { ...settings, BUBUH_STAMP_RETENTION_HOURS: 1 },
    });
    try {
      const alice = await signIn(node, '+6281200000003');
      await grantQuota(node, alice.accountId, 1);
      const { createStampService } = await import('./stamp-service.js');
      const { createEnginePool } = await import('./engine-pool.js');
      const { createStampEnvironment } = await import('../services/node-stamper.js');
      const pool = createEnginePool(node.config);
      const timed = createStampService({
        node,
        pool,
        signerFingerprint: await createStampEnvironment(node.config).then(async (own) => {
          await own.close();
          return own.signerFingerprint;
        }),
        clock,
      });
      try {
        const { view } = await timed.stamp({
          accountId: alice.accountId,
          quotaAccountId: accountIds.customerQuota(alice.accountId),
          fileName: 'a.pdf',
          pdf: letter('retention'),
          placement: {},
          metadata: { docType: 'surat_pernyataan' },
        });
        assert.equal(view.expires_at, new Date(clock.now + 3600_000).toISOString());
        const kept = await timed.file(alice.accountId, view.id);
        assert.equal(kept.view.serial, view.serial);
        // The file is the first in its thread's segment, in the directory of the hour it expires in.
        const outcome = await node.storage.db
          .selectFrom('stamp_outcomes')
          .select(['file_location', 'file_bytes'])
          .where('stamp_id', '=', view.id)
          .executeTakeFirstOrThrow();
        const location = parseLocation(outcome.file_location ?? '');
        assert.equal(location?.offset, 0);
        assert.equal(Number(outcome.file_bytes), kept.pdf.length);
        const onDisk = join(
          node.config.dataDir,
          'files',
          String(Math.ceil((clock.now + 3600_000) / 3600_000)),
          location.segment,
        );
        assert.deepEqual(new Uint8Array(await readFile(onDisk)), kept.pdf);

        clock.advance(3600_000);
        await assert.rejects(timed.file(alice.accountId, view.id), { code: 'STAMP_FILE_GONE', status: 410 });
        assert.equal((await timed.get(alice.accountId, view.id)).downloadable, false);
        clock.advance(3600_000);
        assert.equal(await timed.sweepFiles(), 1);
        await assert.rejects(readFile(onDisk), { code: 'ENOENT' });
      } finally {
        await pool.close();
      }
    } finally {
      await node.close();
    }
  });
});

test('file names: control characters and path separators become _, at most the last 200 units, a default when empty', () => {
  assert.equal(cleanFileName('surat pernyataan.pdf'), 'surat pernyataan.pdf');
  assert.equal(cleanFileName('a/b\\c\u0000d\u001fe\u007ff\u0085g\u00a0h.pdf'), 'a_b_c_d_e_f_g\u00a0h.pdf');
  assert.equal(cleanFileName('lamaran 📄 ñ.pdf'), 'lamaran 📄 ñ.pdf');
  assert.equal(cleanFileName(undefined), 'document.pdf');
  assert.equal(cleanFileName(''), 'document.pdf');
  const long = `${'x'.repeat(300)}.pdf`;
  assert.equal(cleanFileName(long), long.slice(-200));
  assert.equal(cleanFileName(long).length, 200);
});

test('stamping pool: an upload asked to move goes to the thread (empty here after), a view into a larger buffer is copied', async (t) => {
  const backend = await openFreshBackend('sqlite');
  assert.ok(backend, 'the embedded database always opens');
  t.after(() => disposeBackend(backend));
  const node = await openTestNode(backend, { settings });
  const { createEnginePool } = await import('./engine-pool.js');
  const pool = createEnginePool(node.config);
  try {
    const request = (pdf: Uint8Array) => {
      const serial = generateSerial(randomBytes);
      return { pdf, serial, verifyUrl: `https://meterai.example.id/s/${serial}`, signingTime: new Date() };
    };
    const upload = letter('moved').slice();
    const copy = upload.slice();
    const moved = await pool.stamp(request(upload), { transferPdf: true });
    assert.equal(upload.byteLength, 0, 'the upload moved to the stamping thread');
    assert.deepEqual(moved.pdf.subarray(0, copy.length), copy, 'and was stamped');
    assert.equal(moved.pdf.length, copy.length + moved.addedBytes);

    const larger = new Uint8Array(copy.length + 10);
    larger.set(copy, 5);
    const view = larger.subarray(5, 5 + copy.length);
    const copied = await pool.stamp(request(view), { transferPdf: true });
    assert.deepEqual(view, copy, 'a view into a larger buffer stays where it was');
    assert.deepEqual(copied.pdf.subarray(0, copy.length), copy);

    const kept = copy.slice();
    await pool.stamp(request(kept));
    assert.deepEqual(kept, copy, 'without transferPdf the upload is copied');
  } finally {
    await pool.close();
    await node.close();
  }
});

test('bulk stamping: files and a ZIP, one rule for all and one per file, each file stamped, refunded or refused on its own', async (t) => {
  await eachBackend(t, async (backend) => {
    const node = await openTestNode(backend, { settings });
    const app = await buildApp(node);
    try {
      const alice = await signIn(node, '+6281200000004');
      const bob = await signIn(node, '+6281200000005');
      await grantQuota(node, alice.accountId, 2);
      const body = new FormData();
      body.set('doc_type', 'surat_perjanjian');
      body.set('doc_number', 'PKS-1');
      body.set('rules', JSON.stringify({ 'c.pdf': { doc_number: 'PKS-C', size: 90 } }));
      body.append('file', new Blob([letter('a')], { type: 'application/pdf' }), 'a.pdf');
      body.append('file', new Blob([new TextEncoder().encode('%PDF-1.4\nbroken\n')]), 'b.pdf');
      const archive = zipSync({
        'dir/c.pdf': letter('c'),
        'd.pdf': letter('d'),
        'readme.txt': new TextEncoder().encode('x'),
      });
      body.append('archive', new Blob([archive], { type: 'application/zip' }), 'more.zip');
      const request = new Request('http://localhost/v1/batches', { method: 'POST', body });
      const payload = Buffer.from(await request.arrayBuffer());
      const created = await app.inject({
        method: 'POST',
        url: '/v1/batches',
        headers: {
          authorization: `Bearer ${alice.token}`,
          'idempotency-key': 'batch-1',
          'content-type': request.headers.get('content-type')!,
        },
        payload,
      });
      assert.equal(created.statusCode, 202, created.body);
      const batch = created.json() as { id: string; total: number };
      assert.equal(batch.total, 4);
      await batchServiceOf(node).idle();

      const done = await app.inject({
        method: 'GET',
        url: `/v1/batches/${batch.id}`,
        headers: { authorization: `Bearer ${alice.token}` },
      });
      const view = done.json() as {
        finished: boolean;
        counts: Record<string, number>;
        items: { file_name: string; status: string; error_code: string | null }[];
        results_url: string;
      };
      assert.equal(view.finished, true);
      assert.deepEqual(
        view.items.map((item) => [item.file_name, item.status]),
        [
          ['a.pdf', 'stamped'],
          ['b.pdf', 'refunded'],
          ['c.pdf', 'stamped'],
          ['d.pdf', 'refused'],
        ],
      );
      assert.equal(view.items[3]?.error_code, 'QUOTA_INSUFFICIENT');
      assert.deepEqual(view.counts, { queued: 0, stamped: 2, refunded: 1, refused: 1, failed: 0 });
      assert.equal(view.results_url, `/v1/batches/${batch.id}/results.zip`);
      assert.equal(await available(node, alice.accountId), 0);

      const history = await app.inject({
        method: 'GET',
        url: `/v1/stamps?batch_id=${batch.id}`,
        headers: { authorization: `Bearer ${alice.token}` },
      });
      const items = (history.json() as { items: { file_name: string; doc_number: string; status: string }[] })
        .items;
      assert.deepEqual(
        items.map((item) => [item.file_name, item.doc_number, item.status]),
        [
          ['c.pdf', 'PKS-C', 'stamped'],
          ['b.pdf', 'PKS-1', 'refunded'],
          ['a.pdf', 'PKS-1', 'stamped'],
        ],
      );

      const zip = await app.inject({
        method: 'GET',
        url: view.results_url,
        headers: { authorization: `Bearer ${alice.token}` },
      });
      assert.equal(zip.statusCode, 200);
      assert.equal(zip.headers['content-type'], 'application/zip');
      const names = Object.keys(unzipSync(new Uint8Array(zip.rawPayload))).map((name) =>
        name.replace(/-[0-9A-Z]{22}\.pdf$/, ''),
      );
      assert.deepEqual(names, ['001-a', '003-c']);

      for (const url of [`/v1/batches/${batch.id}`, view.results_url]) {
        const other = await app.inject({
          method: 'GET',
          url,
          headers: { authorization: `Bearer ${bob.token}` },
        });
        assert.equal(other.statusCode, 404);
        assert.equal((other.json() as { error: { code: string } }).error.code, 'BATCH_NOT_FOUND');
      }

      const metrics = await app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(metrics.statusCode, 200);
      assert.match(metrics.body, /^bubuh_stamps_total\{outcome="stamped"\} 2$/m);
      assert.match(metrics.body, /^bubuh_stamps_total\{outcome="refunded"\} 1$/m);
      assert.match(metrics.body, /^bubuh_stamp_stage_seconds_count\{stage="engine"\} 2$/m);
      // Each of the two stamped files has its time in the thread and its write-and-fsync recorded.
      assert.match(metrics.body, /^bubuh_stamp_stage_seconds_count\{stage="run"\} 2$/m);
      assert.match(metrics.body, /^bubuh_stamp_stage_seconds_count\{stage="sync"\} 2$/m);
    } finally {
      await app.close();
      await node.close();
    }
  });
});

test('the public serial page: genuine, unknown and mistyped serials, in Indonesian and English', async (t) => {
  await eachBackend(t, async (backend) => {
    const node = await openTestNode(backend, { settings });
    const app = await buildApp(node);
    try {
      const alice = await signIn(node, '+6281200000006');
      await grantQuota(node, alice.accountId, 1);
      const body = form(letter('serial page'), { doc_type: 'surat_pernyataan' });
      const request = new Request('http://localhost/v1/stamps', { method: 'POST', body });
      const stamped = await app.inject({
        method: 'POST',
        url: '/v1/stamps',
        headers: {
          authorization: `Bearer ${alice.token}`,
          'idempotency-key': 'serial-page',
          'content-type': request.headers.get('content-type')!,
        },
        payload: Buffer.from(await request.arrayBuffer()),
      });
      assert.equal(stamped.statusCode, 201, stamped.body);
      const serial = (stamped.json() as { serial: string }).serial;

      // The server verifies the stamped file (offline checks in a worker, then its own registry).
      const stampId = (stamped.json() as { id: string }).id;
      const file = await app.inject({
        method: 'GET',
        url: `/v1/stamps/${stampId}/file`,
        headers: { authorization: `Bearer ${alice.token}` },
      });
      const verifyForm = async (pdf: Uint8Array) => {
        const form = new FormData();
        form.set('file', new Blob([pdf], { type: 'application/pdf' }), 'check.pdf');
        const request = new Request('http://localhost/v1/verify', { method: 'POST', body: form });
        return app.inject({
          method: 'POST',
          url: '/v1/verify',
          headers: { 'content-type': request.headers.get('content-type')! },
          payload: Buffer.from(await request.arrayBuffer()),
        });
      };
      const checked = await verifyForm(new Uint8Array(file.rawPayload));
      assert.equal(checked.statusCode, 200, checked.body);
      const report = checked.json() as { verdict: string; signatures: { serial?: string }[] };
      assert.equal(report.verdict, 'valid');
      assert.equal(report.signatures.length, 1);
      const tampered = new Uint8Array(file.rawPayload);
      tampered[100] = tampered[100]! ^ 0x01;
      assert.equal((await verifyForm(tampered)).json().verdict, 'invalid');
      assert.equal((await verifyForm(letter('unstamped'))).json().verdict, 'no_stamp');

      const indonesian = await app.inject({ method: 'GET', url: `/s/${serial}` });
      assert.equal(indonesian.statusCode, 200);
      assert.equal(indonesian.headers['content-type'], 'text/html; charset=utf-8');
      assert.match(indonesian.body, /<html lang="id">/);
      assert.match(indonesian.body, /Terdaftar: nomor seri ini diterbitkan oleh bubuh\./);
      assert.match(indonesian.body, /<dt>Jenis dokumen<\/dt><dd>Surat Pernyataan<\/dd>/);
      assert.match(indonesian.body, new RegExp(`<code>${serial}</code>`));
      const english = await app.inject({ method: 'GET', url: `/s/${serial.toLowerCase()}?lang=en` });
      assert.equal(english.statusCode, 200);
      assert.match(english.body, /Registered: this serial was issued by bubuh\./);
      assert.match(english.body, /<dt>Document type<\/dt><dd>Statement letter<\/dd>/);

      const unknownSerial = generateSerial((count) => new Uint8Array(randomBytes(count)));
      const unknown = await app.inject({ method: 'GET', url: `/s/${unknownSerial}` });
      assert.equal(unknown.statusCode, 404);
      assert.match(unknown.body, /TIDAK TERDAFTAR/);
      const typo = `${serial.slice(0, 5)}${serial[5] === 'A' ? 'B' : 'A'}${serial.slice(6)}`;
      const mistyped = await app.inject({ method: 'GET', url: `/s/${typo}?lang=en` });
      assert.equal(mistyped.statusCode, 400);
      assert.match(mistyped.body, /its two check characters do not match/);
      const script = await app.inject({
        method: 'GET',
        url: `/s/${encodeURIComponent('<script>x</script>')}`,
      });
      assert.equal(script.statusCode, 400);
      assert.doesNotMatch(script.body, /<script>/);
    } finally {
      await app.close();
      await node.close();
    }
  });
});
