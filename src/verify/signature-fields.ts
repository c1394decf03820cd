/**
 * Finding the signatures of a document: the terminal AcroForm fields of type /Sig that carry a value
 * (ISO 32000-2 §12.7.5.5), with their full names and widgets, plus text and date decoding for the
 * signature dictionary's /Reason and /M.
 */
import {
  isArray,
  isDict,
  isName,
  isRef,
  type PdfDict,
  type PdfObject,
  type PdfRef,
  PdfString,
} from '../pdf/objects.js';
import type { PdfDocument } from '../pdf/reader.js';

export interface SignatureField {
  readonly fieldName: string;
  /** The field dictionary (merged with its widget when the producer merged them). */
  readonly field: PdfDict;
  readonly fieldRef: PdfRef | null;
  readonly signature: PdfDict;
  /** The object holding the signature dictionary: /V's reference, else the field's own object. */
  readonly signatureObjectNumber: number | null;
  /** Widget annotations of the field, with their references when indirect. */
  readonly widgets: readonly { readonly dict: PdfDict; readonly ref: PdfRef | null }[];
}

/** Bounds on the field tree walk: real forms have dozens of fields, hostile ones millions. */
const fieldsMax = 10_000;
const fieldDepthMax = 16;

interface PendingField {
  readonly value: PdfObject;
  readonly parentName: string;
  readonly inheritedType: string | null;
  readonly depth: number;
}

export function findSignatureFields(document: PdfDocument): SignatureField[] {
  const form = document.resolve(document.catalog.get('AcroForm'));
  const fields = isDict(form) ? document.resolve(form.get('Fields')) : null;
  if (!isArray(fields)) return [];
  const found: SignatureField[] = [];
  const visited = new Set<number>();
  const pending: PendingField[] = fields.map((value) => ({
    value,
    parentName: '',
    inheritedType: null,
    depth: 0,
  }));
  pending.reverse();
  for (let visits = 0; pending.length > 0 && visits < fieldsMax; visits += 1) {
    const next = pending.pop()!;
    if (isRef(next.value)) {
      if (visited.has(next.value.objectNumber)) continue;
      visited.add(next.value.objectNumber);
    }
    const dict = document.resolve(next.value);
    if (!isDict(dict)) continue;
    const partial = textOf(document.resolve(dict.get('T')));
    const name =
      partial === null ? next.parentName : next.parentName === '' ? partial : `${next.parentName}.${partial}`;
    const typeValue = dict.get('FT');
    const type = isName(typeValue) ? typeValue.value : next.inheritedType;
    const kids = document.resolve(dict.get('Kids'));
    const childFields = isArray(kids) ? kids.filter((kid) => isFieldNotWidget(document, kid)) : [];
    if (childFields.length > 0 && next.depth < fieldDepthMax) {
      for (const kid of [...childFields].reverse()) {
        pending.push({ value: kid, parentName: name, inheritedType: type, depth: next.depth + 1 });
      }
      continue;
    }
    const signature = type === 'Sig' ? document.resolve(dict.get('V')) : null;
    if (!isDict(signature)) continue;
    const reference = isRef(next.value) ? next.value : null;
    const valueRef = dict.get('V');
    found.push({
      fieldName: name,
      field: dict,
      fieldRef: reference,
      signature,
      signatureObjectNumber: isRef(valueRef) ? valueRef.objectNumber : (reference?.objectNumber ?? null),
      widgets: widgetsOf(document, dict, reference),
    });
  }
  return found;
}

/** A kid is a field when it has a partial name or its own kids; otherwise it is a widget of its parent. */
function isFieldNotWidget(document: PdfDocument, kid: PdfObject): boolean {
  const dict = document.resolve(kid);
  return isDict(dict) && (dict.has('T') || (dict.has('Kids') && !isName(dict.get('Subtype'), 'Widget')));
}

function widgetsOf(
  document: PdfDocument,
  field: PdfDict,
  fieldRef: PdfRef | null,
): { dict: PdfDict; ref: PdfRef | null }[] {
  if (isName(field.get('Subtype'), 'Widget')) return [{ dict: field, ref: fieldRef }];
  const kids = document.resolve(field.get('Kids'));
  const widgets: { dict: PdfDict; ref: PdfRef | null }[] = [];
  for (const kid of isArray(kids) ? kids.slice(0, 64) : []) {
    const dict = document.resolve(kid);
    if (isDict(dict) && isName(dict.get('Subtype'), 'Widget'))
      widgets.push({ dict, ref: isRef(kid) ? kid : null });
  }
  return widgets;
}

/** A PDF text string (§7.9.2.2): UTF-16BE or UTF-8 with their byte-order marks, else PDFDocEncoding as Latin-1. */
export function textOf(value: PdfObject): string | null {
  if (!(value instanceof PdfString)) return null;
  const bytes = value.bytes;
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    let text = '';
    for (let index = 2; index + 1 < bytes.length; index += 2) {
      text += String.fromCharCode((bytes[index]! << 8) | bytes[index + 1]!);
    }
    return text;
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return new TextDecoder().decode(bytes.subarray(3));
  }
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return text;
}

/** A PDF date (§7.9.4) `D:YYYYMMDDHHmmSSOHH'mm'`, missing parts defaulted; null when unreadable. */
export function parsePdfDate(text: string | null): Date | null {
  if (text === null) return null;
  const match =
    /^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:([Zz+-])(\d{2})?'?(\d{2})?'?)?/.exec(
      text.trim(),
    );
  if (match === null) return null;
  const number = (index: number, fallback: number) =>
    match[index] === undefined ? fallback : Number(match[index]);
  let time = Date.UTC(number(1, 0), number(2, 1) - 1, number(3, 1), number(4, 0), number(5, 0), number(6, 0));
  const sign = match[7];
  if (sign === '+' || sign === '-') {
    const offsetMinutes = number(8, 0) * 60 + number(9, 0);
    time -= (sign === '+' ? 1 : -1) * offsetMinutes * 60_000;
  }
  return Number.isNaN(time) ? null : new Date(time);
}
