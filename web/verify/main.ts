/**
 * "Periksa dokumen e-meterai": the verifier page. The chosen PDF is read and verified in this page by the
 * same `verifyDocument` the server runs; the only requests the page makes are for the published root
 * certificate (`/pki/root.der`) and the issuing CA's CRL (`/pki/crl.der`, so a revoked signer shows
 * revoked; without it the check goes on and the page says revocation was not checked). The page's
 * Content-Security-Policy (set by the server) forbids sending anything anywhere else.
 */
import { isBubuhError } from '../../src/errors.js';
import { normaliseSerial, serialProblem } from '../../src/seal/serial.js';
import { type VerificationReport, type Verdict, verifyDocument } from '../../src/verify/verify-document.js';
import type { SignatureChecks, SignatureFinding } from '../../src/verify/verify-document.js';

type Language = 'id' | 'en';
type Text = Readonly<Record<Language, string>>;

const staticTexts = {
  skip: { id: 'Langsung ke isi', en: 'Skip to content' },
  brandTag: { id: 'e-meterai', en: 'e-meterai' },
  title: { id: 'Periksa dokumen e-meterai', en: 'Check an e-meterai document' },
  privacy: {
    id: 'Berkas tidak dikirim ke mana pun — diperiksa di perangkat Anda.',
    en: 'The file is not sent anywhere — it is checked on your device.',
  },
  privacyMore: {
    id: 'Pemeriksaan berjalan di peramban ini. Halaman hanya mengambil sertifikat akar e-meterai dan daftar sertifikat yang dicabut (CRL) dari server ini.',
    en: 'The check runs in this browser. The page only fetches the e-meterai root certificate and the certificate revocation list (CRL) from this server.',
  },
  choose: { id: 'Pilih berkas PDF', en: 'Choose a PDF file' },
  dropHint: { id: 'atau seret berkas PDF ke kotak ini.', en: 'or drop a PDF file onto this box.' },
  passwordLabel: { id: 'Kata sandi dokumen', en: 'Document password' },
  passwordSubmit: { id: 'Periksa dengan kata sandi', en: 'Check with password' },
  serialLabel: { id: 'Atau ketik nomor seri e-meterai', en: 'Or type an e-meterai serial' },
  serialSubmit: { id: 'Periksa nomor seri', en: 'Check the serial' },
  serialHint: {
    id: '22 huruf dan angka, tertera di bawah kode QR meterai. Salah ketik langsung ketahuan dari dua karakter terakhirnya.',
    en: '22 letters and digits, printed below the seal’s QR code. Its last two characters catch a typo at once.',
  },
  footer: {
    id: 'Tanda tangan, rantai sertifikat, nomor seri, dan segel diperiksa terhadap sertifikat akar e-meterai yang diterbitkan. Pemeriksaan daring nomor seri (terdaftar atau dicabut) hanya dilakukan bila Anda memintanya, dan hanya nomor serinya yang dikirim.',
    en: 'Signatures, certificate chain, serial and seal are checked against the published e-meterai root certificate. The online check of a serial (registered or revoked) happens only when you ask for it, and only the serial is sent.',
  },
} as const satisfies Record<string, Text>;

const texts = {
  languageButton: { id: 'English', en: 'Bahasa Indonesia' },
  checking: { id: 'Memeriksa {name} …', en: 'Checking {name} …' },
  ready: { id: 'Pilih berkas untuk mulai memeriksa.', en: 'Choose a file to start checking.' },
  notPdf: {
    id: '{name} bukan berkas PDF. Pilih berkas berakhiran .pdf.',
    en: '{name} is not a PDF file. Choose a file ending in .pdf.',
  },
  anchorsFailed: {
    id: 'Sertifikat akar e-meterai tidak dapat diambil dari server ({problem}), jadi dokumen tidak dapat diperiksa. Muat ulang halaman atau coba lagi nanti.',
    en: 'The e-meterai root certificate could not be fetched from the server ({problem}), so the document cannot be checked. Reload the page or try again later.',
  },
  crlFailed: {
    id: 'Pencabutan sertifikat tidak dapat diperiksa: daftar sertifikat yang dicabut (CRL) tidak dapat diambil dari server ({problem}). Hasil di atas tidak memperhitungkan sertifikat yang mungkin sudah dicabut.',
    en: 'Certificate revocation could not be checked: the certificate revocation list (CRL) could not be fetched from the server ({problem}). The result above does not account for certificates that may have been revoked.',
  },
  passwordNeeded: {
    id: 'Dokumen ini dilindungi kata sandi. Masukkan kata sandi pembukanya; kata sandi juga tidak dikirim ke mana pun.',
    en: 'This document is password-protected. Enter its open password; the password is not sent anywhere either.',
  },
  failed: { id: 'Dokumen tidak dapat diperiksa: {problem}', en: 'The document cannot be checked: {problem}' },
  summary: {
    id: '{name} · {size} · diperiksa di perangkat ini dalam {ms} ms',
    en: '{name} · {size} · checked on this device in {ms} ms',
  },
  signatureHeading: { id: 'Tanda tangan {index}', en: 'Signature {index}' },
  stampHeading: { id: 'E-meterai {index}', en: 'E-meterai {index}' },
  serial: { id: 'Nomor seri', en: 'Serial' },
  signatureVerdict: { id: 'Hasil', en: 'Result' },
  signer: { id: 'Penanda tangan', en: 'Signer' },
  signingTime: { id: 'Waktu tanda tangan', en: 'Signing time' },
  coverage: { id: 'Cakupan', en: 'Coverage' },
  coversWhole: { id: 'Seluruh berkas', en: 'The whole file' },
  coversPrefix: {
    id: '{signed} dari {total} bita (ada revisi sesudahnya)',
    en: '{signed} of {total} bytes (later revisions follow)',
  },
  unknown: { id: 'tidak diketahui', en: 'unknown' },
  checksCaption: { id: 'Pemeriksaan', en: 'Checks' },
  checkColumn: { id: 'Pemeriksaan', en: 'Check' },
  outcomeColumn: { id: 'Hasil', en: 'Outcome' },
  ok: { id: 'sesuai', en: 'ok' },
  notChecked: { id: 'tidak diperiksa', en: 'not checked' },
  notApplicable: { id: 'tidak berlaku', en: 'not applicable' },
  absent: { id: 'tidak ada', en: 'absent' },
  findingsHeading: { id: 'Temuan', en: 'Findings' },
  serialProblem_length: {
    id: 'Nomor seri harus 22 karakter (sekarang {count}). Periksa kembali.',
    en: 'A serial has 22 characters (this has {count}). Check it again.',
  },
  serialProblem_charset: {
    id: 'Nomor seri hanya memakai huruf A–Z dan angka 0–9.',
    en: 'A serial uses only the letters A–Z and digits 0–9.',
  },
  serialProblem_check: {
    id: 'Nomor seri ini salah ketik: dua karakter terakhirnya tidak cocok. Periksa setiap karakternya.',
    en: 'This serial has a typo: its last two characters do not match. Check each character.',
  },
  onlineButton: { id: 'Periksa nomor seri ini secara daring', en: 'Check this serial online' },
  onlineHint: {
    id: 'Hanya nomor seri yang dikirim ke server, bukan berkasnya.',
    en: 'Only the serial is sent to the server, not the file.',
  },
  onlineChecking: { id: 'Memeriksa nomor seri di server …', en: 'Checking the serial on the server …' },
  online_valid: {
    id: 'Terdaftar: nomor seri ini diterbitkan pada {time} dan tidak dicabut.',
    en: 'Registered: this serial was issued on {time} and is not revoked.',
  },
  online_revoked: {
    id: 'DICABUT: nomor seri ini sudah dicabut ({time}). Jangan terima dokumen ini sebagai bermeterai.',
    en: 'REVOKED: this serial was revoked ({time}). Do not accept this document as stamped.',
  },
  online_unknown: {
    id: 'TIDAK TERDAFTAR: nomor seri ini tidak pernah diterbitkan oleh server ini.',
    en: 'NOT REGISTERED: this serial was never issued by this server.',
  },
  online_failed: {
    id: 'Pemeriksaan daring gagal ({problem}). Coba lagi nanti.',
    en: 'The online check failed ({problem}). Try again later.',
  },
} as const satisfies Record<string, Text>;

const verdictTexts: Readonly<Record<Verdict, { label: Text; explanation: Text; tone: string }>> = {
  valid: {
    label: { id: 'Sah', en: 'Valid' },
    explanation: {
      id: 'E-meterai sah dan dokumen tidak berubah sejak e-meterai dibubuhkan.',
      en: 'The e-meterai is valid and the document has not changed since it was affixed.',
    },
    tone: 'good',
  },
  valid_with_later_changes: {
    label: { id: 'Sah, dengan tambahan sesudahnya', en: 'Valid, with later additions' },
    explanation: {
      id: 'E-meterai sah. Sesudahnya dokumen hanya ditambah tanda tangan, anotasi, atau data formulir; isinya tidak diubah.',
      en: 'The e-meterai is valid. Afterwards the document only gained signatures, annotations or form data; its content was not changed.',
    },
    tone: 'good',
  },
  modified: {
    label: { id: 'Diubah setelah dibubuhi e-meterai', en: 'Changed after the e-meterai was affixed' },
    explanation: {
      id: 'Isi dokumen diubah setelah e-meterai dibubuhkan. Minta dokumen asli kepada pengirimnya.',
      en: 'The document content was changed after the e-meterai was affixed. Ask the sender for the original.',
    },
    tone: 'bad',
  },
  invalid: {
    label: { id: 'Tidak sah', en: 'Invalid' },
    explanation: {
      id: 'Tanda tangan e-meterai rusak atau tidak cocok dengan isi dokumen. Dokumen ini jangan diterima sebagai bermeterai.',
      en: 'The e-meterai signature is broken or does not match the document. Do not accept this document as stamped.',
    },
    tone: 'bad',
  },
  untrusted: {
    label: { id: 'Tidak tepercaya', en: 'Not trusted' },
    explanation: {
      id: 'Tanda tangan utuh, tetapi tidak berasal dari penerbit e-meterai yang tepercaya atau sertifikatnya tidak berlaku.',
      en: 'The signature is intact, but it does not come from a trusted e-meterai issuer or its certificate was not valid.',
    },
    tone: 'bad',
  },
  no_stamp: {
    label: { id: 'Tidak ada e-meterai', en: 'No e-meterai' },
    explanation: {
      id: 'Dokumen ini tidak memuat e-meterai.',
      en: 'This document carries no e-meterai.',
    },
    tone: 'warn',
  },
};

/** Labels of the checks a report carries; a check added to the verifier later shows under its own name. */
const checkNames: Readonly<Partial<Record<keyof SignatureChecks, Text>>> = {
  byteRange: { id: 'Rentang bita yang ditandatangani', en: 'Signed byte range' },
  digest: { id: 'Hash dokumen', en: 'Document digest' },
  signature: { id: 'Tanda tangan', en: 'Signature' },
  signingCertificateV2: { id: 'Atribut sertifikat penanda tangan', en: 'Signing-certificate attribute' },
  chain: { id: 'Rantai ke sertifikat akar', en: 'Chain to the root certificate' },
  validityAtSigningTime: { id: 'Masa berlaku saat ditandatangani', en: 'Validity at signing time' },
  seal: { id: 'Segel e-meterai', en: 'E-meterai seal' },
  revocation: { id: 'Pencabutan sertifikat', en: 'Certificate revocation' },
  registry: { id: 'Daftar e-meterai daring', en: 'Online e-meterai registry' },
};

const outcomeTexts: Readonly<Record<string, Text>> = {
  ok: texts.ok,
  not_checked: texts.notChecked,
  not_applicable: texts.notApplicable,
  absent: texts.absent,
  unknown: texts.unknown,
};

/** Outcomes that are neither a pass nor a failure: this page did not (or could not) check them. */
const neutralOutcomes = new Set(['not_checked', 'unknown']);
const passingOutcomes = new Set(['ok', 'not_applicable', 'absent']);

const passwordCodes = new Set(['PDF_PASSWORD_REQUIRED', 'PDF_PASSWORD_INCORRECT']);

type Outcome =
  | {
      readonly kind: 'report';
      readonly report: VerificationReport;
      readonly ms: number;
      readonly file: File;
      /** Why the CRL could not be fetched (revocation went unchecked); null when it was used. */
      readonly crlProblem: string | null;
    }
  | { readonly kind: 'error'; readonly message: Text };

/** What the public serial record (GET /v1/serials/{serial}) said, asked for only by a click. */
type OnlineOutcome =
  | { readonly kind: 'checking' }
  | { readonly kind: 'valid' | 'revoked'; readonly time: string }
  | { readonly kind: 'unknown' }
  | { readonly kind: 'failed'; readonly problem: string };

interface State {
  language: Language;
  file: File | null;
  outcome: Outcome | null;
  runs: number;
  /** The typed serial's problem, shown under the field; null when there is none to show. */
  typedProblem: { readonly key: 'length' | 'charset' | 'check'; readonly count: number } | null;
  online: Map<string, OnlineOutcome>;
}

const state: State = {
  language: 'id',
  file: null,
  outcome: null,
  runs: 0,
  typedProblem: null,
  online: new Map(),
};

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`verify page: #${id} is missing`);
  return found as T;
}

const ui = {
  language: element<HTMLButtonElement>('language'),
  form: element<HTMLFormElement>('form'),
  drop: element<HTMLDivElement>('drop'),
  file: element<HTMLInputElement>('file'),
  passwordRow: element<HTMLDivElement>('password-row'),
  password: element<HTMLInputElement>('password'),
  result: element<HTMLElement>('result'),
  status: element<HTMLParagraphElement>('status'),
  report: element<HTMLDivElement>('report'),
  verdict: element<HTMLHeadingElement>('verdict'),
  explanation: element<HTMLParagraphElement>('verdict-explanation'),
  summary: element<HTMLParagraphElement>('file-summary'),
  revocationNote: element<HTMLParagraphElement>('revocation-note'),
  reasons: element<HTMLUListElement>('reasons'),
  signatures: element<HTMLOListElement>('signatures'),
  serialForm: element<HTMLFormElement>('serial-form'),
  serialInput: element<HTMLInputElement>('serial-input'),
  serialProblem: element<HTMLParagraphElement>('serial-problem'),
};

function say(text: Text, details: Readonly<Record<string, string | number>> = {}): string {
  return text[state.language].replace(/\{(\w+)\}/g, (whole, name: string) =>
    details[name] === undefined ? whole : String(details[name]),
  );
}

function make<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  text?: string,
  attributes: Readonly<Record<string, string>> = {},
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

/** The published root certificate, fetched once from this origin (the page's only request of its own). */
const trustAnchors: Promise<readonly Uint8Array[]> = fetch('/pki/root.der', {
  credentials: 'omit',
  cache: 'no-cache',
}).then(async (response) => {
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return [new Uint8Array(await response.arrayBuffer())];
});
// Reported when a file is checked; not an unhandled rejection before then.
trustAnchors.catch(() => undefined);

/**
 * The issuing CA's current CRL, fetched once from this origin alongside the root. The verifier counts
 * it only when the issuing CA of a validated chain signed it. A failed fetch does not stop a check: it
 * runs without the CRL (the document's own /DSS may still carry one) and the page says revocation
 * could not be checked.
 */
const revocationList: Promise<{ readonly crl: Uint8Array | null; readonly problem: string | null }> = fetch(
  '/pki/crl.der',
  { credentials: 'omit', cache: 'no-cache' },
).then(
  async (response) => {
    if (!response.ok) return { crl: null, problem: `HTTP ${response.status}` };
    return { crl: new Uint8Array(await response.arrayBuffer()), problem: null };
  },
  (error: unknown) => ({ crl: null, problem: error instanceof Error ? error.message : String(error) }),
);

function formatSize(bytes: number): string {
  const format = new Intl.NumberFormat(state.language === 'id' ? 'id-ID' : 'en-GB', {
    maximumFractionDigits: 1,
  });
  if (bytes < 1024) return `${format.format(bytes)} B`;
  if (bytes < 1024 * 1024) return `${format.format(bytes / 1024)} KB`;
  return `${format.format(bytes / 1024 / 1024)} MB`;
}

function formatTime(iso: string | null): string {
  if (iso === null) return say(texts.unknown);
  return new Intl.DateTimeFormat(state.language === 'id' ? 'id-ID' : 'en-GB', {
    dateStyle: 'long',
    timeStyle: 'long',
    timeZone: 'Asia/Jakarta',
  }).format(new Date(iso));
}

function looksLikePdf(file: File): boolean {
  return file.type === 'application/pdf' || /\.pdf$/i.test(file.name) || file.type === '';
}

async function check(file: File, password?: string): Promise<void> {
  state.file = file;
  state.runs += 1;
  const run = state.runs;
  document.body.dataset['state'] = 'checking';
  ui.result.setAttribute('aria-busy', 'true');
  ui.report.hidden = true;
  ui.status.className = 'status';
  ui.status.textContent = say(texts.checking, { name: file.name });
  let outcome: Outcome;
  if (!looksLikePdf(file)) {
    outcome = { kind: 'error', message: fill(texts.notPdf, { name: file.name }) };
  } else {
    outcome = await verifyFile(file, password);
  }
  if (run !== state.runs) return; // a newer file was chosen meanwhile
  state.outcome = outcome;
  render();
  document.body.dataset['run'] = String(run);
  document.body.dataset['state'] = outcome.kind === 'report' ? 'done' : 'error';
  ui.result.setAttribute('aria-busy', 'false');
  if (outcome.kind === 'report') ui.verdict.focus();
}

/** Both languages of a text with placeholders filled, so a language switch needs no new check. */
function fill(text: Text, details: Readonly<Record<string, string | number>>): Text {
  const replace = (template: string) =>
    template.replace(/\{(\w+)\}/g, (whole, name: string) =>
      details[name] === undefined ? whole : String(details[name]),
    );
  return { id: replace(text.id), en: replace(text.en) };
}

async function verifyFile(file: File, password?: string): Promise<Outcome> {
  let anchors: readonly Uint8Array[];
  try {
    anchors = await trustAnchors;
  } catch (error) {
    return {
      kind: 'error',
      message: fill(texts.anchorsFailed, { problem: String((error as Error).message) }),
    };
  }
  const { crl, problem: crlProblem } = await revocationList;
  const bytes = new Uint8Array(await file.arrayBuffer());
  const started = performance.now();
  try {
    const report = await verifyDocument(bytes, {
      trustAnchors: anchors,
      ...(crl === null ? {} : { crls: [crl] }),
      ...(password === undefined ? {} : { password }),
    });
    const ms = performance.now() - started;
    ui.passwordRow.hidden = true;
    return { kind: 'report', report, ms, file, crlProblem };
  } catch (error) {
    if (isBubuhError(error)) {
      if (passwordCodes.has(error.code)) {
        ui.passwordRow.hidden = false;
        ui.password.value = '';
        ui.password.focus();
        if (error.code === 'PDF_PASSWORD_REQUIRED') return { kind: 'error', message: texts.passwordNeeded };
      }
      return {
        kind: 'error',
        message: {
          id: fill(texts.failed, { problem: error.messageId }).id,
          en: fill(texts.failed, { problem: error.message }).en,
        },
      };
    }
    return { kind: 'error', message: fill(texts.failed, { problem: String(error) }) };
  }
}

function render(): void {
  document.documentElement.lang = state.language;
  document.title = `${staticTexts.title[state.language]} — bubuh`;
  for (const node of document.querySelectorAll<HTMLElement>('[data-text]')) {
    const key = node.dataset['text'] as keyof typeof staticTexts;
    if (staticTexts[key] !== undefined) node.textContent = staticTexts[key][state.language];
  }
  ui.language.textContent = texts.languageButton[state.language];
  ui.language.lang = state.language === 'id' ? 'en' : 'id';
  renderTypedProblem();
  const outcome = state.outcome;
  if (outcome === null) {
    ui.status.className = 'status';
    ui.status.textContent = say(texts.ready);
    ui.report.hidden = true;
    return;
  }
  if (outcome.kind === 'error') {
    ui.status.className = 'status error';
    ui.status.setAttribute('role', 'alert');
    ui.status.textContent = outcome.message[state.language];
    ui.report.hidden = true;
    return;
  }
  ui.status.removeAttribute('role');
  ui.status.className = 'status';
  ui.status.textContent = '';
  renderReport(outcome.report, outcome.file, outcome.ms);
  ui.revocationNote.hidden = outcome.crlProblem === null;
  ui.revocationNote.textContent =
    outcome.crlProblem === null ? '' : say(texts.crlFailed, { problem: outcome.crlProblem });
}

function renderReport(report: VerificationReport, file: File, ms: number): void {
  const verdict = verdictTexts[report.verdict];
  ui.verdict.dataset['verdict'] = report.verdict;
  ui.verdict.dataset['tone'] = verdict.tone;
  ui.verdict.textContent = verdict.label[state.language];
  ui.explanation.textContent = verdict.explanation[state.language];
  ui.summary.dataset['ms'] = ms.toFixed(3);
  ui.summary.textContent = say(texts.summary, {
    name: file.name,
    size: formatSize(file.size),
    ms: ms < 10 ? ms.toFixed(1) : Math.round(ms),
  });
  ui.reasons.replaceChildren(
    ...report.reasons
      .filter((reason) => !(reason.code === 'no_stamp' && report.verdict === 'no_stamp'))
      .map((reason) => make('li', reason[state.language], { 'data-code': reason.code })),
  );
  ui.signatures.replaceChildren(
    ...report.signatures.map((signature, index) => renderSignature(signature, index + 1, report)),
  );
  ui.report.hidden = false;
}

function renderSignature(
  signature: SignatureFinding,
  index: number,
  report: VerificationReport,
): HTMLLIElement {
  const item = make('li', undefined, {
    class: 'signature',
    'data-verdict': signature.verdict,
    ...(signature.serial === null ? {} : { 'data-serial': signature.serial }),
  });
  item.append(make('h3', say(signature.isEmeterai ? texts.stampHeading : texts.signatureHeading, { index })));
  const facts = make('dl');
  const fact = (name: Text, value: string, attributes: Readonly<Record<string, string>> = {}) => {
    facts.append(make('dt', say(name)), make('dd', value, attributes));
  };
  if (signature.serial !== null) fact(texts.serial, signature.serial, { class: 'serial' });
  fact(texts.signatureVerdict, verdictTexts[signature.verdict].label[state.language], {
    'data-verdict': signature.verdict,
  });
  fact(texts.signer, signature.signerSubject ?? say(texts.unknown));
  fact(texts.signingTime, formatTime(signature.signingTime));
  const total = report.signatures.reduce((end, next) => Math.max(end, next.signedRevisionEnd), 0);
  fact(
    texts.coverage,
    signature.coversWholeFile
      ? say(texts.coversWhole)
      : say(texts.coversPrefix, {
          signed: signature.signedRevisionEnd,
          total: Math.max(total, state.file?.size ?? 0),
        }),
  );
  item.append(facts);
  if (signature.serial !== null) item.append(renderOnline(signature.serial));

  const table = make('table', undefined, { class: 'checks' });
  table.append(make('caption', say(texts.checksCaption), { class: 'visually-hidden' }));
  const head = make('tr');
  head.append(
    make('th', say(texts.checkColumn), { scope: 'col' }),
    make('th', say(texts.outcomeColumn), { scope: 'col' }),
  );
  table.append(head);
  for (const [name, outcome] of Object.entries(signature.checks) as [keyof SignatureChecks, string][]) {
    const row = make('tr');
    const standing = passingOutcomes.has(outcome)
      ? 'ok'
      : neutralOutcomes.has(outcome)
        ? 'neutral'
        : 'problem';
    row.append(
      make('th', checkNames[name]?.[state.language] ?? name, { scope: 'row' }),
      make('td', outcomeTexts[outcome]?.[state.language] ?? outcome, {
        'data-check': name,
        'data-outcome': outcome,
        'data-standing': standing,
      }),
    );
    table.append(row);
  }
  item.append(table);

  if (signature.findings.length > 0) {
    item.append(make('h4', say(texts.findingsHeading)));
    const list = make('ul', undefined, { class: 'findings' });
    for (const found of signature.findings)
      list.append(make('li', found[state.language], { 'data-code': found.code }));
    item.append(list);
  }
  return item;
}

function renderTypedProblem(): void {
  const problem = state.typedProblem;
  ui.serialProblem.hidden = problem === null;
  ui.serialInput.setAttribute('aria-invalid', problem === null ? 'false' : 'true');
  ui.serialProblem.dataset['problem'] = problem?.key ?? '';
  ui.serialProblem.textContent =
    problem === null ? '' : say(texts[`serialProblem_${problem.key}`], { count: problem.count });
}

/** The optional online check of one serial: a button, then what the registry said. */
function renderOnline(serial: string): HTMLDivElement {
  const box = make('div', undefined, { class: 'online', 'data-serial': serial });
  const outcome = state.online.get(serial);
  const button = make('button', say(texts.onlineButton), { type: 'button', class: 'online-check' });
  button.disabled = outcome?.kind === 'checking';
  button.addEventListener('click', () => void checkOnline(serial));
  box.append(button, make('p', say(texts.onlineHint), { class: 'hint' }));
  const result = make('p', undefined, { class: 'online-result', role: 'status' });
  if (outcome !== undefined) {
    result.dataset['status'] = outcome.kind;
    result.textContent =
      outcome.kind === 'checking'
        ? say(texts.onlineChecking)
        : outcome.kind === 'failed'
          ? say(texts.online_failed, { problem: outcome.problem })
          : outcome.kind === 'unknown'
            ? say(texts.online_unknown)
            : say(texts[`online_${outcome.kind}`], { time: formatTime(outcome.time) });
  }
  box.append(result);
  return box;
}

interface SerialRecordBody {
  readonly status: 'valid' | 'revoked';
  readonly stamped_at: string;
  readonly revocation: { readonly revoked_at: string } | null;
}

/** Asks the public registry about one serial; only the serial goes out, never the file. */
async function checkOnline(serial: string): Promise<void> {
  state.online.set(serial, { kind: 'checking' });
  render();
  let outcome: OnlineOutcome;
  try {
    const response = await fetch(`/v1/serials/${encodeURIComponent(serial)}`, {
      credentials: 'omit',
      cache: 'no-store',
      headers: { accept: 'application/json' },
    });
    if (response.status === 404) {
      outcome = { kind: 'unknown' };
    } else if (!response.ok) {
      outcome = { kind: 'failed', problem: `HTTP ${response.status}` };
    } else {
      const record = (await response.json()) as SerialRecordBody;
      outcome =
        record.status === 'revoked'
          ? { kind: 'revoked', time: record.revocation?.revoked_at ?? record.stamped_at }
          : { kind: 'valid', time: record.stamped_at };
    }
  } catch (error) {
    outcome = { kind: 'failed', problem: String((error as Error).message) };
  }
  state.online.set(serial, outcome);
  render();
  document.body.dataset['online'] = outcome.kind;
}

ui.serialForm.addEventListener('submit', (event) => {
  // The form never submits itself: a valid serial opens its public page, a typo is said here.
  event.preventDefault();
  const typed = ui.serialInput.value;
  const problem = serialProblem(typed);
  if (problem === null) {
    state.typedProblem = null;
    renderTypedProblem();
    window.location.assign(`/s/${normaliseSerial(typed)}`);
    return;
  }
  state.typedProblem = { key: problem, count: normaliseSerial(typed).length };
  renderTypedProblem();
  ui.serialInput.focus();
});

ui.file.addEventListener('change', () => {
  const file = ui.file.files?.[0];
  ui.passwordRow.hidden = true;
  if (file !== undefined) void check(file);
});

ui.form.addEventListener('submit', (event) => {
  // Nothing is ever submitted: the form only re-runs the check with the password.
  event.preventDefault();
  if (state.file !== null) void check(state.file, ui.password.value);
});

for (const name of ['dragenter', 'dragover'] as const) {
  ui.drop.addEventListener(name, (event) => {
    event.preventDefault();
    ui.drop.classList.add('dragging');
  });
}
ui.drop.addEventListener('dragleave', () => ui.drop.classList.remove('dragging'));
ui.drop.addEventListener('drop', (event) => {
  event.preventDefault();
  ui.drop.classList.remove('dragging');
  const file = event.dataTransfer?.files[0];
  ui.passwordRow.hidden = true;
  if (file !== undefined) void check(file);
});
// A file dropped beside the box must not make the browser navigate away to it.
window.addEventListener('dragover', (event) => event.preventDefault());
window.addEventListener('drop', (event) => event.preventDefault());

ui.language.addEventListener('click', () => {
  state.language = state.language === 'id' ? 'en' : 'id';
  render();
});
ui.language.hidden = false;

render();
document.body.dataset['state'] = 'ready';
