/**
 * The page tree (ISO 32000-2 §7.7.3): finding a page by walking /Kids in order, never trusting /Count,
 * with a visited set against cycles and a depth limit. Attributes a page inherits (MediaBox, CropBox,
 * Rotate, Resources) are taken from the ancestors on the walked path, not from the page's /Parent.
 */
import { BubuhError } from '../errors.js';
import type { PdfLimits } from './limits.js';
import { checkLimit } from './limits.js';
import type { PdfObject } from './objects.js';
import { isName, PdfDict, PdfRef } from './objects.js';

export type Rectangle = [number, number, number, number];

export interface PdfPage {
  readonly ref: PdfRef;
  readonly dict: PdfDict;
  /** 1-based. */
  readonly pageNumber: number;
  /** Normalised so that x0 < x1 and y0 < y1. */
  readonly mediaBox: Rectangle;
  /** The CropBox clipped to the MediaBox; the MediaBox when there is none. */
  readonly cropBox: Rectangle;
  readonly rotate: 0 | 90 | 180 | 270;
  /** The page's resources, inherited and resolved; an empty dictionary when there are none. */
  readonly resources: PdfDict;
  /** /Annots as stored in the page: an array, a reference to one, or undefined. */
  readonly annots: PdfObject | undefined;
}

/** What the walk needs from the document. */
export interface PageTreeSource {
  readonly catalog: PdfDict;
  readonly limits: PdfLimits;
  readonly warnings: string[];
  resolve(value: PdfObject | undefined): PdfObject;
  tick(): void;
}

export interface PageLeaf {
  readonly ref: PdfRef | null;
  readonly dict: PdfDict;
  /** The /Pages nodes above the leaf, nearest first. */
  readonly ancestors: readonly PdfDict[];
}

interface Frame {
  readonly kids: readonly PdfObject[];
  next: number;
  readonly ancestors: readonly PdfDict[];
}

const letterMediaBox: Rectangle = [0, 0, 612, 792];

function invalid(problem: string): BubuhError {
  return new BubuhError('PDF_PAGE_TREE_INVALID', { problem });
}

function isPagesNode(dict: PdfDict, source: PageTreeSource): boolean {
  const type = dict.get('Type');
  if (isName(type, 'Pages')) return true;
  if (isName(type, 'Page')) return false;
  return Array.isArray(source.resolve(dict.get('Kids')));
}

function kidsOf(dict: PdfDict, source: PageTreeSource): readonly PdfObject[] {
  const kids = source.resolve(dict.get('Kids'));
  return Array.isArray(kids) ? kids : [];
}

/** The leaves of the page tree in order, stopping once `stopAfter` leaves were found. */
export function walkPageTree(source: PageTreeSource, stopAfter: number): PageLeaf[] {
  const rootValue = source.catalog.get('Pages');
  const root = source.resolve(rootValue);
  if (!(root instanceof PdfDict)) throw invalid('the catalog has no /Pages dictionary');
  const visited = new Set<number>();
  if (rootValue instanceof PdfRef) visited.add(rootValue.objectNumber);
  if (!isPagesNode(root, source)) {
    return [{ ref: rootValue instanceof PdfRef ? rootValue : null, dict: root, ancestors: [] }];
  }
  const leaves: PageLeaf[] = [];
  const stack: Frame[] = [{ kids: kidsOf(root, source), next: 0, ancestors: [root] }];
  while (stack.length > 0 && leaves.length < stopAfter) {
    source.tick();
    const frame = stack[stack.length - 1]!;
    const kidValue = frame.kids[frame.next];
    frame.next += 1;
    if (frame.next > frame.kids.length) {
      stack.pop();
      continue;
    }
    if (kidValue instanceof PdfRef) {
      if (visited.has(kidValue.objectNumber)) {
        throw invalid(
          `object ${kidValue.objectNumber} appears twice in the page tree (a cycle or a shared node)`,
        );
      }
      visited.add(kidValue.objectNumber);
    }
    const kid = source.resolve(kidValue);
    if (kid === null) {
      source.warnings.push('the page tree has a missing kid; it was skipped');
      continue;
    }
    if (!(kid instanceof PdfDict)) throw invalid('a /Kids entry is not a dictionary');
    if (isPagesNode(kid, source)) {
      checkLimit(source.limits, 'pageTreeDepthMax', stack.length + 1);
      stack.push({ kids: kidsOf(kid, source), next: 0, ancestors: [kid, ...frame.ancestors] });
      continue;
    }
    // Checked before the leaf is kept: the refusal names the limit, not a count past it.
    if (leaves.length >= source.limits.pagesMax) {
      throw new BubuhError('PDF_TOO_MANY_PAGES', { limit: source.limits.pagesMax });
    }
    leaves.push({ ref: kidValue instanceof PdfRef ? kidValue : null, dict: kid, ancestors: frame.ancestors });
    checkLimit(source.limits, 'objectsMax', leaves.length);
  }
  return leaves;
}

function inherited(leaf: PageLeaf, key: string, source: PageTreeSource): PdfObject {
  const own = leaf.dict.get(key);
  if (own !== undefined) return source.resolve(own);
  for (const ancestor of leaf.ancestors) {
    const value = ancestor.get(key);
    if (value !== undefined) return source.resolve(value);
  }
  return null;
}

/** A rectangle normalised so x0 < x1 and y0 < y1; null when it is not four finite numbers with an area. */
export function normaliseRectangle(value: PdfObject, source: PageTreeSource): Rectangle | null {
  if (!Array.isArray(value) || value.length !== 4) return null;
  const numbers = value.map((item) => source.resolve(item));
  if (!numbers.every((item): item is number => typeof item === 'number' && Number.isFinite(item)))
    return null;
  const [a, b, c, d] = numbers as [number, number, number, number];
  const rectangle: Rectangle = [Math.min(a, c), Math.min(b, d), Math.max(a, c), Math.max(b, d)];
  return rectangle[0] < rectangle[2] && rectangle[1] < rectangle[3] ? rectangle : null;
}

function intersect(box: Rectangle, bounds: Rectangle): Rectangle | null {
  const result: Rectangle = [
    Math.max(box[0], bounds[0]),
    Math.max(box[1], bounds[1]),
    Math.min(box[2], bounds[2]),
    Math.min(box[3], bounds[3]),
  ];
  return result[0] < result[2] && result[1] < result[3] ? result : null;
}

function normaliseRotation(value: PdfObject, source: PageTreeSource): 0 | 90 | 180 | 270 {
  if (typeof value !== 'number' || !Number.isInteger(value) || value % 90 !== 0) {
    if (value !== null) source.warnings.push('a page /Rotate is not a multiple of 90; it was taken as 0');
    return 0;
  }
  return (((value % 360) + 360) % 360) as 0 | 90 | 180 | 270;
}

/** The page a leaf describes, with its inherited attributes resolved. */
export function buildPage(source: PageTreeSource, leaf: PageLeaf, pageNumber: number): PdfPage {
  if (leaf.ref === null) throw invalid(`page ${pageNumber} is not an indirect object`);
  let mediaBox = normaliseRectangle(inherited(leaf, 'MediaBox', source), source);
  if (mediaBox === null) {
    source.warnings.push(`page ${pageNumber} has no valid /MediaBox; US Letter was assumed`);
    mediaBox = [...letterMediaBox];
  }
  const crop = normaliseRectangle(inherited(leaf, 'CropBox', source), source);
  const cropBox = (crop === null ? null : intersect(crop, mediaBox)) ?? [...mediaBox];
  const resources = inherited(leaf, 'Resources', source);
  return {
    ref: leaf.ref,
    dict: leaf.dict,
    pageNumber,
    mediaBox,
    cropBox,
    rotate: normaliseRotation(inherited(leaf, 'Rotate', source), source),
    resources: resources instanceof PdfDict ? resources : new PdfDict(),
    annots: leaf.dict.get('Annots'),
  };
}
