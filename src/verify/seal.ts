/**
 * The visible part of an e-meterai: the signature field's widget must have a normal appearance, sit
 * on a page with a non-empty, visible rectangle, and be exactly what the signed revision held — a
 * seal swapped after signing would show a person something the signer never signed.
 */
import { isArray, isDict, isRef, type PdfDict, PdfStream } from '../pdf/objects.js';
import type { PdfDocument } from '../pdf/reader.js';
import { sameObject } from './later-changes.js';
import type { SignatureField } from './signature-fields.js';

export type SealOutcome =
  'ok' | 'seal_missing' | 'seal_hidden' | 'seal_not_signed' | 'seal_changed_after_stamp';

/** Annotation flags Hidden (bit 2) and NoView (bit 6). */
const invisibleFlags = 2 | 32;
/** Pages searched for a widget that names no /P; more pages than this means the widget must say where it is. */
const pagesSearchedMax = 2_000;

type Widget = SignatureField['widgets'][number];

function appearanceOf(document: PdfDocument, widget: PdfDict): PdfStream | null {
  const appearances = document.resolve(widget.get('AP'));
  const normal = isDict(appearances) ? document.resolve(appearances.get('N')) : null;
  return normal instanceof PdfStream ? normal : null;
}

function isVisible(widget: PdfDict): boolean {
  const rect = widget.get('Rect');
  if (!isArray(rect) || rect.length !== 4 || !rect.every((value) => typeof value === 'number')) return false;
  const [x0, y0, x1, y1] = rect as number[];
  const flags = widget.get('F');
  const hidden = typeof flags === 'number' && (flags & invisibleFlags) !== 0;
  return !hidden && Math.abs(x1! - x0!) > 0 && Math.abs(y1! - y0!) > 0;
}

/** True when some page lists the widget in its /Annots (its /P page first). */
function isOnPage(document: PdfDocument, widget: Widget): boolean {
  if (widget.ref === null) return false;
  const objectNumber = widget.ref.objectNumber;
  const lists = (page: PdfDict) => {
    const annots = document.resolve(page.get('Annots'));
    return isArray(annots) && annots.some((item) => isRef(item) && item.objectNumber === objectNumber);
  };
  const named = document.resolve(widget.dict.get('P'));
  if (isDict(named) && lists(named)) return true;
  const count = Math.min(document.pageCount(), pagesSearchedMax);
  for (let pageNumber = 1; pageNumber <= count; pageNumber += 1) {
    if (lists(document.getPage(pageNumber).dict)) return true;
  }
  return false;
}

/**
 * The seal as signed must be present and visible; when later revisions exist, the seal a person sees
 * now must still be exactly the signed one. `signed` is the document as of the signed revision.
 */
export function checkSeal(
  document: PdfDocument,
  field: SignatureField,
  signed: PdfDocument | null,
): SealOutcome {
  const widget =
    field.widgets.find((candidate) => appearanceOf(document, candidate.dict) !== null) ?? field.widgets[0];
  if (widget === undefined) return 'seal_missing';
  if (signed === null) return 'seal_not_signed';
  const signedDict =
    signed === document ? widget.dict : widget.ref === null ? null : signed.getObject(widget.ref);
  if (!isDict(signedDict)) return 'seal_not_signed';
  const signedWidget = { dict: signedDict, ref: widget.ref };
  const signedAppearance = appearanceOf(signed, signedDict);
  if (signedAppearance === null || !isOnPage(signed, signedWidget)) {
    return signed === document ? 'seal_missing' : 'seal_not_signed';
  }
  if (!isVisible(signedDict)) return 'seal_hidden';
  if (signed === document) return 'ok';
  const unchanged =
    sameObject(signedDict, widget.dict, 0) &&
    sameObject(signedAppearance, appearanceOf(document, widget.dict), 0) &&
    isOnPage(document, widget);
  return unchanged ? 'ok' : 'seal_changed_after_stamp';
}
