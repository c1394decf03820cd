import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BubuhError } from '../errors.js';
import { placeSeal, visiblePageSize } from './geometry.js';
import { PdfDict, PdfRef } from './objects.js';
import type { PdfPage, Rectangle } from './page-tree.js';

function page(mediaBox: Rectangle, rotate: PdfPage['rotate'], cropBox: Rectangle = mediaBox): PdfPage {
  return {
    ref: new PdfRef(3, 0),
    dict: new PdfDict(),
    pageNumber: 1,
    mediaBox,
    cropBox,
    rotate,
    resources: new PdfDict(),
    annots: undefined,
  };
}

const a4: Rectangle = [0, 0, 595, 842];
const box = { x: 20, y: 30, sizePt: 100 };

test('rotation 0: rect is the box itself, identity matrix', () => {
  assert.deepEqual(placeSeal(page(a4, 0), box), { rect: [20, 30, 120, 130], matrix: [1, 0, 0, 1, 0, 0] });
});

test('rotation 90: visible lower-left is the user-space lower-right corner', () => {
  assert.deepEqual(placeSeal(page(a4, 90), box), {
    rect: [465, 20, 565, 120],
    matrix: [0, 1, -1, 0, 100, 0],
  });
});

test('rotation 180: visible lower-left is the user-space upper-right corner', () => {
  assert.deepEqual(placeSeal(page(a4, 180), box), {
    rect: [475, 712, 575, 812],
    matrix: [-1, 0, 0, -1, 100, 100],
  });
});

test('rotation 270: visible lower-left is the user-space upper-left corner', () => {
  assert.deepEqual(placeSeal(page(a4, 270), box), {
    rect: [30, 722, 130, 822],
    matrix: [0, -1, 1, 0, 0, 100],
  });
});

test('MediaBox with a non-zero origin (corpus a19) and a CropBox (corpus a20)', () => {
  assert.deepEqual(placeSeal(page([150, 250, 762, 1042], 0), box).rect, [170, 280, 270, 380]);
  assert.deepEqual(placeSeal(page([150, 250, 762, 1042], 90), box).rect, [632, 270, 732, 370]);
  const cropped = page([0, 0, 595, 842], 0, [36, 48, 559, 806]);
  assert.deepEqual(placeSeal(cropped, box).rect, [56, 78, 156, 178]);
  assert.deepEqual(visiblePageSize(cropped), { widthPt: 523, heightPt: 758 });
});

test('a box not fully on the visible page is SEAL_OUT_OF_PAGE naming the visible size', () => {
  const rotated = page(a4, 90);
  assert.deepEqual(visiblePageSize(rotated), { widthPt: 842, heightPt: 595 });
  assert.deepEqual(placeSeal(rotated, { x: 742, y: 495, sizePt: 100 }).rect, [0, 742, 100, 842]);
  for (const outside of [
    { x: 743, y: 0, sizePt: 100 },
    { x: 0, y: 496, sizePt: 100 },
    { x: -1, y: 0, sizePt: 10 },
    { x: 0, y: 0, sizePt: 0 },
    { x: Number.NaN, y: 0, sizePt: 10 },
  ]) {
    assert.throws(
      () => placeSeal(rotated, outside),
      (error: unknown) =>
        error instanceof BubuhError &&
        error.code === 'SEAL_OUT_OF_PAGE' &&
        error.details['pageWidthPt'] === 842 &&
        error.details['pageHeightPt'] === 595,
    );
  }
});
