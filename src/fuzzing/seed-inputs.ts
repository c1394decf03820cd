/**
 * The files the fuzzer mutates: small PDFs built in code (always available, covering each
 * cross-reference form the reader knows), and the shared corpus when it is present.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { zlibSync } from 'fflate';
import { buildPdf, latin1Bytes, minimalPdf, streamBody } from '../pdf/fixture-builder.js';
import type { SeedInput } from './mutate.js';

/** Corpus files larger than this are skipped: mutating and stamping them costs more than it finds. */
export const corpusFileBytesMax = 4 * 1024 * 1024;

function objectStreamPdf(): Uint8Array {
  return buildPdf({
    version: '1.5',
    objects: [
      { number: 3, body: '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 400] /Contents 4 0 R >>' },
      { number: 4, body: streamBody('/Filter /FlateDecode', zlibSync(latin1Bytes('0 0 m 9 9 l S'))) },
    ],
    compressed: [
      { number: 1, body: '<< /Type /Catalog /Pages 2 0 R >>' },
      { number: 2, body: '<< /Type /Pages /Kids [3 0 R] /Count 1 >>' },
    ],
    objectStreamNumber: 5,
    xref: 'stream',
    predictor: true,
    trailer: '/Root 1 0 R',
  });
}

function hybridPdf(): Uint8Array {
  return buildPdf({
    version: '1.5',
    objects: [{ number: 3, body: '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Rotate 90 >>' }],
    compressed: [
      { number: 1, body: '<< /Type /Catalog /Pages 2 0 R >>' },
      { number: 2, body: '<< /Type /Pages /Kids [3 0 R] /Count 1 >>' },
    ],
    objectStreamNumber: 4,
    xref: 'hybrid',
    trailer: '/Root 1 0 R',
  });
}

/** Nested page tree, inherited boxes, an indirect /Annots array, an existing form and an indirect /Length. */
function formPdf(): Uint8Array {
  const content = latin1Bytes('BT /F1 12 Tf 72 720 Td (Surat) Tj ET');
  return buildPdf({
    objects: [
      {
        number: 1,
        body: '<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields 9 0 R /DA (/Helv 0 Tf 0 g) >> >>',
      },
      { number: 2, body: '<< /Type /Pages /Kids [5 0 R 3 0 R] /Count 2 /MediaBox [0 0 612 1008] >>' },
      { number: 5, body: '<< /Type /Pages /Parent 2 0 R /Kids [6 0 R] /Count 1 /Rotate 270 >>' },
      { number: 6, body: '<< /Type /Page /Parent 5 0 R /CropBox [10 10 600 990] >>' },
      { number: 3, body: '<< /Type /Page /Parent 2 0 R /Contents 4 0 R /Annots 7 0 R >>' },
      { number: 4, body: streamBody('', content, '8 0 R') },
      { number: 8, body: String(content.length) },
      { number: 7, body: '[10 0 R]' },
      { number: 9, body: '[10 0 R]' },
      {
        number: 10,
        body: '<< /Type /Annot /Subtype /Widget /FT /Tx /T (nama) /Rect [72 72 200 90] /P 3 0 R >>',
      },
    ],
    trailer: '/Root 1 0 R /Info << /Producer (bubuh fuzz) >>',
  });
}

/** The fixed set of code-built seeds, in a stable order (a case seed picks among them by index). */
export function builtSeedInputs(): SeedInput[] {
  const minimal = minimalPdf();
  return [
    { name: 'built:minimal', bytes: minimal },
    { name: 'built:rotated-offset', bytes: minimalPdf('/MediaBox [150 250 762 1042] /Rotate 90') },
    { name: 'built:leading-garbage', bytes: minimalPdf('/MediaBox [0 0 612 792]', { prefix: 'GARBAGE\n' }) },
    { name: 'built:object-streams', bytes: objectStreamPdf() },
    { name: 'built:hybrid', bytes: hybridPdf() },
    { name: 'built:form-nested', bytes: formPdf() },
    {
      name: 'built:incremental',
      bytes: buildPdf({
        base: minimal,
        objects: [
          { number: 3, body: '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 400] /Contents 4 0 R >>' },
        ],
        trailer: '/Root 1 0 R',
      }),
    },
  ];
}

/** The corpus PDFs up to `bytesMax`, sorted by name so the same seed picks the same file everywhere. */
export function corpusSeedInputs(directory: string, bytesMax = corpusFileBytesMax): SeedInput[] {
  return readdirSync(directory)
    .filter((file) => file.endsWith('.pdf'))
    .sort()
    .filter((file) => statSync(join(directory, file)).size <= bytesMax)
    .map((file) => ({ name: file, bytes: new Uint8Array(readFileSync(join(directory, file))) }));
}
