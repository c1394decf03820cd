/**
 * Decrypting a freshly loaded indirect object through the document's security handler (ISO 32000-2
 * §7.6.2): every string and the stream data, except what the specification leaves in the clear.
 */
import { BubuhError } from '../errors.js';
import { pdfDamaged } from './lexer.js';
import type { PdfObject } from './objects.js';
import { isName, PdfDict, PdfStream, PdfString } from './objects.js';
import type { SecurityHandler } from './security.js';

/** A signature dictionary's /Contents is never encrypted (§7.6.2), so it must not be decrypted. */
function isSignatureDictionary(dict: PdfDict): boolean {
  const type = dict.get('Type');
  if (isName(type, 'Sig') || isName(type, 'DocTimeStamp')) return true;
  return dict.has('ByteRange') && dict.get('Contents') instanceof PdfString;
}

function streamIsInTheClear(handler: SecurityHandler, dict: PdfDict): boolean {
  const type = dict.get('Type');
  // Cross-reference streams are never encrypted; metadata is not when /EncryptMetadata is false.
  if (isName(type, 'XRef')) return true;
  if (isName(type, 'Metadata') && !handler.encryptMetadata) return true;
  // A stream whose first filter is /Crypt chose its own crypt filter; only /Identity is in use in practice.
  const filter = dict.get('Filter');
  const first = Array.isArray(filter) ? filter[0] : filter;
  return isName(first, 'Crypt');
}

function decryptString(
  handler: SecurityHandler,
  value: PdfString,
  objectNumber: number,
  generation: number,
): PdfString {
  return new PdfString(
    guard(() => handler.decryptString(objectNumber, generation, value.bytes), objectNumber),
    value.hex,
  );
}

function guard(decrypt: () => Uint8Array, objectNumber: number): Uint8Array {
  try {
    return decrypt();
  } catch (error) {
    if (error instanceof BubuhError) throw error;
    throw pdfDamaged(`object ${objectNumber} cannot be decrypted (${String(error)})`);
  }
}

/** Decrypts the strings inside `container` in place; the parser built it, so nothing else shares it. */
function decryptContainer(
  handler: SecurityHandler,
  root: PdfObject[] | PdfDict,
  objectNumber: number,
  generation: number,
): void {
  const pending: (PdfObject[] | PdfDict)[] = [root];
  // The parser bounded the nesting depth, so this walk visits a bounded tree.
  while (pending.length > 0) {
    const container = pending.pop()!;
    if (Array.isArray(container)) {
      for (let index = 0; index < container.length; index += 1) {
        const item = container[index]!;
        if (item instanceof PdfString)
          container[index] = decryptString(handler, item, objectNumber, generation);
        else if (Array.isArray(item) || item instanceof PdfDict) pending.push(item);
      }
      continue;
    }
    const skipContents = isSignatureDictionary(container);
    for (const [key, item] of container.entries) {
      if (item instanceof PdfString) {
        if (skipContents && key === 'Contents') continue;
        container.entries.set(key, decryptString(handler, item, objectNumber, generation));
      } else if (Array.isArray(item) || item instanceof PdfDict) {
        pending.push(item);
      }
    }
  }
}

export function decryptLoadedObject(
  handler: SecurityHandler,
  value: PdfObject,
  objectNumber: number,
  generation: number,
): PdfObject {
  if (value instanceof PdfString) return decryptString(handler, value, objectNumber, generation);
  if (Array.isArray(value) || value instanceof PdfDict) {
    decryptContainer(handler, value, objectNumber, generation);
    return value;
  }
  if (value instanceof PdfStream) {
    if (isName(value.dict.get('Type'), 'XRef')) return value;
    decryptContainer(handler, value.dict, objectNumber, generation);
    if (streamIsInTheClear(handler, value.dict)) return value;
    const raw = guard(() => handler.decryptStream(objectNumber, generation, value.raw), objectNumber);
    return new PdfStream(value.dict, raw);
  }
  return value;
}
