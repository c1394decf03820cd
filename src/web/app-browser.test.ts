/**
 * The web app in headless Chromium against a running node (development mode, the sandbox gateway),
 * at a phone's size (360×740) and a desktop's (1280×800): sign in with the code the development banner
 * shows, buy quota, pay on the sandbox page, come back credited, upload a letter (the corpus's
 * Surat Pernyataan when ../shared is present, else a built one), see it
 * rendered, drag the seal (off the page: a warning and no stamp button; back on: stamp), stamp,
 * download, verify the download on the verifier page (every request it makes is a GET without a body:
 * the file never leaves the browser), and find `Berhasil` in the history; a damaged file is refused
 * without using quota; the operator dashboard shows the node's live figures.
 *
 * Screenshots of every screen at both sizes, named `<screen>-<width>.png`, are written when
 * BUBUH_APP_SCREENSHOTS names a directory (`BUBUH_APP_SCREENSHOTS=docs/images/app` refreshes the
 * README's), so a test run never changes the checkout.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { accountStoreOf } from '../accounts/authenticate.js';
import { loadConfig } from '../config.js';
import { buildApp } from '../http/app.js';
import { appPageFile, webDirectory } from '../http/routes/web.js';
import { createLogger } from '../logger.js';
import { createNode } from '../node.js';
import { buildPdf, latin1Bytes, streamBody } from '../pdf/fixture-builder.js';
import { corpusDirectory, readCorpusFile } from '../testing/corpus.js';
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

/** `<repository>/docs/images/app`, from `<repository>/<build>/src/web/` where this file runs. */
const screenshotDirectory = process.env['BUBUH_APP_SCREENSHOTS']
  ? resolve(process.env['BUBUH_APP_SCREENSHOTS'])
  : null;

const sizes = [
  { name: 'phone', width: 360, height: 740, phone: '081234560360' },
  { name: 'desktop', width: 1280, height: 800, phone: '081234561280' },
] as const;

/** A one-page A4 letter with a few lines of Helvetica text: something to see and to stamp. */
export function letterPdf(): Uint8Array {
  const lines = [
    'SURAT PERNYATAAN',
    'Yang bertanda tangan di bawah ini:',
    'Nama: Siti Rahmawati',
    'NIK: 3171 0000 0000 0001',
    'menyatakan dengan sesungguhnya bahwa data yang saya isi benar.',
    'Jakarta, 23 November 2026',
  ];
  const text = lines
    .map((line, index) => `BT /F1 ${index === 0 ? 16 : 11} Tf 72 ${760 - index * 28} Td (${line}) Tj ET`)
    .join('\n');
  return buildPdf({
    objects: [
      { number: 1, body: '<< /Type /Catalog /Pages 2 0 R >>' },
      { number: 2, body: '<< /Type /Pages /Kids [3 0 R] /Count 1 >>' },
      {
        number: 3,
        body: '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>',
      },
      { number: 4, body: streamBody('', latin1Bytes(text)) },
      {
        number: 5,
        body: '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>',
      },
    ],
    trailer: '/Root 1 0 R',
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function shoot(page: Page, screen: string, width: number): Promise<void> {
  if (!screenshotDirectory) return;
  await mkdir(screenshotDirectory, { recursive: true });
  // Let the focus ring and fonts settle; the page is still, so one frame is enough.
  await page.waitForTimeout(150);
  await page.screenshot({ path: join(screenshotDirectory, `${screen}-${width}.png`), type: 'png' });
}

interface Recorded {
  readonly method: string;
  readonly url: string;
  readonly body: string | null;
}

/**
 * The letter the journey uploads: the corpus's Surat Pernyataan CPNS (LibreOffice, one A4 page) when
 * ../shared/corpus is present, else the built letter above (the same page size, so the seal starts at
 * the same place).
 */
function journeyLetter(): { readonly bytes: Uint8Array; readonly source: string } {
  const directory = corpusDirectory();
  if (directory === null) return { bytes: letterPdf(), source: 'a built one-page letter (no corpus found)' };
  const file = 'a01_pernyataan_libreoffice.pdf';
  return { bytes: readCorpusFile(directory, file), source: `the corpus letter ${file}` };
}
const letter = journeyLetter();

async function journey(
  context: BrowserContext,
  origin: string,
  size: (typeof sizes)[number],
  grant: (phone: string) => Promise<void>,
) {
  const { width } = size;
  const requests: Recorded[] = [];
  context.on('request', (request) =>
    requests.push({ method: request.method(), url: request.url(), body: request.postData() }),
  );
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    // The damaged file's refusal (422) is logged by the browser as a failed load: expected, not a fault.
    if (message.type() === 'error' && !/status of 422/.test(message.text())) problems.push(message.text());
  });

  // Sign in: the development banner shows the newest code for the number.
  await page.goto(`${origin}/app`);
  await page.waitForURL(`${origin}/app/sign-in`);
  await page.locator('[data-testid="dev-banner"]').waitFor();
  await shoot(page, 'sign-in', width);
  await page.fill('#phone', size.phone);
  await page.click('button[type="submit"]');
  const code = (await page.locator('[data-testid="dev-code"]').textContent({ timeout: 30_000 })) ?? '';
  assert.match(code, /^\d{6}$/);
  await shoot(page, 'sign-in-code', width);
  await page.fill('#code', code);
  await page.click('button[type="submit"]');
  await page.waitForURL(`${origin}/app/quota`);
  await page.locator('[data-testid="quota"]', { hasText: '0 meterai' }).waitFor();
  await grant(size.phone);

  // Buy two: the order page shows duty + fee before paying.
  await page.fill('#quantity', '2');
  await shoot(page, 'quota', width);
  await page.click('button[type="submit"]');
  await page.waitForURL(/\/app\/orders\//);
  const total = await page.locator('[data-testid="order-total"]').textContent();
  assert.equal(total, 'Rp20.000');
  assert.equal(await page.locator('[data-testid="order-status"]').textContent(), 'Menunggu pembayaran');
  await shoot(page, 'order', width);

  // Pay on the sandbox's page (a new tab), then the order page, polling, shows the credit.
  const [gateway] = await Promise.all([context.waitForEvent('page'), page.click('[data-testid="pay-link"]')]);
  await gateway.waitForLoadState();
  await gateway.setViewportSize({ width, height: size.height });
  await shoot(gateway, 'sandbox-pay', width);
  await gateway.click('button[value="pay"]');
  await gateway.locator('.note').waitFor();
  await gateway.close();
  await page.locator('[data-testid="order-status"]', { hasText: 'Lunas' }).waitFor({ timeout: 60_000 });
  await page.locator('.note.good', { hasText: 'Kuota Anda sekarang 2 meterai' }).waitFor({ timeout: 60_000 });
  await shoot(page, 'order-paid', width);

  // Stamp: the letter renders in the page; the seal starts at the lower right.
  await page.click('nav >> text=Bubuhkan');
  await page.waitForURL(`${origin}/app/stamp`);
  await page.setInputFiles('#file', {
    name: 'surat-pernyataan.pdf',
    mimeType: 'application/pdf',
    buffer: Buffer.from(letter.bytes),
  });
  const seal = page.locator('[data-testid="seal"]');
  await seal.waitFor({ timeout: 60_000 });
  assert.equal(
    await page.locator('[data-testid="seal-position"]').textContent(),
    'Meterai 70 pt, 501 pt dari kiri dan 24 pt dari bawah.',
  );
  await page.selectOption('#doc-type', { index: 1 });

  const box = await seal.boundingBox();
  assert.ok(box);
  const drag = async (dx: number, dy: number) => {
    await seal.scrollIntoViewIfNeeded();
    const from = (await seal.boundingBox())!;
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    await page.mouse.move(from.x + from.width / 2 + dx / 2, from.y + from.height / 2 + dy / 2, { steps: 4 });
    await page.mouse.move(from.x + from.width / 2 + dx, from.y + from.height / 2 + dy, { steps: 4 });
    await page.mouse.up();
  };
  // Off the page's right edge: a warning, and no stamping.
  await drag(box.width, 0);
  await page.locator('[data-testid="off-page"]').waitFor();
  assert.equal(await page.locator('[data-testid="stamp-submit"]').isDisabled(), true);
  await shoot(page, 'stamp-off-page', width);
  // Back on, and up into the page: where the person wants it.
  await drag(-box.width * 2, -box.height * 2);
  await page.locator('[data-testid="off-page"]').waitFor({ state: 'detached' });
  const placed = (await page.locator('[data-testid="seal-position"]').textContent()) ?? '';
  const [, x, y] = /(\d+) pt dari kiri dan (\d+) pt dari bawah/.exec(placed) ?? [];
  assert.ok(Number(x) < 501 && Number(y) > 24, placed);
  // The seal's label is never clipped: at phone size the box is too small for a legible label and
  // shows an icon; at desktop size the label fits (on one or two lines) inside the box.
  if (size.name === 'phone') {
    assert.equal(await seal.locator('svg.seal-icon').count(), 1);
    assert.equal(await seal.locator('span').count(), 0);
  } else {
    assert.equal(await seal.locator('span').textContent(), 'e-meterai');
    const fits = await seal.evaluate((element) => {
      const label = element.querySelector('span')!.getBoundingClientRect();
      const box = element.getBoundingClientRect();
      return label.width <= box.width - 4 && label.height <= box.height - 4;
    });
    assert.equal(fits, true);
  }
  // The whole page with its seal in view.
  await page.locator('.preview').evaluate((element) => element.scrollIntoView({ block: 'end' }));
  await shoot(page, 'stamp', width);

  await page.click('[data-testid="stamp-submit"]');
  const result = page.locator('[data-testid="stamp-result"]');
  await result.waitFor({ timeout: 60_000 });
  assert.equal(await result.getAttribute('data-status'), 'stamped');
  const serial = (await page.locator('[data-testid="serial"]').textContent()) ?? '';
  assert.ok(serial.length > 8, serial);
  await shoot(page, 'stamped', width);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('text=Unduh berkas bermeterai'),
  ]);
  const stampedPath = await download.path();
  const stamped = await readFile(stampedPath);
  assert.equal(stamped.subarray(0, 5).toString('latin1'), '%PDF-');
  assert.ok(stamped.length > letter.bytes.length);
  assert.deepEqual(
    stamped.subarray(0, letter.bytes.length),
    Buffer.from(letter.bytes),
    'the original is a prefix',
  );

  // Verify in the browser: from the moment the verifier opens, no request carries a body.
  const before = requests.length;
  await page.click('[data-testid="verify-link"]');
  await page.waitForURL(`${origin}/verify`);
  await page.locator('body[data-state="ready"]').waitFor({ state: 'attached' });
  await page.setInputFiles('#file', {
    name: download.suggestedFilename(),
    mimeType: 'application/pdf',
    buffer: stamped,
  });
  await page.locator('body[data-run="1"]').waitFor({ state: 'attached', timeout: 60_000 });
  assert.equal(await page.locator('#verdict').getAttribute('data-verdict'), 'valid');
  assert.equal(await page.locator('li.signature').getAttribute('data-serial'), serial);
  await shoot(page, 'verify', width);
  const during = requests.slice(before);
  assert.ok(during.length > 0);
  for (const request of during) {
    assert.equal(new URL(request.url).origin, origin, request.url);
    assert.equal(request.method, 'GET', request.url);
    assert.equal(request.body, null, request.url);
  }

  // A damaged file: refused before any quota is used; the balance stays at 1.
  await page.goto(`${origin}/app/stamp`);
  await page.setInputFiles('#file', {
    name: 'rusak.pdf',
    mimeType: 'application/pdf',
    buffer: Buffer.from('%PDF-1.7\nthis is not really a PDF\n'),
  });
  await page.selectOption('#doc-type', { index: 1 });
  await page.click('[data-testid="stamp-submit"]');
  const refusal = page.locator('[data-testid="stamp-problem"], [data-testid="stamp-result"]');
  await refusal.first().waitFor({ timeout: 60_000 });
  assert.equal(
    await page.locator('[data-testid="stamp-problem"] p:not(.problem)').textContent(),
    'Kuota Anda tidak terpakai.',
  );
  await shoot(page, 'stamp-refused', width);
  await page.locator('[data-testid="stamp-quota"]', { hasText: 'Kuota Anda: 1 meterai' }).waitFor();

  // History: plain words.
  await page.click('nav >> text=Riwayat');
  await page.waitForURL(`${origin}/app/history`);
  const statuses = page.locator('[data-testid="history-status"]');
  await statuses.first().waitFor();
  const words = await statuses.allTextContents();
  assert.deepEqual(words, ['Gagal — kuota dikembalikan otomatis', 'Berhasil']);
  await shoot(page, 'history', width);

  // English, then back.
  await page.click('button.language');
  await page.locator('h1', { hasText: 'Stamp history' }).waitFor();
  await shoot(page, 'history-en', width);
  await page.click('button.language');

  // The operator dashboard (this account was made an operator after signing in).
  await page.click('nav >> text=Operator');
  await page.waitForURL(`${origin}/app/operator`);
  await page.locator('[data-testid="stamps-rate"]').waitFor();
  // Its figures come from GET /v1/operator/dashboard, so a token on /metrics does not hide them. Each
  // journey bought and paid 2 units from the direct channel; none is left awaiting payment.
  await page.locator('[data-testid="orders-awaiting"]', { hasText: '0 pesanan (0 meterai)' }).waitFor();
  assert.deepEqual(
    await page.locator('[data-testid="channel-stock"] tr[data-channel="direct"] > *').allTextContents(),
    ['bubuh (direct)', size.name === 'phone' ? '99.998' : '99.996', '0'],
  );
  assert.equal(
    await page.locator('[data-testid="waiting-room-off"]').textContent(),
    'Ruang tunggu tidak aktif.',
  );
  await page.waitForTimeout(2500);
  assert.match((await page.locator('[data-testid="stamps-rate"]').textContent()) ?? '', /^\d+(,\d)?$/);
  await shoot(page, 'operator', width);

  assert.deepEqual(problems, []);
  await page.close();
}

test('the web app: sign in, buy, pay, stamp, download, verify in the browser, history — phone and desktop', async (t) => {
  if (!existsSync(chromiumPath)) {
    t.skip(`skipped: no Chromium at ${chromiumPath} (Debian package chromium; .ci/run installs it)`);
    return;
  }
  const directory = webDirectory();
  if (!existsSync(join(directory, appPageFile))) {
    t.skip(`skipped: the web app is not built (no ${join(directory, appPageFile)}; run npm run build)`);
    return;
  }

  t.diagnostic(`the journey uploads ${letter.source}`);
  const dataDir = await mkdtemp(join(tmpdir(), 'bubuh-web-app-'));
  // The sandbox's payment page is linked by the node's public URL: learn a free port first.
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const config = loadConfig(
    {},
    {
      BUBUH_DATA_DIR: dataDir,
      BUBUH_MODE: 'development',
      ...loopGuardOff,
      BUBUH_PUBLIC_URL: origin,
      // The dashboard must not depend on an open /metrics.
      BUBUH_METRICS_TOKEN: 'metrics-token-the-browser-never-sees',
    },
  );
  const node = await createNode(config, createLogger('silent'));
  const app = await buildApp(node);
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
  try {
    await app.listen({ host: '127.0.0.1', port });
    const grant = async (phone: string) => {
      await accountStoreOf(node).changeRoles(`+62${phone.slice(1)}`, ['platform_operator'], []);
    };
    for (const size of sizes) {
      const context = await browser.newContext({
        viewport: { width: size.width, height: size.height },
        deviceScaleFactor: 1,
        locale: 'id-ID',
        timezoneId: 'Asia/Jakarta',
        acceptDownloads: true,
      });
      try {
        await journey(context, origin, size, grant);
      } finally {
        await context.close();
      }
    }
  } finally {
    await browser.close();
    await app.close();
    await node.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});

test('the waiting room holds a visitor beyond capacity, keeps the place on reload and admits them later', async (t) => {
  if (!existsSync(chromiumPath)) {
    t.skip(`skipped: no Chromium at ${chromiumPath} (Debian package chromium; .ci/run installs it)`);
    return;
  }
  if (!existsSync(join(webDirectory(), appPageFile))) {
    t.skip('skipped: the web app is not built (run npm run build)');
    return;
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'bubuh-web-room-'));
  // Room for one browser at a time, for the shortest admission (one minute).
  const config = loadConfig(
    {},
    {
      BUBUH_DATA_DIR: dataDir,
      BUBUH_MODE: 'development',
      ...loopGuardOff,
      BUBUH_WAITING_ROOM_CAPACITY: '1',
      BUBUH_WAITING_ROOM_ADMITTED_MINUTES: '1',
    },
  );
  const node = await createNode(config, createLogger('silent'));
  const app = await buildApp(node);
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
  try {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const visitor = async (size: {
      readonly width: number;
      readonly height: number;
      readonly phone: string;
    }) => {
      const context = await browser.newContext({
        viewport: { width: size.width, height: size.height },
        deviceScaleFactor: 1,
        locale: 'id-ID',
      });
      const page = await context.newPage();
      await page.goto(`${origin}/app/sign-in`);
      await page.fill('#phone', size.phone);
      await page.click('button[type="submit"]');
      return { context, page };
    };

    // The first browser finds the room empty: it is admitted at once and its code is sent on retry.
    const first = await visitor({ width: 360, height: 740, phone: '081200000001' });
    await first.page.locator('.problem').waitFor();
    await first.page.locator('[data-testid="waiting-room"]').waitFor({ state: 'detached' });
    await first.page.click('button[type="submit"]');
    await first.page.locator('[data-testid="dev-code"]').waitFor({ timeout: 60_000 });

    // The next two wait, in order; a reload keeps the place.
    const second = await visitor(sizes[0]);
    await second.page.locator('[data-testid="queue-position"]', { hasText: 'Posisi Anda: 1' }).waitFor();
    const third = await visitor(sizes[1]);
    await third.page.locator('[data-testid="queue-position"]', { hasText: 'Posisi Anda: 2' }).waitFor();
    await shoot(second.page, 'waiting-room', 360);
    await shoot(third.page, 'waiting-room', 1280);
    await second.page.reload();
    await second.page.locator('[data-testid="queue-position"]', { hasText: 'Posisi Anda: 1' }).waitFor();

    // When the first admission runs out (one minute), the second goes in and its number is kept.
    await second.page
      .locator('[data-testid="waiting-room"]')
      .waitFor({ state: 'detached', timeout: 100_000 });
    await second.page.fill('#phone', sizes[0].phone);
    await second.page.click('button[type="submit"]');
    await second.page.locator('[data-testid="dev-code"]').waitFor({ timeout: 60_000 });
    await third.page
      .locator('[data-testid="queue-position"]', { hasText: 'Posisi Anda: 1' })
      .waitFor({ timeout: 60_000 });
    for (const open of [first, second, third]) await open.context.close();
  } finally {
    await browser.close();
    await app.close();
    await node.close();
    await rm(dataDir, { recursive: true, force: true });
  }
});
