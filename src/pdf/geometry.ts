/**
 * Where a seal goes on a page. A person places the seal on the page as they see it: after /Rotate and
 * within the CropBox. The widget's /Rect is in the page's unrotated user space, and its appearance
 * /Matrix rotates the seal back so it stands upright on screen (ISO 32000-2 §12.5.5: the viewer maps
 * the appearance BBox, transformed by /Matrix, onto /Rect, and then the whole page is rotated).
 */
import { BubuhError } from '../errors.js';
import type { PdfPage, Rectangle } from './page-tree.js';

export interface SealBox {
  /** Lower-left corner, in points from the lower-left corner of the visible page. */
  readonly x: number;
  readonly y: number;
  readonly sizePt: number;
}

export interface SealPlacement {
  /** The widget /Rect in the page's user space. */
  readonly rect: Rectangle;
  /** The appearance stream /Matrix for a seal drawn in [0 0 size size]. */
  readonly matrix: [number, number, number, number, number, number];
}

/** Width and height of the page as a person sees it (CropBox, turned by /Rotate). */
export function visiblePageSize(page: PdfPage): { widthPt: number; heightPt: number } {
  const width = page.cropBox[2] - page.cropBox[0];
  const height = page.cropBox[3] - page.cropBox[1];
  const sideways = page.rotate === 90 || page.rotate === 270;
  return sideways ? { widthPt: height, heightPt: width } : { widthPt: width, heightPt: height };
}

/** Maps a point (u right, v up) of the visible page to the page's user space. */
function toUserSpace(page: PdfPage, u: number, v: number): [number, number] {
  const [x0, y0, x1, y1] = page.cropBox;
  // /Rotate turns the page clockwise for display; each case undoes that turn.
  switch (page.rotate) {
    case 0:
      return [x0 + u, y0 + v];
    case 90:
      return [x1 - v, y0 + u];
    case 180:
      return [x1 - u, y1 - v];
    case 270:
      return [x0 + v, y1 - u];
  }
}

/** A counter-clockwise turn by the page's rotation, translated so [0 0 s s] maps onto itself. */
function uprightMatrix(rotate: PdfPage['rotate'], size: number): SealPlacement['matrix'] {
  switch (rotate) {
    case 0:
      return [1, 0, 0, 1, 0, 0];
    case 90:
      return [0, 1, -1, 0, size, 0];
    case 180:
      return [-1, 0, 0, -1, size, size];
    case 270:
      return [0, -1, 1, 0, 0, size];
  }
}

export function placeSeal(page: PdfPage, box: SealBox): SealPlacement {
  const { widthPt, heightPt } = visiblePageSize(page);
  const { x, y, sizePt } = box;
  const finite = Number.isFinite(x) && Number.isFinite(y) && Number.isFinite(sizePt) && sizePt > 0;
  if (!finite || x < 0 || y < 0 || x + sizePt > widthPt || y + sizePt > heightPt) {
    throw new BubuhError('SEAL_OUT_OF_PAGE', {
      pageWidthPt: Math.round(widthPt * 100) / 100,
      pageHeightPt: Math.round(heightPt * 100) / 100,
    });
  }
  const [ax, ay] = toUserSpace(page, x, y);
  const [bx, by] = toUserSpace(page, x + sizePt, y + sizePt);
  return {
    rect: [Math.min(ax, bx), Math.min(ay, by), Math.max(ax, bx), Math.max(ay, by)],
    matrix: uprightMatrix(page.rotate, sizePt),
  };
}
