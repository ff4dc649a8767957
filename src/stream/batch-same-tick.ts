// Groups values that arrive in the same tick into one array, emitted when the scheduler
// next runs (asap: a microtask). Lets inferPerDevice step a burst with one stepBatch.
import { asapScheduler, Observable, type OperatorFunction, type SchedulerLike, type Subscription } from 'rxjs';

export function batchSameTick<T>(scheduler: SchedulerLike = asapScheduler, maxSize = 1024): OperatorFunction<T, T[]> {
  return (source) =>
    new Observable<T[]>((subscriber) => {
      let buffer: T[] = [];
      // The one flush waiting for the scheduler. Not added to `subscriber`: a run action is
      // never unsubscribed, so each tick's would stay in its list for the life of the stream
      // (about 110 bytes a tick: `run`'s RSS grew by hundreds of MB an hour at 1 000 readings/s).
      let pending: Subscription | null = null;
      const flush = () => {
        pending = null;
        if (buffer.length === 0) return;
        const out = buffer;
        buffer = [];
        subscriber.next(out);
      };
      const sub = source.subscribe({
        next(v) {
          buffer.push(v);
          if (buffer.length >= maxSize) {
            pending?.unsubscribe();
            flush();
          } else pending ??= scheduler.schedule(flush);
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
        pending?.unsubscribe();
        pending = null;
        sub.unsubscribe();
        buffer = [];
      };
    });
}
