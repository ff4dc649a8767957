// batchSameTick (src/stream/batch-same-tick.ts): values of one tick in one array, and
// nothing kept per tick for the life of the stream (the runtime sees one message a tick).
import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { batchSameTick } from '../../src/stream/batch-same-tick.js';

const nextTick = () => new Promise((r) => setImmediate(r));

describe('batchSameTick', () => {
  it('emits the values of one tick together, and a full buffer at once', async () => {
    const input = new Subject<number>();
    const out: number[][] = [];
    input.pipe(batchSameTick(undefined, 3)).subscribe((b) => out.push(b));
    input.next(1);
    input.next(2);
    await nextTick();
    for (const v of [3, 4, 5, 6]) input.next(v);
    expect(out).toEqual([[1, 2], [3, 4, 5]]); // the fourth waits for the tick
    await nextTick();
    expect(out).toEqual([[1, 2], [3, 4, 5], [6]]);
  });

  it('keeps no subscription per tick: 2000 ticks of one value leave the subscriber as one tick does', async () => {
    const input = new Subject<number>();
    let seen = 0;
    const sub = input.pipe(batchSameTick()).subscribe((b) => (seen += b.length));
    // The subscriber's own teardown list (RxJS internals): before the fix, one entry per tick.
    const finalizers = () => ((sub as unknown as { _finalizers: unknown[] | null })._finalizers ?? []).length;
    input.next(0);
    await nextTick();
    const after1 = finalizers();
    for (let i = 1; i < 2000; i++) {
      input.next(i);
      await nextTick();
    }
    expect(seen).toBe(2000);
    expect(finalizers()).toBe(after1);
    sub.unsubscribe();
  });
});
