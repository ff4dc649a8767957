// Where the window network reads a layer's directions from the model format. Until the
// format extension lands this is the only place that knows its field names.
import type { RecurrentLayer, Tensor, TensorF32 } from '../model/types.js';

export type PoolMode = 'last' | 'mean';

export interface CellTensors {
  readonly wIh: Tensor;
  readonly wHh: Tensor;
  readonly bIh: TensorF32;
  readonly bHh: TensorF32;
}

type MaybeBidirectional = RecurrentLayer & { readonly direction?: 'forward' | 'bidirectional'; readonly reverse?: CellTensors };

/** The layer's forward weights and, when bidirectional, its reverse weights. */
export function directionsOf(l: RecurrentLayer): [CellTensors, CellTensors | undefined] {
  const b = l as MaybeBidirectional;
  return [l, b.direction === 'bidirectional' ? b.reverse : undefined];
}

/** The layer with these weights for its directions. */
export function withDirections(l: RecurrentLayer, fwd: CellTensors, rev: CellTensors | undefined): RecurrentLayer {
  return { ...l, ...fwd, ...(rev ? { direction: 'bidirectional', reverse: rev } : {}) } as RecurrentLayer;
}
