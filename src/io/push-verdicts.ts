// What the running instances said about one push, from their retained model status topics
// (`edge-rnn/<instance>/model`, published by `run`: {event, name, version, code, reason,
// sha256, probation, ...}). Pure bookkeeping, so `push --wait` can be tested without a broker.
//
// A status message is about this push when it carries this push's model sha256, or when it
// is a rejection without any sha256 (an envelope that could not be verified names no model;
// during the wait it can only be ours, unless someone else pushes at the same moment).

export type VerdictEvent = 'accepted' | 'committed' | 'rejected' | 'rolled-back';

export interface InstanceVerdict {
  readonly instance: string;
  readonly event: VerdictEvent;
  readonly code?: string;
  readonly reason?: string;
  /** Accepted: clean readings of probation before a commit (0: none). */
  readonly probation?: number;
  /** No later word is expected: committed, rejected or rolled back. */
  readonly final: boolean;
}

// A status document is a few hundred bytes; anything much larger is not one.
const MAX_STATUS_BYTES = 16 * 1024;
const EVENTS: ReadonlySet<string> = new Set<VerdictEvent>(['accepted', 'committed', 'rejected', 'rolled-back']);

/** The level of `topic` that the first `+` of `pattern` matches, or null when it does not match. */
export function instanceOf(pattern: string, topic: string): string | null {
  const p = pattern.split('/');
  const t = topic.split('/');
  let instance: string | null = null;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '#') return instance ?? (t.slice(i).join('/') || null);
    if (i >= t.length) return null;
    if (p[i] === '+') instance ??= t[i];
    else if (p[i] !== t[i]) return null;
  }
  return p.length === t.length ? (instance ?? topic) : null;
}

function parseStatus(payload: Uint8Array): Record<string, unknown> | null {
  if (payload.length === 0 || payload.length > MAX_STATUS_BYTES) return null;
  try {
    const doc: unknown = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
    return typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export class VerdictTracker {
  private readonly known = new Set<string>();
  private readonly latest = new Map<string, InstanceVerdict>();

  constructor(
    private readonly patterns: readonly string[],
    private readonly sha256: string,
  ) {}

  private instance(topic: string): string | null {
    for (const p of this.patterns) {
      const i = instanceOf(p, topic);
      if (i !== null) return i;
    }
    return null;
  }

  /** A retained status seen when subscribing: an instance exists, its verdict is from before. */
  sawRetained(topic: string): void {
    const i = this.instance(topic);
    if (i !== null) this.known.add(i);
  }

  /** A status published during the wait; returns whether it was a verdict on this push. */
  offer(topic: string, payload: Uint8Array): boolean {
    const instance = this.instance(topic);
    const doc = parseStatus(payload);
    if (instance === null || doc === null || typeof doc.event !== 'string' || !EVENTS.has(doc.event)) return false;
    const event = doc.event as VerdictEvent;
    const ours = doc.sha256 === this.sha256 || (event === 'rejected' && doc.sha256 === undefined);
    if (!ours) return false;
    this.known.add(instance);
    // `probation`: the limits object of the runtime ({minReadings, ...}); a plain number from older runtimes.
    const p = doc.probation as { minReadings?: unknown } | number | undefined;
    const probation = typeof p === 'number' ? p : typeof p?.minReadings === 'number' ? p.minReadings : undefined;
    this.latest.set(instance, {
      instance, event,
      ...(typeof doc.code === 'string' ? { code: doc.code } : {}),
      ...(typeof doc.reason === 'string' ? { reason: doc.reason.slice(0, 300) } : {}),
      ...(probation !== undefined ? { probation } : {}),
      // An accepted model is always followed by `committed` (at once without probation) or `rolled-back`.
      final: event !== 'accepted',
    });
    return true;
  }

  verdicts(): InstanceVerdict[] {
    return [...this.latest.values()].sort((a, b) => a.instance.localeCompare(b.instance));
  }

  /** Instances known to exist (a retained status) that said nothing about this push. */
  silent(): string[] {
    return [...this.known].filter((i) => !this.latest.has(i)).sort();
  }

  /** Someone answered, and every instance known has given its last word. */
  settled(): boolean {
    return this.latest.size > 0 && this.silent().length === 0 && [...this.latest.values()].every((v) => v.final);
  }

  /** Some instance refused this push or threw it out after probation. */
  failed(): boolean {
    return [...this.latest.values()].some((v) => v.event === 'rejected' || v.event === 'rolled-back');
  }
}
