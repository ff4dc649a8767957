// Seeded randomness. Every stream of random numbers is derived from (seed, labels), e.g.
// (seed, "mote-1", "faults"), so turning one fault on never shifts the values, timing or
// other faults of any node: the same flags give the same traffic.

/** A uniform generator in [0, 1). */
export type Rng = () => number;

// FNV-1a over the labels, then mixed with the seed: a 32-bit state per stream.
function hash(seed: number, labels: readonly string[]): number {
  let h = 0x811c9dc5 ^ (seed >>> 0);
  for (const label of labels) {
    for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ 0xff, 0x01000193); // separator: ("ab","c") differs from ("a","bc")
  }
  return h >>> 0;
}

/** mulberry32 (Tommy Ettinger): small, fast, passes the usual statistical batteries for this use. */
export function mulberry32(state: number): Rng {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The random stream for (seed, labels...). */
export function rngFor(seed: number, ...labels: string[]): Rng {
  return mulberry32(hash(seed, labels));
}

/** A standard normal draw (Box-Muller), from two uniforms of `rng`. */
export function gaussian(rng: Rng): number {
  const u = 1 - rng(); // (0, 1]: log(0) is -Infinity
  const v = rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** Uniform in [-1, 1). */
export function symmetric(rng: Rng): number {
  return 2 * rng() - 1;
}
