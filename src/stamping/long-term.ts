/**
 * PAdES B-LT (ETSI EN 319 142-1 §5.4): the validation data a verifier needs years later — the
 * certificates up to the root, the TSA's, and CRLs — added to the signed file in a further incremental
 * update as a Document Security Store (ISO 32000-2 §12.8.4.3): `/DSS << /Type /DSS /Certs [...]
 * /CRLs [...] >>`, referenced from the catalog. A DSS is one of the changes allowed after a signature,
 * so the stamp stays valid (with later changes). In an encrypted file every new stream is encrypted
 * with the document's key by the incremental writer, as the stamp's own objects are. Pure.
 */
import { IncrementalUpdate } from '../pdf/incremental.js';
import { checkLimit } from '../pdf/limits.js';
import {
  isArray,
  isDict,
  isRef,
  type PdfArray,
  PdfDict,
  PdfName,
  type PdfObject,
  PdfRef,
  PdfStream,
} from '../pdf/objects.js';
import type { PdfDocument } from '../pdf/reader.js';

export interface ValidationData {
  /** DER certificates: the signer's chain to the root, the TSA's. */
  readonly certificates: readonly Uint8Array[];
  /** DER CRLs of the issuing CAs. */
  readonly crls: readonly Uint8Array[];
}

export interface AppendValidationDataOptions {
  /** The new second /ID element, 16 bytes. */
  readonly fileIdentifier: Uint8Array;
  /** zlib compression; streams are stored uncompressed without it (DER compresses little anyway). */
  readonly deflate?: (data: Uint8Array) => Uint8Array;
}

function distinct(items: readonly Uint8Array[]): Uint8Array[] {
  const seen = new Set<string>();
  const result: Uint8Array[] = [];
  for (const item of items) {
    let key = '';
    for (const byte of item) key += String.fromCharCode(byte);
    if (seen.has(key)) continue;
    seen.add(key);
    result.push(item);
  }
  return result;
}

/** The references an existing DSS array already lists (kept, so earlier validation data stays). */
function existingList(document: PdfDocument, value: PdfObject | undefined): PdfArray {
  const resolved = document.resolve(value);
  return isArray(resolved) ? resolved.filter(isRef) : [];
}

/**
 * Appends one incremental update holding the DSS to `document` (opened with its password when
 * encrypted) and returns the whole new file.
 */
export function appendValidationData(
  document: PdfDocument,
  data: ValidationData,
  options: AppendValidationDataOptions,
): Uint8Array {
  const certificates = distinct(data.certificates);
  const crls = distinct(data.crls);
  checkLimit(document.limits, 'objectsMax', document.size + certificates.length + crls.length + 2);
  const update = new IncrementalUpdate(document, { fileIdentifier: options.fileIdentifier });
  const stream = (bytes: Uint8Array): PdfRef => {
    const ref = update.allocate();
    const value = options.deflate
      ? new PdfStream(new PdfDict().set('Filter', PdfName.of('FlateDecode')), options.deflate(bytes))
      : new PdfStream(new PdfDict(), bytes);
    update.set(ref, value);
    return ref;
  };
  const rootRef = document.trailer.get('Root');
  if (!isRef(rootRef)) throw new Error('DSS invariant: the trailer has no /Root reference');
  const catalog = document.catalog;
  const current = catalog.get('DSS');
  const existing = document.resolve(current);
  const dss = isDict(existing) ? existing.clone() : new PdfDict();
  dss.set('Type', PdfName.of('DSS'));
  const certificateRefs = [...existingList(document, dss.get('Certs')), ...certificates.map(stream)];
  const crlRefs = [...existingList(document, dss.get('CRLs')), ...crls.map(stream)];
  if (certificateRefs.length > 0) dss.set('Certs', certificateRefs);
  if (crlRefs.length > 0) dss.set('CRLs', crlRefs);
  if (isRef(current) && isDict(existing)) {
    update.set(current, dss);
  } else {
    const dssRef = update.allocate();
    update.set(dssRef, dss);
    update.set(rootRef, catalog.clone().set('DSS', dssRef));
  }
  return update.build().bytes;
}
