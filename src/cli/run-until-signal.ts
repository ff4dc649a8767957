// A long-running command that stops cleanly on SIGINT / SIGTERM: the signal aborts it, and
// the listeners go when it ends, so a later Ctrl-C is Node's default again (exit).
export async function runUntilSignal<T>(run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController();
  const onSignal = () => ac.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await run(ac.signal);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}
