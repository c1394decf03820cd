import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { zlibSync } from 'fflate';
import { BubuhError } from '../errors.js';
import { buildPdf, latin1Bytes, streamBody } from './fixture-builder.js';
import { openPdf } from './reader.js';

const seeds = [
  buildPdf({
    objects: [
      { number: 1, body: '<< /Type /Catalog /Pages 2 0 R >>' },
      { number: 2, body: '<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 595 842] >>' },
      {
        number: 3,
        body: '<< /Type /Page /Parent 2 0 R /Rotate 90 /Contents 4 0 R /Annots [<< /S (a\\)b) /H <0A1> >>] >>',
      },
      { number: 4, body: streamBody('/Filter /FlateDecode', zlibSync(latin1Bytes('0 0 m 9 9 l S'))) },
    ],
    trailer: '/Root 1 0 R',
  }),
  buildPdf({
    version: '1.5',
    objects: [{ number: 3, body: '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>' }],
    compressed: [
      { number: 1, body: '<< /Type /Catalog /Pages 2 0 R >>' },
      { number: 2, body: '<< /Type /Pages /Kids [3 0 R] /Count 1 >>' },
    ],
    objectStreamNumber: 5,
    xref: 'stream',
    predictor: true,
    trailer: '/Root 1 0 R',
  }),
];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), position: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), position: fc.nat() }),
  fc.record({
    kind: fc.constant('byte' as const),
    position: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({
    kind: fc.constant('cut' as const),
    position: fc.nat(),
    length: fc.integer({ min: 1, max: 40 }),
  }),
);

interface Mutation {
  readonly kind: 'flip' | 'truncate' | 'byte' | 'cut';
  readonly position: number;
  readonly bit?: number;
  readonly value?: number;
  readonly length?: number;
}

function mutate(bytes: Uint8Array, mutations: readonly Mutation[]): Uint8Array {
  let output = bytes.slice();
  for (const change of mutations) {
    if (output.length === 0) break;
    const position = change.position % output.length;
    if (change.kind === 'flip') output[position] = output[position]! ^ (1 << change.bit!);
    else if (change.kind === 'byte') output[position] = change.value!;
    else if (change.kind === 'truncate') output = output.slice(0, position);
    else
      output = new Uint8Array([
        ...output.subarray(0, position),
        ...output.subarray(position + change.length!),
      ]);
  }
  return output;
}

test('fuzz: mutated PDFs open or are refused with a BubuhError, quickly', () => {
  const outcomes = new Map<string, number>();
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: seeds.length - 1 }),
      fc.array(mutation, { minLength: 1, maxLength: 6 }),
      (seed, mutations) => {
        const bytes = mutate(seeds[seed]!, mutations);
        const started = performance.now();
        try {
          const document = openPdf(bytes, { limits: { timeMsMax: 500 } });
          const page = document.getPage('last');
          document.getPage(1);
          document.pageCount();
          for (let number = 0; number < document.size; number += 1) document.objectSpan(number);
          assert.ok(page.pageNumber >= 1);
          outcomes.set('opened', (outcomes.get('opened') ?? 0) + 1);
        } catch (error) {
          if (!(error instanceof BubuhError)) throw error;
          outcomes.set(error.code, (outcomes.get(error.code) ?? 0) + 1);
        }
        assert.ok(performance.now() - started < 1000);
      },
    ),
    { numRuns: 3000, seed: 20240601 },
  );
  // The mutations must exercise both paths: files that still open and files that are refused.
  assert.ok((outcomes.get('opened') ?? 0) > 100, JSON.stringify([...outcomes]));
  assert.ok((outcomes.get('PDF_DAMAGED') ?? 0) > 100, JSON.stringify([...outcomes]));
});
