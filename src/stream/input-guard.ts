// Each reading checked against the distribution the model was trained on, before it may
// touch a device state (issue 12): one absurd value (a 1e30, a sensor's 655.35 "no
// reading" code) fed into a recurrent state poisons the predictions of the readings after
// it. The accepted range of input i is mean ± zLimit·std, narrowed to [min − span, max +
// span] (span = max − min) when the model stores its training min/max.
//
// zLimit 10 by default: real sensor data is far from Gaussian (a heat wave, a door left
// open), and refusing genuine readings turns a model that is merely out of date into
// silence, so the limit sits well beyond plausible readings (the mote models' indoor
// temperature has std 2.2 °C: ±22 °C around its mean); a sensor's glitch codes lie far
// beyond it (655.35 is 290 std out, −273.15 is 140).
//
// A model whose normalisation is the identity (mean 0 and std 1 for every input, as
// initModel makes it before training) carries no training statistics: it is not guarded.
import type { ModelInputs } from '../model/types.js';

/** `reject`: dead-letter the reading, state untouched. `clamp`: step it with values clamped into range. `off`: no check. */
export type GuardPolicy = 'reject' | 'clamp' | 'off';
export const GUARD_POLICIES: readonly GuardPolicy[] = ['reject', 'clamp', 'off'];
export const DEFAULT_GUARD_Z = 10;

export interface GuardOptions {
  /** Standard deviations from the training mean an input may lie (default DEFAULT_GUARD_Z, 10). */
  readonly guardZ?: number;
  readonly guardPolicy?: GuardPolicy;
}

/** A RangeError naming the option when one is invalid. */
export function checkGuardOptions(options: GuardOptions): void {
  const z = options.guardZ ?? DEFAULT_GUARD_Z;
  if (!(z > 0 && Number.isFinite(z))) throw new RangeError(`guardZ must be a number > 0, got ${z}`);
  const p = options.guardPolicy ?? 'reject';
  if (!GUARD_POLICIES.includes(p)) throw new RangeError(`guardPolicy must be one of ${GUARD_POLICIES.join(', ')}, got ${String(p)}`);
}

export class InputGuard {
  /** Accepted range per input [I]. */
  readonly lo: Float64Array;
  readonly hi: Float64Array;

  constructor(readonly inputs: ModelInputs, readonly zLimit = DEFAULT_GUARD_Z) {
    const I = inputs.names.length;
    this.lo = new Float64Array(I);
    this.hi = new Float64Array(I);
    for (let i = 0; i < I; i++) {
      const m = inputs.mean.data[i], s = inputs.std.data[i];
      let lo = m - zLimit * s, hi = m + zLimit * s;
      if (inputs.min && inputs.max) {
        const span = inputs.max.data[i] - inputs.min.data[i];
        lo = Math.max(lo, inputs.min.data[i] - span);
        hi = Math.min(hi, inputs.max.data[i] + span);
      }
      this.lo[i] = lo;
      this.hi[i] = hi;
    }
  }

  /** False for a model without training statistics (identity normalisation, no min/max). */
  get active(): boolean {
    if (this.inputs.min) return true;
    for (let i = 0; i < this.lo.length; i++) if (this.inputs.mean.data[i] !== 0 || this.inputs.std.data[i] !== 1) return true;
    return false;
  }

  /** Index of the first input out of range, -1 when every one is in. */
  outOfRange(x: ArrayLike<number>): number {
    for (let i = 0; i < this.lo.length; i++) if (!(x[i] >= this.lo[i] && x[i] <= this.hi[i])) return i;
    return -1;
  }

  /** Clamp x into range in place. */
  clamp(x: Float32Array): void {
    for (let i = 0; i < this.lo.length; i++) x[i] = Math.min(this.hi[i], Math.max(this.lo[i], x[i]));
  }

  /** One line naming the input, its value and the range, for a dead letter. */
  describe(x: ArrayLike<number>, i: number): string {
    const m = this.inputs.mean.data[i], s = this.inputs.std.data[i];
    const z = Math.abs(x[i] - m) / s;
    const g = (v: number) => Number(v.toPrecision(4));
    return `input "${this.inputs.names[i]}" is ${x[i]}, ${g(z)} std from the training mean ${g(m)}; accepted ${g(this.lo[i])} to ${g(this.hi[i])} (z-limit ${this.zLimit})`;
  }
}
