// Groups values that arrive in the same tick into one array, emitted when the scheduler
// next runs (asap: a microtask). Lets inferPerDevice step a burst with one stepBatch.
import { asapScheduler, Observable, type OperatorFunction, type SchedulerLike } from 'rxjs';

export function batchSameTick<T>(scheduler: SchedulerLike = asapScheduler, maxSize = 1024): OperatorFunction<T, T[]> {
  return (source) =>
    new Observable<T[]>((subscriber) => {
      let buffer: T[] = [];
      let scheduled = false;
      const flush = () => {
        scheduled = false;
        if (buffer.length === 0) return;
        const out = buffer;
        buffer = [];
        subscriber.next(out);
      };
      const sub = source.subscribe({
        next(v) {
          buffer.push(v);
          if (buffer.length >= maxSize) flush();
          else if (!scheduled) {
            scheduled = true;
            subscriber.add(scheduler.schedule(flush));
          }
        },
        error: (e) => {
          flush();
          subscriber.error(e);
        },
        complete: () => {
          flush();
          subscriber.complete();
        },
      });
      return () => {
        sub.unsubscribe();
        buffer = [];
      };
    });
}
