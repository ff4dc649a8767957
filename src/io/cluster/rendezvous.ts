// Rendezvous (highest-random-weight) hashing of partitions over the live members: every
// member computes the same owner for a partition from the same member list, with no
// coordinator, and when a member joins or leaves only the partitions it wins or held
// move (a consistent assignment with no ring to keep).

/** FNV-1a over the UTF-16 code units, then murmur3's fmix32 so close inputs spread. */
function hash32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The member that owns `partition`: the highest score, ties to the smaller name. Null without members. */
export function ownerOf(partition: number, members: readonly string[]): string | null {
  let best: string | null = null;
  let bestScore = -1;
  for (const m of members) {
    const s = hash32(`${m}\u0000${partition}`);
    if (s > bestScore || (s === bestScore && best !== null && m < best)) {
      best = m;
      bestScore = s;
    }
  }
  return best;
}

/** Partitions 0..count-1 that `member` owns among `members` (ascending). */
export function partitionsOf(member: string, members: readonly string[], count: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < count; p++) if (ownerOf(p, members) === member) out.push(p);
  return out;
}

/** Every member's partitions. */
export function assignment(members: readonly string[], count: number): Map<string, number[]> {
  const out = new Map<string, number[]>(members.map((m) => [m, []]));
  for (let p = 0; p < count; p++) {
    const o = ownerOf(p, members);
    if (o !== null) out.get(o)!.push(p);
  }
  return out;
}
