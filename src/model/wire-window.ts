// The windowed-model parts of a model v1 wire object (issue 19; files without them decode as
// before): the top-level window, outputs.from, and a recurrent layer's direction with its
// reverse weights. Same rules as wire.ts: every check names its field.
import type { ModelOutputs, ModelWindow, RecurrentWeights } from './types.js';
import { fail, get, obj, oneOf, optional, posInt, type Obj } from './wire-fields.js';
import { parseF32, parseWeight } from './wire-tensor.js';

const DIRECTIONS = ['forward', 'bidirectional'] as const;
/** Largest window.size: a device's ring holds size × I floats, so it bounds memory per device. */
export const MAX_WINDOW = 4096;

/** One direction's four tensors: wIh [G, I], wHh [G, H], bIh [G], bHh [G]. */
export function parseDirection(l: Obj, field: string, G: number, I: number, H: number): RecurrentWeights {
  return {
    wIh: parseWeight(get(l, 'wIh', field), `${field}.wIh`, [G, I]),
    wHh: parseWeight(get(l, 'wHh', field), `${field}.wHh`, [G, H]),
    bIh: parseF32(get(l, 'bIh', field), `${field}.bIh`, [G]),
    bHh: parseF32(get(l, 'bHh', field), `${field}.bHh`, [G]),
  };
}

// Optional direction (issue 19; older files have none and are forward): "bidirectional"
// carries a `reverse` map with the second direction's weights, and needs a windowed model,
// because reading right to left needs the readings after the one being classified.
export function parseReverse(l: Obj, field: string, windowed: boolean, G: number, I: number, H: number) {
  const rawDirection = optional(l, 'direction');
  const rawReverse = optional(l, 'reverse');
  const direction = rawDirection === undefined ? undefined : oneOf(rawDirection, DIRECTIONS, `${field}.direction`);
  if (direction !== 'bidirectional') {
    if (rawReverse !== undefined) fail(`${field}.reverse`, 'only a layer with direction "bidirectional" has reverse weights');
    return direction ? { direction } : {};
  }
  if (!windowed) fail(`${field}.direction`, 'a bidirectional layer reads the window right to left, so the model needs a top-level window');
  if (rawReverse === undefined) fail(`${field}.reverse`, 'missing (a bidirectional layer needs the reverse direction\'s wIh, wHh, bIh, bHh)');
  return { direction, reverse: parseDirection(obj(rawReverse, `${field}.reverse`), `${field}.reverse`, G, I, H) };
}

// Optional window (issue 19; older files have none: one prediction per reading).
export function parseWindow(v: unknown): ModelWindow {
  const w = obj(v, 'window');
  const size = posInt(get(w, 'size', 'window'), 'window.size');
  if (size > MAX_WINDOW) fail('window.size', `${size} readings is more than the ${MAX_WINDOW} a device may hold per window`);
  const hop = posInt(get(w, 'hop', 'window'), 'window.hop');
  if (hop > size) fail('window.hop', `${hop} is larger than window.size ${size} (readings between windows would never be read)`);
  return { size, hop };
}

// outputs.from: required of a windowed model (how its window becomes one vector), refused otherwise.
export function parseFrom(o: Obj, windowed: boolean): Pick<ModelOutputs, 'from'> {
  const raw = optional(o, 'from');
  if (!windowed) {
    if (raw !== undefined) fail('outputs.from', 'only a windowed model (top-level window) reduces a window to one output');
    return {};
  }
  if (raw === undefined) fail('outputs.from', 'missing (a windowed model says "last" or "mean")');
  if (optional(o, 'residual') !== undefined) fail('outputs.residual', 'a windowed model has no single current reading to add back');
  if (optional(o, 'anomaly') !== undefined) fail('outputs.anomaly', 'a windowed model does not forecast per reading, so it has no anomaly scale');
  return { from: oneOf(raw, ['last', 'mean'] as const, 'outputs.from') };
}

