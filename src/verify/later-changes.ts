/**
 * What changed after a signature: the document as signed (the byte prefix up to the end of the
 * signed revision) is compared object by object with the document as it is now. Additions of
 * signatures, widgets, annotations, form data, DSS and metadata are harmless (ISO 32000-2 §12.8.2.2
 * allows them after an approval signature); anything else that a page can show is a content change.
 */
import {
  isArray,
  isDict,
  isName,
  isRef,
  type PdfDict,
  type PdfObject,
  PdfRef,
  PdfStream,
  PdfString,
} from '../pdf/objects.js';
import type { PdfDocument } from '../pdf/reader.js';

export interface LaterChanges {
  readonly kind: 'none' | 'harmless' | 'content_changes';
  /** Object numbers whose change is not harmless, ascending, at most `reportedObjectsMax`. */
  readonly changedObjects: readonly number[];
  /** Whether the page list itself (count or page objects) differs. */
  readonly pagesChanged: boolean;
}

const reportedObjectsMax = 16;
/** Types of objects that may change freely after an approval signature. */
const harmlessTypes = new Set(['Annot', 'Sig', 'DocTimeStamp', 'DSS', 'XRef', 'ObjStm', 'Metadata', 'VRI']);
const catalogKeysAllowed = new Set(['AcroForm', 'DSS', 'Extensions', 'Metadata']);
const pageKeysAllowed = new Set(['Annots']);
const formKeysAllowed = new Set(['Fields', 'SigFlags', 'DR', 'DA', 'NeedAppearances']);
const comparisonDepthMax = 64;
const realTolerance = 1e-5;

interface Roles {
  readonly catalog: number | null;
  readonly form: number | null;
  readonly info: number | null;
  readonly pages: ReadonlySet<number>;
  /** Arrays that only list annotations or fields. */
  readonly lists: ReadonlySet<number>;
}

export function classifyLaterChanges(signed: PdfDocument, current: PdfDocument): LaterChanges {
  const roles = rolesOf(signed, current);
  const pagesChanged = !samePageList(signed, current);
  const changed: number[] = [];
  const size = Math.min(Math.max(signed.size, current.size), signed.limits.objectsMax);
  let changedCount = 0;
  let anyChange = false;
  for (let objectNumber = 1; objectNumber < size; objectNumber += 1) {
    const before = signed.getObject(new PdfRef(objectNumber, 0));
    const after = current.getObject(new PdfRef(objectNumber, 0));
    if (sameObject(before, after, 0)) continue;
    anyChange = true;
    if (isHarmless(objectNumber, before, after, roles)) continue;
    changedCount += 1;
    if (changed.length < reportedObjectsMax) changed.push(objectNumber);
  }
  const rootBefore = signed.trailer.get('Root');
  const rootAfter = current.trailer.get('Root');
  const rootMoved =
    isRef(rootBefore) && isRef(rootAfter) && rootBefore.objectNumber !== rootAfter.objectNumber;
  const catalogChanged = rootMoved && !onlyKeysDiffer(signed.catalog, current.catalog, catalogKeysAllowed);
  if (changedCount > 0 || pagesChanged || catalogChanged)
    return { kind: 'content_changes', changedObjects: changed, pagesChanged };
  return { kind: anyChange || rootMoved ? 'harmless' : 'none', changedObjects: [], pagesChanged };
}

function referenceNumber(value: PdfObject | undefined): number | null {
  return isRef(value) ? value.objectNumber : null;
}

function rolesOf(signed: PdfDocument, current: PdfDocument): Roles {
  const pages = new Set<number>();
  const lists = new Set<number>();
  for (const document of [signed, current]) {
    const count = document.pageCount();
    for (let pageNumber = 1; pageNumber <= count; pageNumber += 1) {
      const page = document.getPage(pageNumber);
      pages.add(page.ref.objectNumber);
      const annots = referenceNumber(page.annots);
      if (annots !== null) lists.add(annots);
    }
    const form = document.resolve(document.catalog.get('AcroForm'));
    const fields = isDict(form) ? referenceNumber(form.get('Fields')) : null;
    if (fields !== null) lists.add(fields);
  }
  return {
    catalog: referenceNumber(signed.trailer.get('Root')),
    form: referenceNumber(signed.catalog.get('AcroForm')),
    info: referenceNumber(signed.trailer.get('Info')),
    pages,
    lists,
  };
}

function samePageList(signed: PdfDocument, current: PdfDocument): boolean {
  const count = signed.pageCount();
  if (current.pageCount() !== count) return false;
  for (let pageNumber = 1; pageNumber <= count; pageNumber += 1) {
    if (signed.getPage(pageNumber).ref.objectNumber !== current.getPage(pageNumber).ref.objectNumber)
      return false;
  }
  return true;
}

function typeOf(value: PdfObject): string | null {
  const dict = value instanceof PdfStream ? value.dict : isDict(value) ? value : null;
  if (dict === null) return null;
  const type = dict.get('Type');
  if (isName(type)) return type.value;
  // Widgets and fields often omit /Type; their /Subtype or field keys say what they are.
  if (isName(dict.get('Subtype'), 'Widget') || dict.has('FT')) return 'Annot';
  return dict.has('T') && dict.has('Kids') ? 'Annot' : null;
}

function isHarmless(objectNumber: number, before: PdfObject, after: PdfObject, roles: Roles): boolean {
  // A new object changes nothing a reader sees until a changed old object refers to it.
  if (before === null) return true;
  const type = typeOf(before);
  if (type !== null && harmlessTypes.has(type)) return after === null || typeOf(after) === type;
  if (objectNumber === roles.info) return true;
  if (roles.lists.has(objectNumber)) return isArray(before) && isArray(after);
  if (!isDict(before) || !isDict(after)) return false;
  if (objectNumber === roles.catalog) return onlyKeysDiffer(before, after, catalogKeysAllowed);
  if (objectNumber === roles.form) return onlyKeysDiffer(before, after, formKeysAllowed);
  if (roles.pages.has(objectNumber)) return onlyKeysDiffer(before, after, pageKeysAllowed);
  return false;
}

function onlyKeysDiffer(before: PdfDict, after: PdfDict, allowed: ReadonlySet<string>): boolean {
  for (const [key, value] of before.entries) {
    if (!allowed.has(key) && !sameObject(value, after.get(key) ?? null, 0)) return false;
  }
  for (const key of after.entries.keys()) if (!allowed.has(key) && !before.has(key)) return false;
  return true;
}

/** Structural equality of two parsed values; references compare by object number and generation. */
export function sameObject(left: PdfObject, right: PdfObject, depth: number): boolean {
  if (left === right) return true;
  if (depth > comparisonDepthMax || left === null || right === null) return false;
  // Writers re-serialise the real numbers of the objects they rewrite with fewer decimals (bubuh's own
  // writer keeps six); a difference below what PDF readers resolve (ISO 32000-2 Annex C) is no change.
  if (typeof left === 'number') return typeof right === 'number' && Math.abs(left - right) <= realTolerance;
  if (left instanceof PdfRef) return right instanceof PdfRef && left.key === right.key;
  if (left instanceof PdfString) return right instanceof PdfString && sameBytes(left.bytes, right.bytes);
  if (Array.isArray(left)) {
    if (!Array.isArray(right) || left.length !== right.length) return false;
    return left.every((item, index) => sameObject(item, right[index]!, depth + 1));
  }
  if (left instanceof PdfStream) {
    return (
      right instanceof PdfStream &&
      sameBytes(left.raw, right.raw) &&
      sameObject(left.dict, right.dict, depth + 1)
    );
  }
  if (isDict(left)) {
    if (!isDict(right) || left.entries.size !== right.entries.size) return false;
    for (const [key, value] of left.entries) {
      const other = right.get(key);
      if (other === undefined || !sameObject(value, other, depth + 1)) return false;
    }
    return true;
  }
  // Numbers, booleans and interned names compare by identity above.
  return false;
}

function sameBytes(left: Uint8Array, right: Uint8Array): boolean {
  if (left.length !== right.length) return false;
  // The signed revision is a prefix view of the same buffer, so unchanged streams are the same bytes.
  if (left.buffer === right.buffer && left.byteOffset === right.byteOffset) return true;
  for (let index = 0; index < left.length; index += 1) if (left[index] !== right[index]) return false;
  return true;
}
