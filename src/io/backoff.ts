// Reconnect delays: exponential from `minMs`, capped at `maxMs`, with ±25% jitter so a
// fleet of devices that lost the same broker does not reconnect in lockstep.

export interface Backoff {
  /** The delay before the next attempt (ms); each call doubles the base up to the cap. */
  next(): number;
  /** After a successful connect: back to `minMs`. */
  reset(): void;
}

export function exponentialBackoff(minMs: number, maxMs: number, random: () => number = Math.random): Backoff {
  let base = minMs;
  return {
    next() {
      const d = Math.round(base * (0.75 + random() * 0.5));
      base = Math.min(maxMs, base * 2);
      return Math.min(maxMs, d);
    },
    reset() {
      base = minMs;
    },
  };
}
