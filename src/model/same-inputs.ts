import type { Model } from './types.js';

/** Same input names in the same order: the devices' readings mean the same to both models. */
export function sameInputs(a: Model, b: Model): boolean {
  const x = a.inputs.names;
  const y = b.inputs.names;
  return x.length === y.length && x.every((n, i) => n === y[i]);
}
