/**
 * `GET /s/{serial}`: the page a phone opens from the seal's QR code. Plain server-rendered HTML (no
 * script, so it works on any phone and under a strict CSP), Indonesian by default with an English
 * switch (`?lang=en`). It says whether the serial is registered and genuine, and — because a serial
 * alone cannot prove which document carries it — how to check the document itself, on the device.
 * A mistyped serial is caught by its check characters and said so. No personal data is shown.
 */
import type { FastifyInstance } from 'fastify';
import { BubuhError, isBubuhError } from '../errors.js';
import { serialRecord } from '../http/routes/pki.js';
import type { BubuhNode } from '../node.js';
import { docTypeOf } from './doc-types.js';
import { escapeHtml } from '../http/html.js';

type Lang = 'id' | 'en';

const texts = {
  title: { id: 'Pemeriksaan Meterai Elektronik', en: 'E-meterai check' },
  serial: { id: 'Nomor seri', en: 'Serial number' },
  genuine: {
    id: 'Terdaftar: nomor seri ini diterbitkan oleh bubuh.',
    en: 'Registered: this serial was issued by bubuh.',
  },
  revoked: {
    id: 'DICABUT: nomor seri ini sudah dicabut dan tidak berlaku lagi.',
    en: 'REVOKED: this serial has been revoked and is no longer valid.',
  },
  unknown: {
    id: 'TIDAK TERDAFTAR: nomor seri ini tidak pernah diterbitkan. Meterai pada dokumen Anda kemungkinan palsu.',
    en: 'NOT REGISTERED: this serial was never issued. The e-meterai on your document is probably fake.',
  },
  malformed: {
    id: 'Nomor seri ini tidak sah (salah ketik?): {problem}. Periksa kembali 22 karakternya.',
    en: 'This is not a valid serial (a typo?): {problem}. Check its 22 characters again.',
  },
  problem_length: { id: 'panjangnya bukan 22 karakter', en: 'it is not 22 characters long' },
  problem_charset: {
    id: 'hanya huruf A–Z dan angka 0–9 yang dipakai',
    en: 'only the letters A–Z and digits 0–9 are used',
  },
  problem_check: {
    id: 'dua karakter pemeriksanya tidak cocok',
    en: 'its two check characters do not match',
  },
  stampedAt: { id: 'Dibubuhkan', en: 'Stamped' },
  docType: { id: 'Jenis dokumen', en: 'Document type' },
  page: { id: 'Halaman', en: 'Page' },
  digest: { id: 'Sidik dokumen (awal)', en: 'Document fingerprint (prefix)' },
  revokedAt: { id: 'Dicabut', en: 'Revoked' },
  howTo: {
    id: 'Nomor seri saja tidak membuktikan dokumen mana yang membawanya. Gambar meterai bisa disalin; yang membuktikan keaslian adalah tanda tangan digital di dalam PDF. Periksa berkas PDF Anda di halaman Periksa Dokumen — berkas diperiksa di perangkat Anda dan tidak dikirim ke mana pun — dan pastikan sidik dokumennya sama dengan yang tertera di atas.',
    en: 'A serial alone does not prove which document carries it. A seal image can be copied; what proves a genuine e-meterai is the digital signature inside the PDF. Check your PDF on the Verify page — the file is checked on your device and sent nowhere — and make sure its fingerprint matches the one above.',
  },
  verifyLink: { id: 'Periksa dokumen PDF', en: 'Verify a PDF document' },
  switchLang: { id: 'English', en: 'Bahasa Indonesia' },
} as const;

function t(key: keyof typeof texts, lang: Lang, details: Record<string, string> = {}): string {
  return escapeHtml(texts[key][lang].replace(/\{(\w+)\}/g, (whole, name: string) => details[name] ?? whole));
}

const pageCsp =
  "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

function page(lang: Lang, serialText: string, body: string, tone: 'ok' | 'bad' | 'warn'): string {
  const colour = tone === 'ok' ? '#0a6b2f' : tone === 'bad' ? '#a40e0e' : '#7a4d00';
  const other: Lang = lang === 'id' ? 'en' : 'id';
  const path = `/s/${encodeURIComponent(serialText)}`;
  return `<!doctype html>
<html lang="${lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${t('title', lang)} — ${escapeHtml(serialText)}</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;padding:1rem;line-height:1.5;color:#1a1a1a;background:#fafafa}
main{max-width:36rem;margin:0 auto}
h1{font-size:1.25rem}
.status{border-left:.4rem solid ${colour};background:#fff;padding:.75rem 1rem;font-weight:600;color:${colour}}
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;background:#fff;padding:.75rem 1rem}
dt{color:#555}dd{margin:0;word-break:break-all}
code{font-size:1rem}
a{color:#0b4f9c}
nav{text-align:right}
</style>
</head>
<body>
<main>
<nav><a href="${path}?lang=${other}" hreflang="${other}" lang="${other}">${t('switchLang', lang)}</a></nav>
<h1>${t('title', lang)}</h1>
${body}
<p>${t('howTo', lang)}</p>
<p><a href="/verify">${t('verifyLink', lang)}</a></p>
</main>
</body>
</html>
`;
}

function row(label: string, value: string): string {
  return `<dt>${label}</dt><dd>${value}</dd>`;
}

export function serialPageRoutes(app: FastifyInstance, node: BubuhNode): void {
  app.get<{ Params: { serial: string }; Querystring: { lang?: string } }>(
    '/s/:serial',
    {
      schema: {
        tags: ['verify'],
        summary: 'The public page of a serial (opened from the QR code)',
        params: {
          type: 'object',
          properties: { serial: { type: 'string', maxLength: 64 } },
          required: ['serial'],
        },
        querystring: { type: 'object', properties: { lang: { type: 'string', enum: ['id', 'en'] } } },
        produces: ['text/html'],
      },
    },
    async (request, reply) => {
      const lang: Lang = request.query.lang === 'en' ? 'en' : 'id';
      const serialText = request.params.serial;
      reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', pageCsp)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'no-cache')
        .header('content-language', lang);
      try {
        const record = await serialRecord(node, serialText);
        const stamp = await node.storage.db
          .selectFrom('stamps')
          .select(['doc_type'])
          .where('serial', '=', record.serial)
          .executeTakeFirst();
        const docType = stamp ? docTypeOf(stamp.doc_type) : undefined;
        const facts = [
          row(t('serial', lang), `<code>${escapeHtml(record.serial)}</code>`),
          row(t('stampedAt', lang), escapeHtml(record.stamped_at)),
          ...(docType ? [row(t('docType', lang), escapeHtml(docType[lang]))] : []),
          row(t('page', lang), String(record.page)),
          row(t('digest', lang), `<code>${escapeHtml(record.digest_prefix)}</code>`),
          ...(record.revocation ? [row(t('revokedAt', lang), escapeHtml(record.revocation.revoked_at))] : []),
        ];
        const revoked = record.status === 'revoked';
        return page(
          lang,
          record.serial,
          `<p class="status" role="status">${t(revoked ? 'revoked' : 'genuine', lang)}</p><dl>${facts.join('')}</dl>`,
          revoked ? 'bad' : 'ok',
        );
      } catch (error) {
        if (!isBubuhError(error)) throw error;
        if (error.code === 'SERIAL_UNKNOWN') {
          reply.status(404);
          return page(
            lang,
            serialText,
            `<p class="status" role="status">${t('unknown', lang)}</p><dl>${row(t('serial', lang), `<code>${escapeHtml(serialText)}</code>`)}</dl>`,
            'bad',
          );
        }
        if (error.code === 'SERIAL_MALFORMED') {
          reply.status(400);
          const kind = String((error as BubuhError).details['problem'] ?? 'check');
          const key = `problem_${kind === 'length' || kind === 'charset' ? kind : 'check'}` as const;
          const problem = texts[key][lang];
          return page(
            lang,
            serialText,
            `<p class="status" role="status">${t('malformed', lang, { problem })}</p>`,
            'warn',
          );
        }
        throw error;
      }
    },
  );
}
