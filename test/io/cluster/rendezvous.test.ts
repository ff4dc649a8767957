import { describe, expect, it } from 'vitest';
import { assignment, ownerOf, partitionsOf } from '../../../src/io/cluster/rendezvous.js';

const P = 64;
const names = (n: number) => Array.from({ length: n }, (_, i) => `edge-${i + 1}`);

describe('rendezvous hashing of partitions over members', () => {
  it('gives every partition exactly one owner, the same whatever the order of the member list', () => {
    const m = names(3);
    const a = assignment(m, P);
    const all = [...a.values()].flat().sort((x, y) => x - y);
    expect(all).toEqual(Array.from({ length: P }, (_, i) => i));
    const reversed = [...m].reverse();
    for (let p = 0; p < P; p++) expect(ownerOf(p, reversed)).toBe(ownerOf(p, m));
    expect(ownerOf(0, [])).toBeNull();
  });

  it('spreads partitions roughly evenly (each of 3 members gets 64/3 ± 9)', () => {
    for (const list of assignment(names(3), P).values()) expect(Math.abs(list.length - P / 3)).toBeLessThanOrEqual(9);
  });

  it('a joining member takes only partitions; nothing moves between the others', () => {
    const before = names(3);
    const after = names(4);
    let moved = 0;
    for (let p = 0; p < P; p++) {
      const o1 = ownerOf(p, before)!;
      const o2 = ownerOf(p, after)!;
      if (o1 !== o2) {
        expect(o2).toBe('edge-4');
        moved++;
      }
    }
    expect(moved).toBe(partitionsOf('edge-4', after, P).length);
    expect(moved).toBeGreaterThan(0);
  });

  it('a leaving member gives away only its partitions', () => {
    const before = names(3);
    const after = ['edge-1', 'edge-3'];
    for (let p = 0; p < P; p++) {
      const o1 = ownerOf(p, before)!;
      if (o1 !== 'edge-2') expect(ownerOf(p, after)).toBe(o1);
      else expect(after).toContain(ownerOf(p, after));
    }
  });
});
