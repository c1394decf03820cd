/**
 * One fuzz case: stamp the input the way the service does (last page, seal at (36, 36), 70 pt) and
 * classify what happened. The contract under test: every input ends either in a valid stamped file
 * or in a typed refusal (`BubuhError`), within a time bound. Anything else is a failure.
 */
import { BubuhError } from '../errors.js';
import type { Signer } from '../pades/cms.js';
import { openStandardSecurityHandler } from '../pdf/crypt/standard-handler.js';
import type { PdfLimits } from '../pdf/limits.js';
import { isDict, isName } from '../pdf/objects.js';
import { openPdf } from '../pdf/reader.js';
import { checkCharacters } from '../seal/serial.js';
import { nodeStampEnvironment } from '../stamping/node-environment.js';
import type { StampEnvironment, StampRequest, StampResult } from '../stamping/stamp-document.js';
import { stampDocument } from '../stamping/stamp-document.js';

export type OutcomeClass = 'stamped' | 'refused' | 'crash' | 'invalid' | 'slow' | 'hang' | 'out-of-memory';

/** Outcomes that break the contract; `invalid` is a stamped file that does not re-open as stamped. */
export const failureClasses: ReadonlySet<OutcomeClass> = new Set([
  'crash',
  'invalid',
  'slow',
  'hang',
  'out-of-memory',
]);

export interface CaseResult {
  readonly outcome: OutcomeClass;
  /** The BubuhError code of a refusal (or of the error that made a stamped file invalid). */
  readonly code: string | null;
  /** What went wrong, for failures: the error's name, message and first stack frames. */
  readonly problem: string | null;
  /** Wall time of `stampDocument` alone. */
  readonly elapsedMs: number;
  readonly normalised: boolean;
}

export interface CaseOptions {
  /** The reader's own per-operation limit, below the harness bound so a refusal arrives in time. */
  readonly readerTimeMsMax: number;
  /** Wall time over which a case is a `slow` failure. */
  readonly wallMsMax: number;
}

export const defaultCaseOptions: CaseOptions = Object.freeze({ readerTimeMsMax: 1000, wallMsMax: 2000 });

const serialBody = 'FUZZ0000000000000001';
export const fuzzSerial = serialBody + checkCharacters(serialBody);

/** Node's environment with fixed "random" bytes, so a replayed case writes the same file. */
export function fuzzStampEnvironment(signer: Signer): StampEnvironment {
  return { ...nodeStampEnvironment(signer), randomBytes: (count) => new Uint8Array(count).fill(0x5a) };
}

function stampRequest(pdf: Uint8Array, options: CaseOptions): StampRequest {
  return {
    pdf,
    page: 'last',
    x: 36,
    y: 36,
    sizePt: 70,
    serial: fuzzSerial,
    verifyUrl: `https://meterai.example/s/${fuzzSerial}`,
    signingTime: new Date(Date.UTC(2025, 0, 2, 3, 4, 5)),
    limits: { timeMsMax: options.readerTimeMsMax },
  };
}

export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return `non-Error thrown: ${String(error)}`;
  const frames = (error.stack ?? '')
    .split('\n')
    .slice(1, 6)
    .map((line) => line.trim());
  return [`${error.name}: ${error.message}`, ...frames].join(' | ');
}

/** Cheap checks that a stamped file is what it claims: the input is its prefix, it re-opens, the seal is there. */
export function verifyStamped(
  input: Uint8Array,
  result: StampResult,
  environment: StampEnvironment,
  limits: Partial<PdfLimits>,
): string | null {
  const output = result.pdf;
  if (!result.normalised) {
    if (output.length <= input.length) return 'the stamped file is not longer than the input';
    for (let index = 0; index < input.length; index += 1) {
      if (output[index] !== input[index])
        return `the input is not a prefix of the stamped file (byte ${index})`;
    }
  }
  const reopened = openPdf(output, {
    limits,
    ...(environment.inflate ? { inflate: environment.inflate } : {}),
    openSecurityHandler: (encrypt, firstId, password) =>
      openStandardSecurityHandler(encrypt, firstId, password),
  });
  const page = reopened.getPage(result.pageNumber);
  const annots = reopened.resolve(page.annots);
  const widget = Array.isArray(annots) ? reopened.resolve(annots[annots.length - 1]) : null;
  if (!isDict(widget) || !isName(widget.get('FT'), 'Sig')) {
    return `page ${result.pageNumber} of the stamped file does not end its /Annots with the seal widget`;
  }
  // Checked last: the lazy reader may find a broken cross-reference table only while reading the page.
  if (reopened.recovered) return 'the stamped file needs the recovery scan to be read';
  return null;
}

export async function runCase(
  input: Uint8Array,
  environment: StampEnvironment,
  options: CaseOptions = defaultCaseOptions,
): Promise<CaseResult> {
  const request = stampRequest(input, options);
  const started = performance.now();
  let result: StampResult;
  try {
    result = await stampDocument(request, environment);
  } catch (error) {
    const elapsedMs = performance.now() - started;
    if (error instanceof BubuhError) {
      const outcome = elapsedMs > options.wallMsMax ? 'slow' : 'refused';
      return {
        outcome,
        code: error.code,
        problem: outcome === 'slow' ? error.message : null,
        elapsedMs,
        normalised: false,
      };
    }
    return { outcome: 'crash', code: null, problem: describeError(error), elapsedMs, normalised: false };
  }
  const elapsedMs = performance.now() - started;
  const normalised = result.normalised;
  if (elapsedMs > options.wallMsMax) {
    return {
      outcome: 'slow',
      code: null,
      problem: `stamped in ${Math.round(elapsedMs)} ms`,
      elapsedMs,
      normalised,
    };
  }
  try {
    const problem = verifyStamped(input, result, environment, request.limits ?? {});
    if (problem !== null) return { outcome: 'invalid', code: null, problem, elapsedMs, normalised };
  } catch (error) {
    const code = error instanceof BubuhError ? error.code : null;
    return {
      outcome: 'invalid',
      code,
      problem: `re-opening failed: ${describeError(error)}`,
      elapsedMs,
      normalised,
    };
  }
  return { outcome: 'stamped', code: null, problem: null, elapsedMs, normalised };
}
