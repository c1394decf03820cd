/** Counts of fuzz outcomes: per class, per refusal code, and the failures with what replays them. */
import type { CaseResult, OutcomeClass } from './run-case.js';
import { failureClasses } from './run-case.js';

export interface Failure {
  readonly seed: number;
  readonly source: string;
  readonly edits: readonly string[];
  readonly outcome: OutcomeClass;
  readonly code: string | null;
  readonly problem: string | null;
  readonly elapsedMs: number;
}

export const outcomeClasses: readonly OutcomeClass[] = [
  'stamped',
  'refused',
  'crash',
  'invalid',
  'slow',
  'hang',
  'out-of-memory',
];

export class Tally {
  cases = 0;
  normalised = 0;
  elapsedMsMax = 0;
  elapsedMsTotal = 0;
  readonly byClass = new Map<OutcomeClass, number>(outcomeClasses.map((name) => [name, 0]));
  readonly byCode = new Map<string, number>();
  readonly failures: Failure[] = [];

  add(seed: number, source: string, edits: readonly string[], result: CaseResult): Failure | null {
    this.cases += 1;
    this.byClass.set(result.outcome, (this.byClass.get(result.outcome) ?? 0) + 1);
    if (result.outcome === 'refused' && result.code !== null) {
      this.byCode.set(result.code, (this.byCode.get(result.code) ?? 0) + 1);
    }
    if (result.normalised) this.normalised += 1;
    this.elapsedMsMax = Math.max(this.elapsedMsMax, result.elapsedMs);
    this.elapsedMsTotal += result.elapsedMs;
    if (!failureClasses.has(result.outcome)) return null;
    const failure: Failure = {
      seed,
      source,
      edits,
      outcome: result.outcome,
      code: result.code,
      problem: result.problem,
      elapsedMs: result.elapsedMs,
    };
    this.failures.push(failure);
    return failure;
  }

  count(outcome: OutcomeClass): number {
    return this.byClass.get(outcome) ?? 0;
  }
}

/** One line per failure, enough to replay it: `--replay <seed>` rebuilds the same input. */
export function formatFailure(failure: Failure): string {
  return [
    `FAILURE ${failure.outcome} seed=${failure.seed} source=${failure.source} (${Math.round(failure.elapsedMs)} ms)`,
    `  edits: ${failure.edits.length === 0 ? '(none)' : failure.edits.join('; ')}`,
    `  ${failure.code === null ? '' : `${failure.code}: `}${failure.problem ?? ''}`,
    `  replay: --replay ${failure.seed}`,
  ].join('\n');
}
