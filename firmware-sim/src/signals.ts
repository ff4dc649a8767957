// Synthetic sensor signals: sine + Gaussian noise + linear drift + step events, each
// node with its own seeded base, phase and steps.
import { gaussian, rngFor, symmetric, type Rng } from './rng.js';

/** One synthetic value, e.g. temperature. */
export interface SignalSpec {
  /** Mean level. */
  readonly base: number;
  /** Sine amplitude; period in milliseconds of simulated time. */
  readonly amplitude: number;
  readonly periodMs: number;
  /** Standard deviation of white noise added to each reading. */
  readonly noise: number;
  /** Linear drift per hour of simulated time. */
  readonly driftPerHour: number;
  /** Probability per reading of a step event, and its size (sign is random). */
  readonly stepProbability: number;
  readonly stepSize: number;
}

/** Defaults that look like the indoor motes of the real data set. */
export const DEFAULT_SIGNALS: Readonly<Record<string, SignalSpec>> = {
  temperature: { base: 27, amplitude: 2, periodMs: 3_600_000, noise: 0.05, driftPerHour: 0.2, stepProbability: 0.002, stepSize: 1.5 },
  humidity: { base: 45, amplitude: 4, periodMs: 3_600_000, noise: 0.2, driftPerHour: -0.5, stepProbability: 0.002, stepSize: 3 },
};

/**
 * A generator of values for one node: call with the simulated time (ms since start) of
 * each reading in order. Each node gets its own base offset (±10% of the amplitude and
 * ±1 unit), phase and step events, from (seed, device).
 */
export function syntheticSource(seed: number, device: string, signals: Readonly<Record<string, SignalSpec>>): (tMs: number) => Record<string, number> {
  const names = Object.keys(signals);
  const shape = names.map((name) => {
    const r = rngFor(seed, device, 'signal-shape', name);
    return { offset: symmetric(r), phase: 2 * Math.PI * r() };
  });
  const noise: Rng[] = names.map((name) => rngFor(seed, device, 'signal-noise', name));
  const steps: Rng[] = names.map((name) => rngFor(seed, device, 'signal-steps', name));
  const level = names.map(() => 0);
  return (tMs) => {
    const out: Record<string, number> = {};
    for (let i = 0; i < names.length; i++) {
      const s = signals[names[i]];
      const stepDraw = steps[i]();
      const stepSign = steps[i]() < 0.5 ? -1 : 1;
      if (stepDraw < s.stepProbability) level[i] += stepSign * s.stepSize;
      const v =
        s.base + shape[i].offset +
        s.amplitude * Math.sin((2 * Math.PI * tMs) / s.periodMs + shape[i].phase) +
        (s.driftPerHour * tMs) / 3_600_000 +
        level[i] +
        s.noise * gaussian(noise[i]);
      out[names[i]] = Math.round(v * 100) / 100; // two decimals, like the motes report
    }
    return out;
  };
}
