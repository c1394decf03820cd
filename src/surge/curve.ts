/**
 * The deadline curve of the surge replay: a calm baseline below capacity, a ramp up to a multiple of
 * capacity, a hold at the peak, then the drop back to the baseline (the last day before the deadline,
 * compressed to minutes). Arrivals are scheduled from the curve alone — open loop — so a slow server
 * cannot slow the offered load down (no coordinated omission).
 */

export type PhaseName = 'baseline' | 'ramp' | 'hold' | 'after';

export interface CurveOptions {
  /** Sustainable goodput measured beforehand, requests per second. */
  readonly capacityRps: number;
  /** Offered load before and after the surge, as a fraction of capacity (e.g. 0.5). */
  readonly baselineFactor: number;
  /** Offered load during the hold, as a multiple of capacity (e.g. 10). */
  readonly peakFactor: number;
  readonly baselineS: number;
  readonly rampS: number;
  readonly holdS: number;
  readonly afterS: number;
}

export interface Phase {
  readonly name: PhaseName;
  readonly startS: number;
  readonly endS: number;
  /** Offered rate at the start and at the end of the phase (linear in between). */
  readonly fromRps: number;
  readonly toRps: number;
}

export interface Curve {
  readonly phases: readonly Phase[];
  readonly durationS: number;
  readonly peakRps: number;
  readonly baselineRps: number;
}

export function deadlineCurve(options: CurveOptions): Curve {
  const baselineRps = options.capacityRps * options.baselineFactor;
  const peakRps = options.capacityRps * options.peakFactor;
  const phases: Phase[] = [];
  let at = 0;
  const add = (name: PhaseName, seconds: number, fromRps: number, toRps: number) => {
    if (seconds <= 0) return;
    phases.push({ name, startS: at, endS: at + seconds, fromRps, toRps });
    at += seconds;
  };
  add('baseline', options.baselineS, baselineRps, baselineRps);
  add('ramp', options.rampS, baselineRps, peakRps);
  add('hold', options.holdS, peakRps, peakRps);
  add('after', options.afterS, baselineRps, baselineRps);
  return { phases, durationS: at, peakRps, baselineRps };
}

/** The phase that contains second `t` (a phase holds [startS, endS)); null outside the curve. */
export function phaseAt(curve: Curve, t: number): Phase | null {
  for (const phase of curve.phases) if (t >= phase.startS && t < phase.endS) return phase;
  return null;
}

/** The offered rate at second `t`; 0 outside the curve. */
export function rateAt(curve: Curve, t: number): number {
  const phase = phaseAt(curve, t);
  if (!phase) return 0;
  const fraction = (t - phase.startS) / (phase.endS - phase.startS);
  return phase.fromRps + (phase.toRps - phase.fromRps) * fraction;
}

/** Expected arrivals in [0, t): the integral of the rate. */
export function arrivalsBefore(curve: Curve, t: number): number {
  let total = 0;
  for (const phase of curve.phases) {
    if (t <= phase.startS) break;
    const end = Math.min(t, phase.endS);
    const span = end - phase.startS;
    const rateAtEnd = phase.fromRps + ((phase.toRps - phase.fromRps) * span) / (phase.endS - phase.startS);
    total += ((phase.fromRps + rateAtEnd) / 2) * span;
  }
  return total;
}

/**
 * The send times (seconds from the start) in [fromS, toS), evenly spaced by the curve: the k-th
 * arrival (k = 1, 2, …) is sent when arrivalsBefore first reaches k (found by bisection), so callers
 * can schedule one tick at a time and consecutive windows neither skip nor repeat an arrival.
 */
export function arrivalTimes(curve: Curve, fromS: number, toS: number): number[] {
  const times: number[] = [];
  const end = Math.min(toS, curve.durationS);
  let k = Math.max(1, Math.ceil(arrivalsBefore(curve, fromS) - 1e-9));
  const total = arrivalsBefore(curve, end);
  while (k < total - 1e-9) {
    let low = fromS;
    let high = end;
    for (let step = 0; step < 50; step += 1) {
      const middle = (low + high) / 2;
      if (arrivalsBefore(curve, middle) + 1e-9 >= k) high = middle;
      else low = middle;
    }
    times.push(high);
    k += 1;
  }
  return times;
}
