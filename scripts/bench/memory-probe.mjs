// Preloaded by `npm run bench:memory --breakdown` (node --import) into each measured
// process: every 5 s, one JSON line with process.memoryUsage(), V8's heap spaces and the
// garbage collections since the last line, appended to $BENCH_MEMORY_PROBE. Its own cost is
// a timer and a few objects every 5 s; it is loaded into every process alike.
import { appendFileSync } from 'node:fs';
import { PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';

const out = process.env.BENCH_MEMORY_PROBE;
if (out) {
  const gc = { minor: 0, major: 0, minorMs: 0, majorMs: 0 };
  // kind (perf_hooks constants NODE_PERFORMANCE_GC_*): 1 minor (scavenge), 4 major (mark-compact), 8 incremental, 16 weak callbacks.
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = e.detail?.kind ?? e.kind;
      if (kind === 1) (gc.minor++, (gc.minorMs += e.duration));
      else if (kind === 4) (gc.major++, (gc.majorMs += e.duration));
    }
  }).observe({ entryTypes: ['gc'] });
  const mb = (n) => Math.round((n / 1048576) * 10) / 10;
  setInterval(() => {
    const m = process.memoryUsage();
    const spaces = {};
    for (const s of v8.getHeapSpaceStatistics()) spaces[s.space_name] = { size: mb(s.space_size), used: mb(s.space_used_size) };
    const h = v8.getHeapStatistics();
    appendFileSync(out, JSON.stringify({
      t: Date.now(), rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers),
      mallocedMemory: mb(h.malloced_memory), peakMallocedMemory: mb(h.peak_malloced_memory), code: mb(v8.getHeapCodeStatistics().code_and_metadata_size),
      spaces, gc: { ...gc },
    }) + '\n');
  }, 5000).unref();
}
