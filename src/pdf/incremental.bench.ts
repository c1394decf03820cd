/**
 * Micro-benchmark of the append-only writer (not a test): a typical stamp update — 8 objects
 * (catalog, page, widget, signature, seal form XObject with a 3 KB compressed stream, font, two
 * resource dictionaries) and a 16 KB /Contents placeholder — built on a small base file and on a
 * 1 MB one (the copy of the original is part of `build()`). Prints a table and a JSON line.
 *
 * Run: npx tsc -p tsconfig.json --outDir .build-pdfwriter && node .build-pdfwriter/src/pdf/incremental.bench.js
 */
import type { AppendBase } from './incremental.js';
import { fillSignature, flateStream, IncrementalUpdate } from './incremental.js';
import type { PdfObject } from './objects.js';
import { PdfDict, PdfName, PdfRef, PdfString } from './objects.js';

const dict = (entries: Record<string, PdfObject>): PdfDict => new PdfDict(new Map(Object.entries(entries)));
const name = PdfName.of;
const identifier = new Uint8Array(16).fill(0x42);

/** A valid-looking base: `bodyBytes` of filler comment plus a classic table for objects 1..5. */
function baseFile(bodyBytes: number): AppendBase {
  const filler = `%${'x'.repeat(Math.max(0, bodyBytes - 2))}\n`;
  const text = `%PDF-1.7\n${filler}xref\n0 6\n${'0000000000 65535 f \n'.repeat(6)}trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n${9 + filler.length}\n%%EOF\n`;
  const bytes = new Uint8Array(text.length);
  for (let index = 0; index < text.length; index += 1) bytes[index] = text.charCodeAt(index);
  const trailer = dict({ Size: 6, Root: new PdfRef(1, 0) });
  return { bytes, startxref: 9 + filler.length, xrefKind: 'table', trailer, size: 6, security: null };
}

/** Seal-like drawing operators compressing to about 3 KB. */
function sealContent(): Uint8Array {
  let text = 'q 0 0 0 rg\n';
  let seed = 7;
  for (let row = 0; row < 600; row += 1) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    text += `${(seed % 7000) / 100} ${((seed >> 8) % 7000) / 100} 1.75 1.75 re\n`;
  }
  text += 'f Q\nBT /F1 6 Tf 8 4 Td (METERAI ELEKTRONIK) Tj ET\n';
  return new TextEncoder().encode(text);
}

function typicalUpdate(base: AppendBase, form: ReturnType<typeof flateStream>, contentsBytes: number) {
  const update = new IncrementalUpdate(base, { fileIdentifier: identifier });
  const [signature, widget, font, resources, appearance, formRef] = Array.from({ length: 6 }, () =>
    update.allocate(),
  );
  update.addSignature(
    signature!,
    dict({
      Type: name('Sig'),
      Filter: name('Adobe.PPKLite'),
      SubFilter: name('ETSI.CAdES.detached'),
      M: PdfString.fromLatin1("D:20240915093000+07'00'"),
      Reason: PdfString.fromLatin1('e-meterai 0A1B2C3D4E5F6G7H8J9K0L'),
    }),
    contentsBytes,
  );
  update.set(formRef!, form);
  update.set(font!, dict({ Type: name('Font'), Subtype: name('Type1'), BaseFont: name('Helvetica-Bold') }));
  update.set(resources!, dict({ Font: dict({ F1: font! }), ProcSet: [name('PDF'), name('Text')] }));
  update.set(appearance!, dict({ N: formRef! }));
  update.set(
    widget!,
    dict({
      Type: name('Annot'),
      Subtype: name('Widget'),
      FT: name('Sig'),
      T: PdfString.fromLatin1('meterai-1'),
      V: signature!,
      Rect: [420.5, 60, 490.5, 130],
      F: 132,
      AP: appearance!,
      P: new PdfRef(3, 0),
    }),
  );
  update.set(
    new PdfRef(3, 0),
    dict({
      Type: name('Page'),
      Parent: new PdfRef(2, 0),
      MediaBox: [0, 0, 595.28, 841.89],
      Contents: new PdfRef(4, 0),
      Resources: resources!,
      Annots: [widget!],
    }),
  );
  update.set(
    new PdfRef(1, 0),
    dict({
      Type: name('Catalog'),
      Pages: new PdfRef(2, 0),
      AcroForm: dict({ Fields: [widget!], SigFlags: 3 }),
    }),
  );
  return update;
}

function measure(label: string, baseBytes: number, contentsBytes: number): Record<string, number | string> {
  const base = baseFile(baseBytes);
  const form = flateStream(
    dict({ Type: name('XObject'), Subtype: name('Form'), BBox: [0, 0, 70, 70] }),
    sealContent(),
  );
  const iterations = 20_000;
  const samplesMicroseconds: number[] = [];
  let addedBytes = 0;
  for (let index = 0; index < 2_000 + iterations; index += 1) {
    const update = typicalUpdate(base, form, contentsBytes);
    const start = performance.now();
    const result = update.build();
    const elapsed = performance.now() - start;
    if (index >= 2_000) samplesMicroseconds.push(elapsed * 1000);
    addedBytes = result.addedBytes;
  }
  samplesMicroseconds.sort((left, right) => left - right);
  const mean = samplesMicroseconds.reduce((sum, value) => sum + value, 0) / samplesMicroseconds.length;
  const fillResult = typicalUpdate(base, form, contentsBytes).build();
  const cms = new Uint8Array(contentsBytes - 1000).fill(0xa5);
  for (let index = 0; index < 1_000; index += 1) fillSignature(fillResult, cms);
  const fillStart = performance.now();
  for (let index = 0; index < 5_000; index += 1) fillSignature(fillResult, cms);
  const fillMicroseconds = ((performance.now() - fillStart) * 1000) / 5_000;
  return {
    case: label,
    baseBytes: base.bytes.length,
    formStreamBytes: form.raw.length,
    addedBytes,
    buildMeanMicroseconds: Number(mean.toFixed(1)),
    buildMedianMicroseconds: Number(samplesMicroseconds[samplesMicroseconds.length >> 1]!.toFixed(1)),
    buildP99Microseconds: Number(
      samplesMicroseconds[Math.floor(samplesMicroseconds.length * 0.99)]!.toFixed(1),
    ),
    fillSignatureMicroseconds: Number(fillMicroseconds.toFixed(1)),
  };
}

const rows = [
  measure('4 KB base, 16 KB placeholder (8 KB CMS)', 4_000, 8_192),
  measure('4 KB base, 32 KB placeholder (16 KB CMS)', 4_000, 16_384),
  measure('1 MB base, 16 KB placeholder (8 KB CMS)', 1_000_000, 8_192),
];
console.table(rows);
console.log(JSON.stringify({ benchmark: 'pdf-incremental-build', rows }));
