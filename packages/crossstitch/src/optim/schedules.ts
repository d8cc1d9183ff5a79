/**
 * Learning-rate schedules: functions from the step count (0 for the first update) to a learning rate, as in
 * optax. Any `(step) => number` can be used where a schedule is expected.
 */

/** A learning-rate schedule: step (number of updates already applied, from 0) to learning rate. */
export type Schedule = (step: number) => number;

/** A fixed learning rate or a schedule. */
export type LearningRate = number | Schedule;

function checkStep(step: number): void {
  if (!Number.isInteger(step) || step < 0) throw new RangeError(`schedule: step must be a non-negative integer, got ${step}`);
}

function finite(name: string, v: number): void {
  if (!Number.isFinite(v)) throw new RangeError(`${name} must be a finite number, got ${v}`);
}

/** A learning rate as a schedule (a number becomes a constant one). @example asSchedule(0.1)(7) // 0.1 */
export function asSchedule(lr: LearningRate): Schedule {
  if (typeof lr === 'function') return lr;
  finite('learning rate', lr);
  return () => lr;
}

/**
 * The same value at every step.
 * @example constant(0.01)(1000) // 0.01
 */
export function constant(value: number): Schedule {
  finite('constant: value', value);
  return (step) => {
    checkStep(step);
    return value;
  };
}

/** Options of {@link exponentialDecay} (optax's `exponential_decay`). */
export interface ExponentialDecayOptions {
  /** Value at step 0 (and until `transitionBegin`). */
  initValue: number;
  /** Steps over which the value is multiplied by `decayRate` once. */
  transitionSteps: number;
  /** Factor per `transitionSteps` steps. */
  decayRate: number;
  /** Steps to hold `initValue` before decaying (default 0). */
  transitionBegin?: number;
  /** Decay in whole steps of `transitionSteps` (default false: continuously). */
  staircase?: boolean;
  /** Bound the value: a lower bound when decaying (rate < 1), an upper one when growing. */
  endValue?: number;
}

/**
 * `initValue * decayRate ^ ((step - transitionBegin) / transitionSteps)`, optionally in stairs and bounded.
 * @example exponentialDecay({ initValue: 1, transitionSteps: 10, decayRate: 0.5 })(20) // 0.25
 */
export function exponentialDecay(o: ExponentialDecayOptions): Schedule {
  finite('exponentialDecay: initValue', o.initValue);
  finite('exponentialDecay: decayRate', o.decayRate);
  if (!(o.transitionSteps > 0)) throw new RangeError(`exponentialDecay: transitionSteps must be positive, got ${o.transitionSteps}`);
  if (o.decayRate <= 0) throw new RangeError(`exponentialDecay: decayRate must be positive, got ${o.decayRate}`);
  const begin = o.transitionBegin ?? 0;
  if (!(begin >= 0)) throw new RangeError(`exponentialDecay: transitionBegin must be >= 0, got ${begin}`);
  return (step) => {
    checkStep(step);
    if (step <= begin) return o.initValue;
    let p = (step - begin) / o.transitionSteps;
    if (o.staircase) p = Math.floor(p);
    let v = o.initValue * o.decayRate ** p;
    if (o.endValue !== undefined) v = o.decayRate < 1 ? Math.max(v, o.endValue) : Math.min(v, o.endValue);
    return v;
  };
}

/** Options of {@link cosineDecay} (optax's `cosine_decay_schedule`). */
export interface CosineDecayOptions {
  /** Value at step 0. */
  initValue: number;
  /** Steps over which to decay; the value stays at `alpha * initValue` after. */
  decaySteps: number;
  /** Final value as a fraction of `initValue` (default 0). */
  alpha?: number;
  /** Power applied to the cosine factor (default 1). */
  exponent?: number;
}

/**
 * `initValue * ((1 - alpha) * (0.5 * (1 + cos(pi * min(step, decaySteps) / decaySteps))) ^ exponent + alpha)`.
 * @example cosineDecay({ initValue: 1, decaySteps: 100 })(50) // 0.5
 */
export function cosineDecay(o: CosineDecayOptions): Schedule {
  finite('cosineDecay: initValue', o.initValue);
  if (!(o.decaySteps > 0)) throw new RangeError(`cosineDecay: decaySteps must be positive, got ${o.decaySteps}`);
  const alpha = o.alpha ?? 0;
  const exponent = o.exponent ?? 1;
  return (step) => {
    checkStep(step);
    const t = Math.min(step, o.decaySteps) / o.decaySteps;
    const cosine = 0.5 * (1 + Math.cos(Math.PI * t));
    return o.initValue * ((1 - alpha) * cosine ** exponent + alpha);
  };
}

/** Options of {@link stepDecay} (PyTorch's `StepLR`). */
export interface StepDecayOptions {
  /** Value for the first `stepSize` steps. */
  initValue: number;
  /** Steps between decays. */
  stepSize: number;
  /** Factor applied every `stepSize` steps. */
  gamma: number;
}

/**
 * `initValue * gamma ^ floor(step / stepSize)`.
 * @example stepDecay({ initValue: 0.1, stepSize: 30, gamma: 0.1 })(65) // 0.001
 */
export function stepDecay(o: StepDecayOptions): Schedule {
  finite('stepDecay: initValue', o.initValue);
  finite('stepDecay: gamma', o.gamma);
  if (!Number.isInteger(o.stepSize) || o.stepSize <= 0) throw new RangeError(`stepDecay: stepSize must be a positive integer, got ${o.stepSize}`);
  return (step) => {
    checkStep(step);
    return o.initValue * o.gamma ** Math.floor(step / o.stepSize);
  };
}

/**
 * `initValue` multiplied by `scale` for every boundary `b` with `step >= b` (optax's
 * `piecewise_constant_schedule`).
 * @example piecewiseConstant(1, { 10: 0.5, 20: 0.5 })(25) // 0.25
 */
export function piecewiseConstant(initValue: number, boundariesAndScales: Readonly<Record<number, number>>): Schedule {
  finite('piecewiseConstant: initValue', initValue);
  const entries = Object.entries(boundariesAndScales)
    .map(([b, s]) => [Number(b), s] as const)
    .sort((a, b) => a[0] - b[0]);
  for (const [b, s] of entries) {
    if (!Number.isInteger(b) || b < 0) throw new RangeError(`piecewiseConstant: boundary ${b} must be a non-negative integer`);
    finite(`piecewiseConstant: scale at ${b}`, s);
  }
  return (step) => {
    checkStep(step);
    let v = initValue;
    for (const [b, s] of entries) if (step >= b) v *= s;
    return v;
  };
}
