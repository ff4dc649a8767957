// The model lifecycle as a pure state machine (issue 13): table-driven over sequences of
// transitions, each checked for what runs, what a restart serves, and what is refused.
import { describe, expect, it } from 'vitest';
import {
  initialState, judgeOffer, parseLifecycleState, runningModel, transition, type LifecycleState, type ModelRef, type Transition,
} from '../../src/stream/model-lifecycle.js';
import { MAX_PROBATION_DEVICES, plausibilityCheck, probationLimits, ProbationTally } from '../../src/stream/probation.js';
import { TARGET_MEAN, TARGET_STD, version, withTargetStats } from '../helpers/swap-models.js';

const ref = (v: number): ModelRef => ({ name: 'm', version: v, sha256: `sha${v}` });
const accept = (v: number): Transition => ({ type: 'accept', model: ref(v) });
const commit: Transition = { type: 'commit' };
const rollBack: Transition = { type: 'roll-back' };
/** A restart serving what the state says committed (as the store's start-up does), or the file v1 with the store off. */
const restart = (s: LifecycleState, storeOff = false): LifecycleState => transition(s, { type: 'start', serving: storeOff ? ref(1) : s.serving });
const verdict = (s: LifecycleState, v: number, sha = `sha${v}`) => {
  const j = judgeOffer(s, { candidate: { name: 'm', version: v, sha256: sha }, sameInputs: true });
  return j.accept ? 'accept' : j.code;
};

describe('model lifecycle', () => {
  // [what, transitions from "v1 serving", running after, serving after a restart, verdicts after a restart: version -> accept / code]
  const table: [string, Transition[], number, number, Record<number, string>][] = [
    ['nothing pushed', [], 1, 1, { 1: 'unchanged', 2: 'accept' }],
    ['on probation', [accept(2)], 2, 1, { 2: 'accept', 3: 'accept' }],
    ['committed', [accept(2), commit], 2, 2, { 1: 'not-newer', 2: 'unchanged', 3: 'accept' }],
    ['rolled back (the first model after start)', [accept(2), rollBack], 1, 1, { 2: 'rolled-back-before', 3: 'accept' }],
    ['push during probation, on probation', [accept(2), accept(3)], 3, 1, { 2: 'accept', 3: 'accept' }],
    ['push during probation, then rolled back', [accept(2), accept(3), rollBack], 1, 1, { 2: 'accept', 3: 'rolled-back-before', 4: 'accept' }],
    ['push during probation, then committed', [accept(2), accept(3), commit], 3, 3, { 2: 'not-newer', 4: 'accept' }],
    ['committed, then a rolled-back push', [accept(2), commit, accept(3), rollBack], 2, 2, { 1: 'not-newer', 3: 'rolled-back-before', 4: 'accept' }],
  ];

  it.each(table)('%s', (_what, steps, running, afterRestart, verdicts) => {
    const s = steps.reduce(transition, initialState(ref(1)));
    expect(runningModel(s).version).toBe(running);
    const r = restart(s);
    expect(r.probation).toBeNull(); // a restart never runs a model that did not commit
    expect(r.serving.version).toBe(afterRestart);
    for (const [v, want] of Object.entries(verdicts)) expect(verdict(r, Number(v)), `v${v} after restart`).toBe(want);
    // The persisted form round-trips.
    expect(parseLifecycleState(JSON.parse(JSON.stringify(s)))).toEqual(s);
  });

  it('store off: a restart serving the old --model still refuses versions below the committed floor', () => {
    const s = [accept(2), commit, accept(3), commit, accept(5), rollBack].reduce(transition, initialState(ref(1)));
    const r = restart(s, true);
    expect(r.serving.version).toBe(1);
    expect(verdict(r, 2)).toBe('not-newer');
    expect(verdict(r, 3, 'other-bytes')).toBe('not-newer');
    expect(verdict(r, 3)).toBe('accept'); // the committed v3 itself, redelivered as the retained push
    expect(verdict(r, 4)).toBe('accept');
    expect(verdict(r, 5)).toBe('rolled-back-before');
    expect(r.floor.m).toEqual({ committed: { version: 3, sha256: 'sha3' }, rolledBack: [5] });
  });

  it('refuses transitions that do not apply, and malformed persisted state', () => {
    expect(() => transition(initialState(ref(1)), commit)).toThrow(/no model on probation/);
    expect(() => transition(initialState(ref(1)), rollBack)).toThrow(/no model on probation/);
    for (const bad of [null, 3, {}, { serving: { name: 'm' }, floor: {} }, { serving: ref(1) }]) expect(parseLifecycleState(bad)).toBeNull();
  });

  it('other names and inputs are refused; --allow-downgrade skips only the version checks', () => {
    const s = [accept(2), commit, accept(3), rollBack].reduce(transition, initialState(ref(1)));
    expect(judgeOffer(s, { candidate: { name: 'x', version: 9 }, sameInputs: true })).toMatchObject({ code: 'name-mismatch' });
    expect(judgeOffer(s, { candidate: ref(9), sameInputs: false })).toMatchObject({ code: 'incompatible-inputs' });
    expect(judgeOffer(s, { candidate: ref(1), sameInputs: true, allowDowngrade: true })).toEqual({ accept: true });
    expect(judgeOffer(s, { candidate: ref(3), sameInputs: true, allowDowngrade: true })).toMatchObject({ code: 'rolled-back-before' });
  });
});

describe('probation tally', () => {
  const run = (limits: Parameters<typeof probationLimits>[0], devices: string[]) => {
    const t = new ProbationTally(probationLimits(limits));
    return devices.findIndex((d) => t.record(d)); // index of the reading that completes probation, -1: never
  };
  const roundRobin = (n: number, rounds: number) => Array.from({ length: n * rounds }, (_, i) => `d${i % n}`);

  it.each([
    ['100 devices, 4 readings each: too few steps per device', { minReadings: 100, minDevices: 3, minStepsPerDevice: 10 }, roundRobin(100, 4), -1],
    ['100 devices, 10 rounds: 3 devices reach 10 steps in round 10', { minReadings: 100, minDevices: 3, minStepsPerDevice: 10 }, roundRobin(100, 10), 9 * 100 + 2],
    ['3 devices: min readings is the last to be met', { minReadings: 100, minDevices: 3, minStepsPerDevice: 10 }, roundRobin(3, 40), 99],
    ['1 device (a fleet smaller than minDevices): every device seen has passed', { minReadings: 20, minDevices: 3, minStepsPerDevice: 10 }, roundRobin(1, 30), 19],
    ['2 devices, one silent after one reading: not every device seen has passed', { minReadings: 20, minDevices: 3, minStepsPerDevice: 10 }, ['a', 'b', ...roundRobin(1, 40).map(() => 'a')], -1],
  ] as const)('%s', (_what, limits, devices, at) => {
    expect(run(limits, [...devices])).toBe(at);
  });

  it('memory is bounded under a flood of ids: at most MAX_PROBATION_DEVICES are tallied, and real devices still pass', () => {
    const t = new ProbationTally(probationLimits({ minReadings: 10, minDevices: 2, minStepsPerDevice: 5 }));
    t.record('real-a');
    t.record('real-b');
    for (let i = 0; i < MAX_PROBATION_DEVICES * 3; i++) t.record(`forged-${i}`);
    expect(t.devices).toBe(MAX_PROBATION_DEVICES);
    let done = false;
    for (let r = 0; r < 4 && !done; r++) done = t.record('real-a') || t.record('real-b');
    expect(done).toBe(true);
  });

  it('limits are validated', () => {
    expect(() => probationLimits({ minDevices: -1 })).toThrow(/minDevices/);
    expect(() => probationLimits({ minStepsPerDevice: 1.5 })).toThrow(/minStepsPerDevice: expected a whole number/);
    expect(() => probationLimits({ zLimit: NaN })).toThrow(/zLimit/);
  });
});

describe('plausibility check', () => {
  const m = withTargetStats(version('m', 1), TARGET_MEAN, TARGET_STD);
  const x = [20, 40];
  it.each([
    [[20, 40], null],
    [[39.9, 40], null], // 9.95 std
    [[40.1, 40], 'implausible-output'], // 10.05 std
    [[20, 40 - 31], 'implausible-output'],
    [[1e10, 40], 'implausible-output'],
    [[-3.4e11, 40], 'implausible-output'],
    [[NaN, 40], 'non-finite-output'],
    [[20, Infinity], 'non-finite-output'],
  ] as const)('%j -> %s', (y, code) => {
    expect(plausibilityCheck(m, 10)(Float32Array.from(y), x)?.code ?? null).toBe(code);
  });

  it('residual outputs are judged by the predicted change; a model without target statistics only by finiteness', () => {
    const residual = { ...m, outputs: { ...m.outputs, residual: true } };
    expect(plausibilityCheck(residual, 10)(Float32Array.from([60, 80]), [20, 40])).toBeNull(); // a change of +40 is mean + 10 std: at the limit, not beyond
    expect(plausibilityCheck(residual, 10)(Float32Array.from([61, 80]), [20, 40])?.code).toBe('implausible-output');
    const bare = version('m', 1);
    expect(plausibilityCheck(bare, 10)(Float32Array.from([1e30, 0]), x)).toBeNull();
    expect(plausibilityCheck(bare, 10)(Float32Array.from([Infinity, 0]), x)?.code).toBe('non-finite-output');
  });
});
