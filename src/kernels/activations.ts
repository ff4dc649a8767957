// Elementwise activations, in place over v[0..n).

export type Activation = 'linear' | 'relu' | 'tanh' | 'sigmoid' | 'softmax';

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** Numerically stable softmax over v[0..n): subtract the max before exp. */
export function softmaxInPlace(v: Float32Array, n: number): void {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (v[i] > max) max = v[i];
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(v[i] - max);
    v[i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = 0; i < n; i++) v[i] *= inv;
}

export function activateInPlace(v: Float32Array, n: number, act: Activation): void {
  switch (act) {
    case 'linear':
      return;
    case 'relu':
      for (let i = 0; i < n; i++) if (v[i] < 0) v[i] = 0;
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) v[i] = Math.tanh(v[i]);
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) v[i] = sigmoid(v[i]);
      return;
    case 'softmax':
      softmaxInPlace(v, n);
      return;
  }
}
