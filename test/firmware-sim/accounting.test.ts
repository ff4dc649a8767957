// Every fault of the simulator at once, over many seeds, played straight into the
// inference line (no broker: the order is the plan's): each published message ends as
// exactly one prediction, dead letter or counted duplicate, and each class matches what
// the plan's own annotations say (expectAtRuntime).
import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { expectAtRuntime, planTraffic, type PayloadFormat, type PublishStep } from '../../firmware-sim/src/index.js';
import { readModelFile } from '../../src/io/model-file.js';
import { createSession } from '../../src/runtime/session.js';
import { createCounters } from '../../src/stream/counters.js';
import type { Incoming } from '../../src/stream/events.js';
import { inferenceLine } from '../../src/stream/inference-line.js';
import { planConfig } from './plan-config.js';

const { model } = readModelFile(new URL('../../models/example-lstm.msgpack', import.meta.url).pathname);
const faults = { drop: 0.05, duplicate: 0.08, reorder: 0.08, malformed: 0.03, nan: 0.03, glitch: 0.04, reboot: 0.03, disconnect: 0.03 };

describe('accounting over every fault, many seeds', () => {
  for (const payload of ['json', 'msgpack'] as PayloadFormat[]) {
    it(`${payload}: predictions + dead letters + duplicates = messages, each as planned`, async () => {
      for (let seed = 1; seed <= 12; seed++) {
        const steps = [...planTraffic(planConfig({ seed, readingsPerNode: 120, payload, faults }))];
        const sent = steps.filter((s): s is PublishStep => s.kind === 'publish');
        const expected = expectAtRuntime(steps);
        const counters = createCounters();
        const input: Incoming[] = sent.map((s) => ({ topic: s.topic, payload: s.payload, receivedAt: s.atMs }));
        const out = await lastValueFrom(from(input).pipe(
          inferenceLine(createSession(model), { topics: ['sensors/+/reading'], predictionTopic: 'p/{device}', deadLetterTopic: 'dl', instance: 'i', counters }),
          toArray(),
        ));
        const kinds = out.map((o) => o.event.kind);
        expect(out).toHaveLength(sent.length);
        expect(counters.predictions + counters.deadLetters + counters.duplicates).toBe(sent.length);
        expect({ seed, predictions: counters.predictions, dead: counters.deadLetters, dups: counters.duplicates, late: counters.deadByReason.late ?? 0, range: counters.deadByReason['out-of-range'] ?? 0, reboots: counters.reboots })
          .toEqual({ seed, predictions: expected.predictions, dead: expected.deadLetters, dups: expected.duplicates, late: expected.late, range: expected.outOfRange, reboots: expected.reboots });
        expect(kinds.filter((k) => k === 'prediction')).toHaveLength(expected.predictions);
      }
    });
  }
});
