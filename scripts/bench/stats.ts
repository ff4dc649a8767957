// Small statistics helpers shared by the benchmarks.

export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[i];
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
