/**
 * The verifier page in headless Chromium against a running node: a PDF stamped with the node's own
 * development PKI is verified in the page (`valid`, with its serial shown), a copy with one byte
 * changed inside the signed range gets the verifier's exact verdict for it, and every request the page
 * makes is recorded: only same-origin GETs without a body, for the page, its assets, the root
 * certificate and the CRL. The file never leaves the browser. Once the signer certificate is revoked, a
 * fresh page load gets the reissued CRL and shows the stamp invalid (certificate_revoked); when the CRL
 * cannot be fetched, the page still verifies and says that revocation could not be checked. The optional online check sends only the serial (one
 * GET of its public record), and a typed serial's typo is caught in the page before any request; a valid
 * one opens its public page `/s/{serial}`.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { loadConfig } from '../config.js';
import { buildApp } from '../http/app.js';
import { assetsPrefix, verifyPageFile, verifyPagePath, webDirectory } from '../http/routes/web.js';
import { createLogger } from '../logger.js';
import { createNode } from '../node.js';
import { minimalPdf } from '../pdf/fixture-builder.js';
import { certificateSerialOf } from '../pki/crl.js';
import { loadDevPki } from '../pki/key-files.js';
import { fingerprintOf, revokeCertificate } from '../pki/revocations.js';
import { createNodeStamper } from '../services/node-stamper.js';
import { provisionDevelopmentQuota } from '../services/provision-development.js';
import { verifyDocument } from '../verify/verify-document.js';
import { loopGuardOff } from '../testing/overload.js';

const chromiumPath = '/usr/bin/chromium';
const chromiumArgs = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Warm verifications of the valid fixture whose in-page times give the median. */
const timedRuns = 9;

interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly body: string | null;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

test('the verifier page checks a stamped PDF in Chromium and sends nothing but GETs for itself', async (t) => {
  if (!existsSync(chromiumPath)) {
    t.skip(`skipped: no Chromium at ${chromiumPath} (Debian package chromium)`);
    return;
  }
  const directory = webDirectory();
  if (!existsSync(join(directory, verifyPageFile))) {
    t.skip(`skipped: the web front end is not built (no ${verifyPageFile}; run npm run build)`);
    return;
  }

  const dataDir = await mkdtemp(join(tmpdir(), 'bubuh-web-browser-'));
  const config = loadConfig({}, { BUBUH_DATA_DIR: dataDir, BUBUH_MODE: 'development', ...loopGuardOff });
  const node = await createNode(config, createLogger('silent'));
  const app = await buildApp(node);
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

    const stamper = await createNodeStamper(config, node.ledger);
    const quota = await provisionDevelopmentQuota(node.ledger);
    const stamped = await stamper.issue({ pdf: minimalPdf(), quotaAccountId: quota.accountId });
    const text = new TextDecoder('latin1').decode(stamped.pdf);
    const position = text.indexOf('100 100 l');
    assert.ok(position > 0 && position < stamped.byteRange[1], 'the changed byte lies in the signed range');
    const tampered = stamped.pdf.slice();
    tampered[position] = 0x32; // '1' → '2' inside the page's content stream

    // What the same verifier says in Node, for the same root and the CRL the page will fetch (saved
    // by this first request, served unchanged until a revocation): the page must say exactly this.
    const pki = await loadDevPki(dataDir);
    assert.ok(pki !== null);
    const trustAnchors = [pki.root.certificate];
    const fetchCrl = async () => new Uint8Array(await (await fetch(`${origin}/pki/crl.der`)).arrayBuffer());
    const crls = [await fetchCrl()];
    const nodeValid = await verifyDocument(stamped.pdf, { trustAnchors, crls });
    const nodeTampered = await verifyDocument(tampered, { trustAnchors, crls });
    assert.equal(nodeValid.verdict, 'valid');
    assert.equal(nodeTampered.verdict, 'invalid');

    // A new context is a fresh, empty profile: no cache, no service worker, no stored state.
    const context = await browser.newContext({ locale: 'id-ID' });
    const requests: RecordedRequest[] = [];
    context.on('request', (request) =>
      requests.push({ method: request.method(), url: request.url(), body: request.postData() }),
    );
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));

    await page.goto(`${origin}${verifyPagePath}`);
    // Waits use selectors: the page's CSP forbids the string evaluation a page-side predicate needs.
    await page.locator('body[data-state="ready"]').waitFor({ state: 'attached' });
    assert.equal(
      await page.locator('.privacy strong').textContent(),
      'Berkas tidak dikirim ke mana pun — diperiksa di perangkat Anda.',
    );

    let run = 0;
    const check = async (name: string, bytes: Uint8Array) => {
      run += 1;
      await page.setInputFiles('#file', { name, mimeType: 'application/pdf', buffer: Buffer.from(bytes) });
      await page.locator(`body[data-run="${run}"]`).waitFor({ state: 'attached', timeout: 30_000 });
      return {
        state: await page.getAttribute('body', 'data-state'),
        verdict: await page.locator('#verdict').getAttribute('data-verdict'),
        ms: Number(await page.locator('#file-summary').getAttribute('data-ms')),
      };
    };

    const valid = await check('surat-pernyataan.pdf', stamped.pdf);
    assert.deepEqual([valid.state, valid.verdict], ['done', 'valid']);
    assert.equal(await page.locator('#verdict').textContent(), 'Sah');
    assert.deepEqual(await page.locator('li.signature').evaluateAll((items) => items.length), 1);
    assert.equal(await page.locator('li.signature').getAttribute('data-serial'), stamped.serial);
    assert.equal(await page.locator('li.signature .serial').textContent(), stamped.serial);
    const shownChecks = () =>
      page
        .locator('li.signature td[data-check]')
        .evaluateAll((cells) =>
          cells.map((cell) => [cell.getAttribute('data-check'), cell.getAttribute('data-outcome')]),
        );
    // Every check the verifier reports, as the verifier in Node reports it for the same file and root.
    const validChecks = await shownChecks();
    assert.deepEqual(validChecks, Object.entries(nodeValid.signatures[0]!.checks));
    for (const check of ['byteRange', 'digest', 'signature', 'chain', 'validityAtSigningTime', 'seal']) {
      assert.ok(
        validChecks.some(([name, outcome]) => name === check && outcome === 'ok'),
        check,
      );
    }

    const broken = await check('surat-pernyataan-diubah.pdf', tampered);
    assert.deepEqual([broken.state, broken.verdict], ['done', 'invalid']);
    assert.equal(await page.locator('#verdict').textContent(), 'Tidak sah');
    assert.deepEqual(await shownChecks(), Object.entries(nodeTampered.signatures[0]!.checks));
    assert.equal(
      await page.locator('li.signature td[data-check="digest"]').getAttribute('data-outcome'),
      'digest_mismatch',
    );
    const shownFindings = await page
      .locator('li.signature .findings li')
      .evaluateAll((items) => items.map((item) => [item.getAttribute('data-code'), item.textContent]));
    assert.deepEqual(
      shownFindings,
      nodeTampered.signatures[0]!.findings.map((found) => [found.code, found.id]),
    );
    assert.deepEqual(shownFindings[0], [
      'digest_mismatch',
      'Isi dokumen berubah setelah ditandatangani: nilai hash-nya tidak sama dengan yang ditandatangani.',
    ]);
    await page.click('#language');
    assert.equal(await page.locator('#verdict').textContent(), 'Invalid');
    assert.equal(
      await page.locator('li.signature .findings li[data-code="digest_mismatch"]').textContent(),
      'The document bytes were changed after signing: their digest does not match the signed digest.',
    );
    await page.click('#language');

    const times: number[] = [];
    for (let index = 0; index < timedRuns; index += 1) {
      const timed = await check(`ulang-${index}.pdf`, stamped.pdf);
      assert.equal(timed.verdict, 'valid');
      times.push(timed.ms);
    }

    // Every request: a same-origin GET with no body, for the page, its assets, the root certificate or
    // the CRL.
    // The build also holds the web app's assets (app-*, pdf-preview-*, the PDF worker): not the page's.
    const assets = (await readdir(join(directory, 'assets'))).filter(
      (name) => !/\.(gz|br)$/.test(name) && name.startsWith('verify-'),
    );
    const allowed = new Set([
      verifyPagePath,
      '/pki/root.der',
      '/pki/crl.der',
      ...assets.map((name) => assetsPrefix + name),
    ]);
    for (const request of requests) {
      const url = new URL(request.url);
      assert.equal(url.origin, origin, request.url);
      assert.equal(request.method, 'GET', request.url);
      assert.equal(request.body, null, request.url);
      assert.ok(allowed.has(url.pathname), `unexpected request ${request.url}`);
    }
    assert.deepEqual(
      [...new Set(requests.map((request) => new URL(request.url).pathname))].sort(),
      [...allowed].sort(),
    );
    assert.equal(requests.filter((request) => request.url.endsWith('/pki/root.der')).length, 1);
    assert.equal(requests.filter((request) => request.url.endsWith('/pki/crl.der')).length, 1);
    assert.equal(await page.locator('#revocation-note').isHidden(), true);

    // The optional online check, asked for by a click: one GET of the serial's public record, no body.
    const beforeOnline = requests.length;
    await page.click('li.signature .online-check');
    await page.locator('body[data-online="valid"]').waitFor({ state: 'attached', timeout: 10_000 });
    assert.equal(await page.locator('li.signature .online-result').getAttribute('data-status'), 'valid');
    assert.match(
      (await page.locator('li.signature .online-result').textContent()) ?? '',
      /^Terdaftar: nomor seri ini diterbitkan pada .+ dan tidak dicabut\.$/,
    );
    assert.deepEqual(
      requests
        .slice(beforeOnline)
        .map((request) => [request.method, new URL(request.url).pathname, request.body]),
      [['GET', `/v1/serials/${stamped.serial}`, null]],
    );

    // A typed serial: its check characters catch a typo in the page, before any request.
    const typo =
      stamped.serial.slice(0, 3) + (stamped.serial[3] === 'A' ? 'B' : 'A') + stamped.serial.slice(4);
    const beforeTyped = requests.length;
    const typeSerial = async (typed: string) => {
      await page.fill('#serial-input', typed);
      await page.click('#serial-form button[type="submit"]');
    };
    await typeSerial(typo);
    assert.equal(await page.locator('#serial-problem').getAttribute('data-problem'), 'check');
    assert.equal(
      await page.locator('#serial-problem').textContent(),
      'Nomor seri ini salah ketik: dua karakter terakhirnya tidak cocok. Periksa setiap karakternya.',
    );
    assert.equal(await page.locator('#serial-input').getAttribute('aria-invalid'), 'true');
    await typeSerial('ABC-123');
    assert.equal(
      await page.locator('#serial-problem').textContent(),
      'Nomor seri harus 22 karakter (sekarang 6). Periksa kembali.',
    );
    await typeSerial(`${'!'.repeat(22)}`);
    assert.equal(await page.locator('#serial-problem').getAttribute('data-problem'), 'charset');
    assert.equal(requests.length, beforeTyped);
    assert.deepEqual(problems, []);

    // A valid serial, typed in lower case with spaces, opens its public page.
    const spaced = stamped.serial.toLowerCase().replace(/(.{4})/g, '$1 ');
    await Promise.all([page.waitForURL(`${origin}/s/${stamped.serial}`), typeSerial(spaced)]);
    assert.match(
      (await page.locator('body').textContent()) ?? '',
      /Terdaftar: nomor seri ini diterbitkan oleh bubuh\./,
    );

    // The signer certificate revoked an hour before the stamp was signed: a fresh page load fetches the
    // reissued CRL and shows the stamp invalid, exactly as the verifier in Node with that CRL.
    await revokeCertificate(node.storage, {
      serial: certificateSerialOf(pki.signer.certificate),
      reason: 'keyCompromise',
      issuerFingerprint: fingerprintOf(pki.issuingCa.certificate),
      now: new Date(Date.now() - 3_600_000),
    });
    const revokedCrls = [await fetchCrl()];
    const nodeRevoked = await verifyDocument(stamped.pdf, { trustAnchors, crls: revokedCrls });
    assert.equal(nodeRevoked.verdict, 'invalid');
    assert.equal(nodeRevoked.signatures[0]!.checks.revocation, 'certificate_revoked');
    const revokedContext = await browser.newContext({ locale: 'id-ID' });
    const revokedRequests: RecordedRequest[] = [];
    revokedContext.on('request', (request) =>
      revokedRequests.push({ method: request.method(), url: request.url(), body: request.postData() }),
    );
    const revokedPage = await revokedContext.newPage();
    const fresh = async (target: typeof page, name: string, bytes: Uint8Array) => {
      await target.goto(`${origin}${verifyPagePath}`);
      await target.locator('body[data-state="ready"]').waitFor({ state: 'attached' });
      await target.setInputFiles('#file', { name, mimeType: 'application/pdf', buffer: Buffer.from(bytes) });
      await target.locator('body[data-run="1"]').waitFor({ state: 'attached', timeout: 30_000 });
      return {
        state: await target.getAttribute('body', 'data-state'),
        verdict: await target.locator('#verdict').getAttribute('data-verdict'),
      };
    };
    assert.deepEqual(await fresh(revokedPage, 'dicabut.pdf', stamped.pdf), {
      state: 'done',
      verdict: 'invalid',
    });
    assert.equal(await revokedPage.locator('#verdict').textContent(), 'Tidak sah');
    assert.equal(
      await revokedPage.locator('li.signature td[data-check="revocation"]').getAttribute('data-outcome'),
      'certificate_revoked',
    );
    assert.deepEqual(
      await revokedPage
        .locator('li.signature td[data-check]')
        .evaluateAll((cells) =>
          cells.map((cell) => [cell.getAttribute('data-check'), cell.getAttribute('data-outcome')]),
        ),
      Object.entries(nodeRevoked.signatures[0]!.checks),
    );
    assert.deepEqual(
      await revokedPage
        .locator('li.signature .findings li')
        .evaluateAll((items) => items.map((item) => [item.getAttribute('data-code'), item.textContent])),
      nodeRevoked.signatures[0]!.findings.map((found) => [found.code, found.id]),
    );
    assert.equal(await revokedPage.locator('#revocation-note').isHidden(), true);
    assert.deepEqual(
      revokedRequests
        .filter((request) => request.url.includes('/pki/'))
        .map((request) => [request.method, new URL(request.url).pathname, request.body]),
      [
        ['GET', '/pki/root.der', null],
        ['GET', '/pki/crl.der', null],
      ],
    );
    await revokedContext.close();

    // The CRL cannot be fetched: the page verifies without it and says revocation was not checked.
    const noCrlContext = await browser.newContext({ locale: 'id-ID' });
    await noCrlContext.route('**/pki/crl.der', (route) => route.abort());
    const noCrlPage = await noCrlContext.newPage();
    const nodeNoCrl = await verifyDocument(stamped.pdf, { trustAnchors });
    assert.deepEqual(await fresh(noCrlPage, 'tanpa-crl.pdf', stamped.pdf), {
      state: 'done',
      verdict: nodeNoCrl.verdict,
    });
    assert.equal(
      await noCrlPage.locator('li.signature td[data-check="revocation"]').getAttribute('data-outcome'),
      'unknown',
    );
    assert.equal(await noCrlPage.locator('#revocation-note').isVisible(), true);
    assert.match(
      (await noCrlPage.locator('#revocation-note').textContent()) ?? '',
      /^Pencabutan sertifikat tidak dapat diperiksa: daftar sertifikat yang dicabut \(CRL\) tidak dapat diambil dari server \(.+\)\. Hasil di atas tidak memperhitungkan sertifikat yang mungkin sudah dicabut\.$/,
    );
    await noCrlContext.close();

    let gzipBytes = 0;
    for (const name of assets) gzipBytes += (await readFile(join(directory, 'assets', `${name}.gz`))).length;
    t.diagnostic(
      `verifier page: ${assets.length} assets, ${gzipBytes} bytes gzip; in-browser verification of the ` +
        `${stamped.pdf.length}-byte stamped fixture: first ${valid.ms.toFixed(1)} ms, then median ` +
        `${median(times).toFixed(1)} ms over ${times.length} runs (${times.map((ms) => ms.toFixed(1)).join(', ')})`,
    );
    await context.close();
  } finally {
    await browser.close();
    await app.close();
    await node.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
