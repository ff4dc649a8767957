// Global gradient-norm clipping: one norm over every parameter's gradient, so the update
// keeps its direction and only its length is capped.

/** Euclidean norm of g. */
export function globalNorm(g: Float64Array): number {
  let s = 0;
  for (let i = 0; i < g.length; i++) s += g[i] * g[i];
  return Math.sqrt(s);
}

/**
 * If ‖g‖ > maxNorm, scales g in place to norm maxNorm. Returns the norm before clipping.
 * maxNorm <= 0 or Infinity disables clipping.
 */
export function clipGlobalNorm(g: Float64Array, maxNorm: number): number {
  const norm = globalNorm(g);
  if (maxNorm > 0 && norm > maxNorm) {
    const k = maxNorm / norm;
    for (let i = 0; i < g.length; i++) g[i] *= k;
  }
  return norm;
}
