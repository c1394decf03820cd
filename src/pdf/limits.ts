/**
 * Bounds on everything the reader does with an uploaded PDF, so that no input can exhaust memory or
 * time. Every limit has its own error code; a refusal names the limit it hit.
 */

import type { ErrorCode } from '../errors.js';
import { BubuhError } from '../errors.js';

export interface PdfLimits {
  /** Size of the uploaded file. */
  readonly inputBytesMax: number;
  /** Highest object count (xref /Size, objects found by a recovery scan, pages). */
  readonly objectsMax: number;
  /** Depth of nested arrays and dictionaries inside one object. */
  readonly nestingDepthMax: number;
  /** Decoded size of one stream. */
  readonly streamDecodedBytesMax: number;
  /** Decoded size of all streams one document decodes. */
  readonly totalDecodedBytesMax: number;
  /** Depth of the page tree from the root /Pages node to a leaf. */
  readonly pageTreeDepthMax: number;
  /**
   * Pages the reader walks: a document is refused once finding the wanted page (or counting the
   * pages) would pass this many leaves of its page tree. /Count is never trusted for it.
   */
  readonly pagesMax: number;
  /** Wall-clock time of one reader operation (open, page lookup, stream decode). */
  readonly timeMsMax: number;
}

export const defaultPdfLimits: PdfLimits = Object.freeze({
  inputBytesMax: 50 * 1024 * 1024,
  objectsMax: 1_000_000,
  nestingDepthMax: 100,
  streamDecodedBytesMax: 64 * 1024 * 1024,
  totalDecodedBytesMax: 256 * 1024 * 1024,
  pageTreeDepthMax: 64,
  pagesMax: 5000,
  timeMsMax: 2000,
});

/** The error code each limit refuses with. */
export const limitErrorCodes: Readonly<Record<keyof PdfLimits, ErrorCode>> = Object.freeze({
  inputBytesMax: 'PDF_TOO_LARGE',
  objectsMax: 'PDF_TOO_MANY_OBJECTS',
  nestingDepthMax: 'PDF_NESTING_TOO_DEEP',
  streamDecodedBytesMax: 'PDF_STREAM_TOO_LARGE',
  totalDecodedBytesMax: 'PDF_DECODED_TOTAL_TOO_LARGE',
  pageTreeDepthMax: 'PDF_PAGE_TREE_TOO_DEEP',
  pagesMax: 'PDF_TOO_MANY_PAGES',
  timeMsMax: 'PDF_TIME_LIMIT',
});

/** Defaults overridden by `overrides`; each value must be a positive integer (a programmer error otherwise). */
export function resolveLimits(overrides?: Partial<PdfLimits>): PdfLimits {
  // The usual case, every open of a stamp: nothing to merge or check again.
  if (overrides === undefined) return defaultPdfLimits;
  const limits = { ...defaultPdfLimits, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new Error(`invariant: PDF limit ${name} must be a positive integer, got ${String(value)}`);
    }
  }
  return Object.freeze(limits);
}

/** Refuses with the limit's own code when `value` is past `limits[name]`; `value` equal to the limit passes. */
export function checkLimit(
  limits: PdfLimits,
  name: keyof PdfLimits,
  value: number,
  details: Record<string, string | number> = {},
): void {
  const limit = limits[name];
  if (value > limit) {
    throw new BubuhError(limitErrorCodes[name], { ...details, limit, value });
  }
}

/**
 * A wall-clock budget for one reader operation. Loops call `tick()`; the clock is read only every
 * 256 ticks because reading it costs more than most loop bodies. Nested operations share the outer
 * operation's deadline.
 */
export class TimeBudget {
  private readonly timeMsMax: number;
  private deadline = 0;
  private depth = 0;
  private ticks = 0;

  constructor(timeMsMax: number) {
    this.timeMsMax = timeMsMax;
  }

  run<T>(operation: () => T): T {
    if (this.depth === 0) this.deadline = performance.now() + this.timeMsMax;
    this.depth += 1;
    try {
      return operation();
    } finally {
      this.depth -= 1;
    }
  }

  tick(): void {
    this.ticks += 1;
    if ((this.ticks & 255) === 0) this.check();
  }

  check(): void {
    if (this.depth > 0 && performance.now() > this.deadline) {
      throw new BubuhError('PDF_TIME_LIMIT', { limitMs: this.timeMsMax });
    }
  }
}
