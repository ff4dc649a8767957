// Small statistics helpers shared by the benchmarks.

export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[i];
}

/** The median of `xs` (unsorted; the mean of the middle two for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function summarize(samples: number[]): { median: number; p99: number; mean: number } {
  const s = Float64Array.from(samples).sort();
  let sum = 0;
  for (const v of s) sum += v;
  return { median: quantile(s, 0.5), p99: quantile(s, 0.99), mean: sum / s.length };
}

export function machine(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return `${process.platform}-${process.arch}, Node ${process.version}`;
}
