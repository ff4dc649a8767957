// Plan configurations shared by the firmware-sim tests.
import { DEFAULT_SIGNALS, loadMoteSeries, MOTE_PERIOD_MS, NO_FAULTS, type Faults, type NodeSpec, type PlanConfig } from '../../firmware-sim/src/index.js';

let motes: ReturnType<typeof loadMoteSeries> | null = null;

export function moteNodes(): NodeSpec[] {
  motes ??= loadMoteSeries();
  return motes.map((m) => ({
    device: `mote-${m.mote}`,
    periodMs: MOTE_PERIOD_MS,
    source: { kind: 'series', series: { temperature: m.temperature, humidity: m.humidity } },
  }));
}

export function syntheticNodes(n: number): NodeSpec[] {
  return Array.from({ length: n }, (_, i) => ({ device: `node-${i + 1}`, periodMs: 2000, source: { kind: 'synthetic', signals: DEFAULT_SIGNALS } }));
}

export function planConfig(overrides: Omit<Partial<PlanConfig>, 'faults'> & { faults?: Partial<Faults> } = {}): PlanConfig {
  const { faults, ...rest } = overrides;
  return {
    seed: 7,
    startTs: 1_700_000_000_000,
    nodes: moteNodes(),
    rateSpread: 0.02,
    jitter: 0.05,
    payload: 'json',
    topic: 'sensors/{device}/reading',
    readingsPerNode: 50,
    ...rest,
    faults: { ...NO_FAULTS, ...faults },
  };
}
