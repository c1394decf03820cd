/**
 * Rebuilding the object index of a file whose cross-reference offsets are wrong, by scanning the bytes
 * for `N G obj` headers (as viewers do). Only used when the xref data cannot be trusted: it reads the
 * whole file.
 */
import { isDigit, isTokenEnd, isWhiteSpace } from './lexer.js';
import type { PdfLimits, TimeBudget } from './limits.js';
import { checkLimit } from './limits.js';
import { indexOfSequence } from './parser.js';

export interface ScannedObject {
  readonly offset: number;
  readonly generation: number;
}

const objKeyword = new TextEncoder().encode('obj');
const trailerKeyword = new TextEncoder().encode('trailer');

/** Reads digits backwards ending just before `end`; returns the start index, or -1 when there are none. */
function digitsBefore(bytes: Uint8Array, end: number): number {
  let start = end;
  while (start > 0 && isDigit(bytes[start - 1]) && end - start < 12) start -= 1;
  return start === end ? -1 : start;
}

function whiteSpaceBefore(bytes: Uint8Array, end: number): number {
  let start = end;
  while (start > 0 && isWhiteSpace(bytes[start - 1]) && end - start < 64) start -= 1;
  return start;
}

function parseDigits(bytes: Uint8Array, start: number, end: number): number {
  let value = 0;
  for (let index = start; index < end; index += 1) value = value * 10 + bytes[index]! - 0x30;
  return value;
}

/** The header `N G` ending just before the `obj` keyword at `keyword`, or null. */
function headerBefore(
  bytes: Uint8Array,
  keyword: number,
): { start: number; objectNumber: number; generation: number } | null {
  const generationEnd = whiteSpaceBefore(bytes, keyword);
  if (generationEnd === keyword) return null;
  const generationStart = digitsBefore(bytes, generationEnd);
  if (generationStart < 0) return null;
  const numberEnd = whiteSpaceBefore(bytes, generationStart);
  if (numberEnd === generationStart) return null;
  const numberStart = digitsBefore(bytes, numberEnd);
  if (numberStart < 0 || (numberStart > 0 && !isTokenEnd(bytes[numberStart - 1]))) return null;
  return {
    start: numberStart,
    objectNumber: parseDigits(bytes, numberStart, numberEnd),
    generation: parseDigits(bytes, generationStart, generationEnd),
  };
}

/** Every `N G obj` in the file; a later definition of the same number wins, as in an incremental update. */
export function scanObjects(
  bytes: Uint8Array,
  limits: PdfLimits,
  budget: TimeBudget,
): Map<number, ScannedObject> {
  const found = new Map<number, ScannedObject>();
  let position = indexOfSequence(bytes, objKeyword, 0);
  while (position >= 0) {
    budget.tick();
    if (isTokenEnd(bytes[position + 3])) {
      const header = headerBefore(bytes, position);
      if (header !== null) {
        found.set(header.objectNumber, { offset: header.start, generation: header.generation });
        checkLimit(limits, 'objectsMax', found.size);
      }
    }
    position = indexOfSequence(bytes, objKeyword, position + 3);
  }
  return found;
}

/** Positions just after each `trailer` keyword, oldest first. */
export function scanTrailers(bytes: Uint8Array, budget: TimeBudget): number[] {
  const positions: number[] = [];
  let position = indexOfSequence(bytes, trailerKeyword, 0);
  while (position >= 0 && positions.length < 10_000) {
    budget.tick();
    positions.push(position + trailerKeyword.length);
    position = indexOfSequence(bytes, trailerKeyword, position + trailerKeyword.length);
  }
  return positions;
}
