// Stream test helpers: reading events without a network, and an independent reference
// (a plain loop of session.step per device).
import { initModel } from '../../src/model/init.js';
import type { Model } from '../../src/model/types.js';
import type { Session } from '../../src/runtime/session.js';
import type { ReadingEvent } from '../../src/stream/events.js';

export const model: Model = initModel({
  name: 't', inputs: ['temperature', 'humidity'], outputs: ['temperature', 'humidity'],
  cell: 'lstm', hiddenSizes: [8], dense: [{ size: 2, activation: 'linear' }],
}, 5);

export function reading(device: string, seq: number | undefined, values: number[], receivedAt = 0, ts?: number): ReadingEvent {
  return {
    kind: 'reading', device,
    reading: { values, ...(seq !== undefined ? { seq } : {}), ...(ts !== undefined ? { ts } : {}) },
    origin: { receivedAt },
  };
}

/** Plain per-device stepping, the reference the operators must match. */
export function referenceOutputs(session: Session, events: readonly ReadingEvent[]): Float32Array[] {
  const states = new Map<string, ReturnType<Session['createState']>>();
  return events.map((e) => {
    let s = states.get(e.device);
    if (!s) states.set(e.device, (s = session.createState()));
    return session.step(s, Float32Array.from(e.reading.values), new Float32Array(session.outputSize));
  });
}

export function interleaved(devices: number, perDevice: number): ReadingEvent[] {
  const out: ReadingEvent[] = [];
  for (let m = 0; m < perDevice; m++)
    for (let d = 0; d < devices; d++) out.push(reading(`d${d}`, m, [20 + Math.sin(m + d) * 5, 40 + Math.cos(m * d) * 3], m * 1000));
  return out;
}
