// The traffic plan: a pure, seeded function from the simulator's configuration to the
// exact list of messages each node sends (when, with which seq, which bytes, which
// faults). Publishing over MQTT (fleet.ts) only plays a plan back, so what a seed
// produces can be checked without a network, and against a broker by recording.
import { fillTopic } from '../../src/protocol/topic.js';
import { encodeReading, malformedPayload, MALFORMED_KINDS, type MalformedKind, type PayloadFormat } from './payload.js';
import { rngFor, symmetric } from './rng.js';
import { syntheticSource, type SignalSpec } from './signals.js';

/** Where a node's values come from. */
export type NodeSource =
  /** Recorded series, one value per reading, e.g. a mote of the real data set. */
  | { readonly kind: 'series'; readonly series: Readonly<Record<string, readonly number[]>>; readonly loop?: boolean }
  | { readonly kind: 'synthetic'; readonly signals: Readonly<Record<string, SignalSpec>> };

export interface NodeSpec {
  readonly device: string;
  /** Nominal time between readings (ms of simulated time); each node then gets its own rate. */
  readonly periodMs: number;
  readonly source: NodeSource;
}

/** Each fault is a probability per reading, except where said otherwise. */
export interface Faults {
  /** The reading is taken (its seq is used) but never published: a gap. */
  readonly drop: number;
  /** Published twice with the same seq. */
  readonly duplicate: number;
  /** Held back and published right after the node's next reading. */
  readonly reorder: number;
  /** Payload broken (truncated, garbage or a value as a string). */
  readonly malformed: number;
  /** One value is NaN. */
  readonly nan: number;
  /** One value is a sensor's glitch code, GLITCH_VALUE (a valid number far outside any real range). */
  readonly glitch: number;
  /** After this reading the node reboots: its seq counts from 0 again (a RebootStep marks it). */
  readonly reboot: number;
  /** After this reading the node drops its connection (no DISCONNECT: its last will fires)... */
  readonly disconnect: number;
  /** ... stays offline this many ms of simulated time, buffering readings, then reconnects. */
  readonly offlineMs: number;
  /** Each node's clock is off by a constant drawn from ±clockSkewMs (ms). */
  readonly clockSkewMs: number;
}

export const NO_FAULTS: Faults = { drop: 0, duplicate: 0, reorder: 0, malformed: 0, nan: 0, glitch: 0, reboot: 0, disconnect: 0, offlineMs: 5000, clockSkewMs: 0 };

/** What a 16-bit sensor reading 0xFFFF in hundredths reports: 655.35 (issue 12). */
export const GLITCH_VALUE = 655.35;

export interface PlanConfig {
  readonly seed: number;
  /** Epoch ms of simulated time 0 (readings' `ts` = startTs + time + skew). */
  readonly startTs: number;
  readonly nodes: readonly NodeSpec[];
  /** Each node's own rate: its period is periodMs × (1 ± rateSpread). */
  readonly rateSpread: number;
  /** Each interval between readings: node period × (1 ± jitter). */
  readonly jitter: number;
  readonly faults: Faults;
  readonly payload: PayloadFormat;
  /** e.g. `sensors/{device}/reading` */
  readonly topic: string;
  /** Stop each node after this many readings, when given. */
  readonly readingsPerNode?: number;
  /** Stop at this simulated time (ms), when given. */
  readonly untilMs?: number;
}

export type Fault = 'duplicate' | 'reorder' | 'malformed' | 'nan' | 'glitch';

export interface PublishStep {
  readonly kind: 'publish';
  /** Simulated ms since start when the node sends it. */
  readonly atMs: number;
  readonly device: string;
  readonly topic: string;
  readonly seq: number;
  readonly ts: number;
  /** What the sensor measured (before any NaN fault). */
  readonly values: Readonly<Record<string, number>>;
  readonly payload: Uint8Array;
  readonly faults: readonly Fault[];
  readonly malformed?: MalformedKind;
  /** Which value a NaN fault replaced. */
  readonly nanValue?: string;
  /** Which value a glitch fault replaced with GLITCH_VALUE. */
  readonly glitchValue?: string;
}

export interface DropStep {
  readonly kind: 'drop';
  readonly atMs: number;
  readonly device: string;
  readonly seq: number;
  readonly ts: number;
  readonly values: Readonly<Record<string, number>>;
}

export interface DisconnectStep {
  readonly kind: 'disconnect';
  readonly atMs: number;
  readonly device: string;
  /** Simulated ms offline. */
  readonly offlineMs: number;
}

/** The node rebooted after its previous reading: the next one has seq 0 (nothing is sent). */
export interface RebootStep {
  readonly kind: 'reboot';
  readonly atMs: number;
  readonly device: string;
}

export type PlanStep = PublishStep | DropStep | DisconnectStep | RebootStep;

/** A node's own nominal period and clock offset, from (seed, device). */
export function nodeTraits(config: PlanConfig, node: NodeSpec): { periodMs: number; skewMs: number; phaseMs: number } {
  const r = rngFor(config.seed, node.device, 'traits');
  const periodMs = node.periodMs * (1 + config.rateSpread * symmetric(r));
  const skewMs = Math.round(config.faults.clockSkewMs * symmetric(r));
  const phaseMs = periodMs * r(); // nodes power up at different moments
  return { periodMs, skewMs, phaseMs };
}

function valueSource(config: PlanConfig, node: NodeSpec): (k: number, tMs: number) => Record<string, number> | null {
  const source = node.source;
  if (source.kind === 'synthetic') {
    const next = syntheticSource(config.seed, node.device, source.signals);
    return (_k, tMs) => next(tMs);
  }
  const names = Object.keys(source.series);
  const length = Math.min(...names.map((n) => source.series[n].length));
  return (k) => {
    if (length === 0 || (k >= length && !source.loop)) return null;
    const i = k % length;
    const out: Record<string, number> = {};
    for (const n of names) out[n] = source.series[n][i];
    return out;
  };
}

/** The steps of one node, in the order it sends them (atMs never decreases). */
export function* planNode(config: PlanConfig, node: NodeSpec): Generator<PlanStep> {
  const { faults, payload: format } = config;
  const { periodMs, skewMs, phaseMs } = nodeTraits(config, node);
  const timing = rngFor(config.seed, node.device, 'timing');
  // One stream per fault, each drawn once per reading whatever the probabilities: a
  // fault's decisions do not depend on which other faults are on.
  const draw = {
    drop: rngFor(config.seed, node.device, 'fault-drop'),
    duplicate: rngFor(config.seed, node.device, 'fault-duplicate'),
    reorder: rngFor(config.seed, node.device, 'fault-reorder'),
    malformed: rngFor(config.seed, node.device, 'fault-malformed'),
    nan: rngFor(config.seed, node.device, 'fault-nan'),
    disconnect: rngFor(config.seed, node.device, 'fault-disconnect'),
    glitch: rngFor(config.seed, node.device, 'fault-glitch'),
    reboot: rngFor(config.seed, node.device, 'fault-reboot'),
  };
  const values = valueSource(config, node);
  const topic = fillTopic(config.topic, { device: node.device });
  const limit = config.readingsPerNode ?? Infinity;
  const until = config.untilMs ?? Infinity;

  let held: PublishStep[] | null = null; // a reordered reading, waiting for the next one
  let t = phaseMs;
  let lastAt = 0;
  let offlineUntil = 0;
  // k counts readings (the values' index), seq what the firmware writes: a reboot resets it.
  for (let k = 0, seq = 0; k < limit && t <= until; k++, seq++) {
    const measured = values(k, t);
    if (measured === null) break;
    const atMs = Math.round(t);
    const ts = config.startTs + atMs + skewMs;

    const uDrop = draw.drop();
    const uDup = draw.duplicate();
    const uReorder = draw.reorder();
    const uMalformed = draw.malformed();
    const malformedKind = MALFORMED_KINDS[Math.floor(draw.malformed() * MALFORMED_KINDS.length)];
    const uNan = draw.nan();
    const names = Object.keys(measured);
    const nanName = names[Math.floor(draw.nan() * names.length)];
    const uDisconnect = draw.disconnect();
    const uGlitch = draw.glitch();
    const glitchName = names[Math.floor(draw.glitch() * names.length)];
    const uReboot = draw.reboot();

    if (uDrop < faults.drop) {
      yield { kind: 'drop', atMs, device: node.device, seq, ts, values: measured };
    } else {
      const stepFaults: Fault[] = [];
      let bytes: Uint8Array;
      let extra: { malformed?: MalformedKind; nanValue?: string; glitchValue?: string } = {};
      if (uMalformed < faults.malformed) {
        stepFaults.push('malformed');
        bytes = malformedPayload({ ts, seq, values: measured }, format, malformedKind, draw.malformed);
        extra = { malformed: malformedKind };
      } else if (uNan < faults.nan) {
        stepFaults.push('nan');
        bytes = encodeReading({ ts, seq, values: { ...measured, [nanName]: NaN } }, format);
        extra = { nanValue: nanName };
      } else if (uGlitch < faults.glitch) {
        stepFaults.push('glitch');
        bytes = encodeReading({ ts, seq, values: { ...measured, [glitchName]: GLITCH_VALUE } }, format);
        extra = { glitchValue: glitchName };
      } else {
        bytes = encodeReading({ ts, seq, values: measured }, format);
      }
      const reorder = held === null && uReorder < faults.reorder;
      if (reorder) stepFaults.push('reorder');
      const first: PublishStep = { kind: 'publish', atMs, device: node.device, topic, seq, ts, values: measured, payload: bytes, faults: stepFaults, ...extra };
      const sends = [first];
      if (uDup < faults.duplicate) sends.push({ ...first, faults: [...stepFaults, 'duplicate'] });
      if (reorder) held = sends;
      else {
        yield* sends;
        if (held) {
          for (const h of held) yield { ...h, atMs };
          held = null;
        }
      }
    }
    // A node already offline cannot drop its connection again.
    if (uDisconnect < faults.disconnect && atMs >= offlineUntil) {
      offlineUntil = atMs + faults.offlineMs;
      if (held) {
        for (const h of held) yield { ...h, atMs };
        held = null;
      }
      yield { kind: 'disconnect', atMs, device: node.device, offlineMs: faults.offlineMs };
    }
    if (uReboot < faults.reboot) {
      // A held reading is in the network, not the node: it still arrives, before the reboot.
      if (held) {
        for (const h of held) yield { ...h, atMs };
        held = null;
      }
      yield { kind: 'reboot', atMs, device: node.device };
      seq = -1; // the loop's seq++ makes the next reading 0
    }
    lastAt = atMs;
    t += periodMs * (1 + config.jitter * symmetric(timing));
  }
  if (held) for (const h of held) yield { ...h, atMs: lastAt };
}

/**
 * All nodes' steps merged in time order (ties: node order), lazily: a replay of the whole
 * data set or an endless synthetic run costs memory only for the steps taken.
 */
export function* planTraffic(config: PlanConfig): Generator<PlanStep> {
  const iters = config.nodes.map((n) => planNode(config, n));
  const heads: (PlanStep | null)[] = iters.map((it) => it.next().value ?? null);
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h && (best < 0 || h.atMs < heads[best]!.atMs)) best = i;
    }
    if (best < 0) return;
    yield heads[best]!;
    heads[best] = iters[best].next().value ?? null;
  }
}

export interface PlanSummary {
  /** Readings taken (seq values used). */
  readings: number;
  /** Messages put on the wire (duplicates count twice, drops not at all). */
  published: number;
  dropped: number;
  duplicates: number;
  reordered: number;
  malformed: number;
  nan: number;
  glitches: number;
  reboots: number;
  disconnects: number;
}

export function emptySummary(): PlanSummary {
  return { readings: 0, published: 0, dropped: 0, duplicates: 0, reordered: 0, malformed: 0, nan: 0, glitches: 0, reboots: 0, disconnects: 0 };
}

/** Adds one step to a summary (per device or total). */
export function countStep(s: PlanSummary, step: PlanStep): void {
  if (step.kind === 'disconnect') {
    s.disconnects++;
    return;
  }
  if (step.kind === 'reboot') {
    s.reboots++;
    return;
  }
  if (step.kind === 'drop') {
    s.readings++;
    s.dropped++;
    return;
  }
  s.published++;
  if (step.faults.includes('duplicate')) {
    s.duplicates++;
    return; // the copy of a reading already counted
  }
  s.readings++;
  if (step.faults.includes('reorder')) s.reordered++;
  if (step.faults.includes('malformed')) s.malformed++;
  if (step.faults.includes('nan')) s.nan++;
  if (step.faults.includes('glitch')) s.glitches++;
}

/** Totals and per-device summaries of a finite list of steps. */
export function summarize(steps: Iterable<PlanStep>): { total: PlanSummary; devices: Map<string, PlanSummary> } {
  const total = emptySummary();
  const devices = new Map<string, PlanSummary>();
  for (const step of steps) {
    countStep(total, step);
    let d = devices.get(step.device);
    if (!d) devices.set(step.device, (d = emptySummary()));
    countStep(d, step);
  }
  return { total, devices };
}

/** What a runtime following docs/runtime.md should count for these steps (see expectAtRuntime). */
export interface RuntimeExpectation {
  /** Messages that reach it. */
  received: number;
  predictions: number;
  /** A seq seen already in the device's epoch (a redelivery), dropped. */
  duplicates: number;
  /** Every dead letter: invalid payloads, late readings, glitches. */
  deadLetters: number;
  /** Invalid payloads (malformed, NaN). */
  invalid: number;
  /** Readings overtaken by a later one of their device (reorder): dead letters `late`. */
  late: number;
  /** Glitch values: dead letters `out-of-range` (with a model that has training statistics). */
  outOfRange: number;
  /** Reboots the runtime sees: a reboot followed by a reading of that device. */
  reboots: number;
  /** Seq numbers skipped between two accepted readings of a device in one epoch (drops, invalid ones, reordered ones). */
  gaps: number;
  /** Predicted seq numbers per device, in order. */
  readonly predicted: Map<string, number[]>;
}

/**
 * The runtime's view of a plan, from the plan's own annotations (not by parsing the
 * bytes, nor by its seq rules): a payload with a malformed or NaN fault is a dead letter;
 * a reboot starts the device's epoch over (seen by the runtime once a seq not above the
 * old epoch's last arrives); a seq seen in the epoch is a duplicate; one
 * below the highest seen is late; a glitch is out of range (its seq counts as seen);
 * anything else is predicted. Assumes the runtime's seq window is wider than any reorder.
 */
export function expectAtRuntime(steps: Iterable<PlanStep>): RuntimeExpectation {
  const out: RuntimeExpectation = { received: 0, predictions: 0, duplicates: 0, deadLetters: 0, invalid: 0, late: 0, outOfRange: 0, reboots: 0, gaps: 0, predicted: new Map() };
  // before: the epoch a reboot ended, while the runtime has not yet seen a seq of the new
  // one. If the first seq it sees is above that epoch's last (the readings before it were
  // lost), nothing tells it of the reboot: the old epoch goes on.
  type Epoch = { last: number; seen: Set<number>; before: Epoch | null };
  const epochs = new Map<string, Epoch>();
  for (const step of steps) {
    let e = epochs.get(step.device);
    if (!e) epochs.set(step.device, (e = { last: -1, seen: new Set(), before: null }));
    if (step.kind === 'reboot') {
      const before = e.last >= 0 ? e : e.before;
      epochs.set(step.device, { last: -1, seen: new Set(), before });
      continue;
    }
    if (step.kind !== 'publish') continue;
    out.received++;
    if (step.faults.includes('malformed') || step.faults.includes('nan')) {
      out.invalid++;
      out.deadLetters++;
      continue;
    }
    if (e.before) {
      if (step.seq > e.before.last) epochs.set(step.device, (e = e.before));
      else out.reboots++;
      e.before = null;
    }
    if (e.seen.has(step.seq)) {
      out.duplicates++;
      continue;
    }
    e.seen.add(step.seq);
    if (step.seq < e.last) {
      out.late++;
      out.deadLetters++;
      continue;
    }
    if (e.last >= 0) out.gaps += step.seq - e.last - 1;
    e.last = step.seq;
    if (step.faults.includes('glitch')) {
      out.outOfRange++;
      out.deadLetters++;
      continue;
    }
    out.predictions++;
    let list = out.predicted.get(step.device);
    if (!list) out.predicted.set(step.device, (list = []));
    list.push(step.seq);
  }
  return out;
}
