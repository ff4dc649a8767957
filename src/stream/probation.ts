// Probation of a pushed model (issue 13): when it has been seen enough to commit, and
// whether one of its outputs is plausible. Judged per device, because a model that only
// goes wrong after a few steps of one device looks fine when readings are spread over a
// large fleet and counted together. No I/O, no clock; the per-step check allocates nothing.
import type { Model } from '../model/types.js';
import { planModel } from '../model/plan.js';

export interface ProbationLimits {
  /** Clean readings (any device) before a commit; 0: no probation at all. */
  readonly minReadings: number;
  /** Devices that must each reach `minStepsPerDevice` clean steps (fewer in the fleet: see `passed`). */
  readonly minDevices: number;
  readonly minStepsPerDevice: number;
  /**
   * An output further than this many training-target standard deviations from the target
   * mean (outputs.mean / std) fails probation. Models without those statistics
   * (classification, hand-made) are only checked for finite outputs.
   */
  readonly zLimit: number;
}

export const DEFAULT_PROBATION: ProbationLimits = { minReadings: 100, minDevices: 3, minStepsPerDevice: 10, zLimit: 10 };

export function probationLimits(over: Partial<ProbationLimits> = {}): ProbationLimits {
  const l = { ...DEFAULT_PROBATION, ...over };
  for (const [k, v] of Object.entries(l)) {
    if (!(v >= 0) || (k !== 'zLimit' && !Number.isInteger(v))) throw new RangeError(`probation ${k}: expected a whole number >= 0 (zLimit: any number >= 0), got ${v}`);
  }
  return l;
}

/**
 * Clean steps per device of the model on probation. It passes when, with at least
 * `minReadings` clean readings, `minDevices` devices have each had `minStepsPerDevice`
 * clean steps; a fleet smaller than `minDevices` passes instead once every device seen
 * since the swap has reached `minStepsPerDevice` (at least one device, always).
 */
/**
 * Devices tallied one by one during a probation: a bound on memory when readings arrive
 * under very many ids (e.g. forged ones). Devices beyond it still count as clean readings,
 * but cannot be among the `minDevices` that must pass.
 */
export const MAX_PROBATION_DEVICES = 4096;

export class ProbationTally {
  private readonly steps = new Map<string, number>();
  private readings = 0;
  private devicesPassed = 0;

  constructor(readonly limits: ProbationLimits) {}

  get active(): boolean {
    return this.limits.minReadings > 0;
  }

  /** One clean step of `device`; true when that completes the probation. */
  record(device: string): boolean {
    this.readings++;
    const seen = this.steps.get(device);
    if (seen === undefined && this.steps.size >= MAX_PROBATION_DEVICES) return this.passed();
    const n = (seen ?? 0) + 1;
    this.steps.set(device, n);
    if (n === Math.max(1, this.limits.minStepsPerDevice)) this.devicesPassed++;
    return this.passed();
  }

  private passed(): boolean {
    if (this.readings < this.limits.minReadings || this.devicesPassed === 0) return false;
    return this.devicesPassed >= this.limits.minDevices || this.devicesPassed === this.steps.size;
  }

  /** Devices tallied one by one (at most MAX_PROBATION_DEVICES). */
  get devices(): number {
    return this.steps.size;
  }

  /** Clean readings so far: predictions the model on probation has published. */
  get published(): number {
    return this.readings;
  }

  clear(): void {
    this.steps.clear();
    this.readings = 0;
    this.devicesPassed = 0;
  }
}

export interface Implausible {
  readonly code: 'non-finite-output' | 'implausible-output';
  readonly reason: string;
}

/** Why an output is implausible, or null; `y` in the model's units, `x` the raw reading. */
export type PlausibilityCheck = (y: Float32Array, x: ArrayLike<number>) => Implausible | null;

/**
 * Non-finite outputs always fail; with target statistics, so does |z| > zLimit, where z is
 * (y − mean) / std of the training targets (for residual outputs, of the predicted change).
 */
export function plausibilityCheck(model: Model, zLimit: number): PlausibilityCheck {
  const mean = model.outputs.mean?.data;
  const std = model.outputs.std?.data;
  const from = planModel(model).residualFrom;
  const names = model.outputs.names;
  return (y, x) => {
    for (let o = 0; o < y.length; o++) {
      const v = y[o];
      if (!Number.isFinite(v)) return { code: 'non-finite-output', reason: `output ${names[o] ?? o} is ${v}` };
      if (!mean || !std) continue;
      const z = (v - (from ? x[from[o]] : 0) - mean[o]) / std[o];
      if (Math.abs(z) > zLimit) return { code: 'implausible-output', reason: `output ${names[o] ?? o} = ${v.toPrecision(4)} is ${z.toPrecision(3)} std from the training targets (limit ${zLimit})` };
    }
    return null;
  };
}
