// The simulator's settings as command-line flags, shared by `edge-rnn sim` and the
// stand-alone `firmware-sim` launcher, and their translation into a plan and fleet options.
import { InvalidArgumentError, Option, type Command } from 'commander';
import { loadMoteSeries, MOTE_DATA_PATH, MOTE_PERIOD_MS } from './mote-data.js';
import { PAYLOAD_FORMATS, type PayloadFormat } from './payload.js';
import { GLITCH_VALUE, NO_FAULTS, type Faults, type NodeSpec, type PlanConfig } from './plan.js';
import { DEFAULT_SIGNALS, type SignalSpec } from './signals.js';
import type { FleetOptions } from './fleet.js';

export class SimOptionError extends Error {
  override readonly name = 'SimOptionError';
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "500ms", "30s", "10m", "2h", "1d"; a bare number is seconds. Returns ms. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) throw new InvalidArgumentError(`expected a duration such as 500ms, 30s, 10m, 2h (got "${text}")`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? 's']);
}

function probability(text: string): number {
  const v = Number(text);
  if (!(v >= 0 && v <= 1)) throw new InvalidArgumentError(`expected a probability between 0 and 1 (got "${text}")`);
  return v;
}

function positive(text: string): number {
  const v = Number(text);
  if (!(v > 0)) throw new InvalidArgumentError(`expected a positive number (got "${text}")`);
  return v;
}

function nonNegative(text: string): number {
  const v = Number(text);
  if (!(v >= 0) || !Number.isFinite(v)) throw new InvalidArgumentError(`expected a number >= 0 (got "${text}")`);
  return v;
}

function integer(text: string): number {
  const v = Number(text);
  if (!Number.isSafeInteger(v) || v < 0) throw new InvalidArgumentError(`expected a whole number >= 0 (got "${text}")`);
  return v;
}

function speed(text: string): number {
  if (text === 'max') return Infinity;
  return positive(text);
}

/** Parsed flags (commander's camelCase keys). */
export interface SimFlags {
  broker: string;
  source: 'replay' | 'synthetic';
  data: string;
  motes?: string;
  nodes: number;
  period: number;
  rateSpread: number;
  jitter: number;
  speed: number;
  seed: number;
  start?: number;
  count?: number;
  duration?: number;
  simTime?: number;
  loop?: boolean;
  qos: 0 | 1;
  payload: PayloadFormat;
  topic: string;
  statusTopic: string;
  clientPrefix: string;
  mqttVersion: 4 | 5;
  username?: string;
  password?: string;
  drop: number;
  duplicate: number;
  reorder: number;
  malformed: number;
  nan: number;
  glitch: number;
  reboot: number;
  disconnect: number;
  offline: number;
  clockSkew: number;
  noise?: number;
  drift?: number;
  steps?: number;
}

/**
 * Adds the simulator's flags to `cmd`. `withBroker: false` leaves out the connection
 * flags (the demo has its own broker); `speed` and `qos` set those flags' defaults;
 * `dataPath` the default of --data (the CLI's bundle passes the copy beside itself).
 */
export function addSimOptions(cmd: Command, { withBroker = true, speed: speedDefault = 1, qos: qosDefault = 0, dataPath = MOTE_DATA_PATH }: { withBroker?: boolean; speed?: number; qos?: 0 | 1; dataPath?: string } = {}): Command {
  if (withBroker) {
    cmd
      .option('-b, --broker <url>', 'broker URL', 'mqtt://127.0.0.1:1883')
      .option('--username <name>', 'broker user name')
      .option('--password <password>', 'broker password')
      .addOption(new Option('--mqtt-version <v>', 'MQTT protocol version of the nodes').choices(['4', '5']).default(4).argParser((v) => Number(v) as 4 | 5))
      .option('--client-prefix <prefix>', 'client id prefix (client id = prefix + device)', 'sim-');
  }
  cmd
    .addOption(new Option('--source <kind>', 'replay the real mote data set, or synthetic signals').choices(['replay', 'synthetic']).default('replay'))
    .option('--data <csv>', 'replay: mote data file (reading,mote_id,indoor,humidity,temperature,label)', dataPath)
    .option('--motes <ids>', 'replay: only these mote ids, comma-separated (default: all)')
    .option('--loop', 'replay: start each series again at its end (else a node stops there)')
    .option('--nodes <n>', 'synthetic: number of nodes', integer, 4)
    .option('--period <duration>', 'synthetic: nominal time between readings (replay: 5s, as recorded)', parseDuration, MOTE_PERIOD_MS)
    .option('--noise <sd>', 'synthetic: noise standard deviation, applied to every value', nonNegative)
    .option('--drift <per-hour>', 'synthetic: drift per simulated hour, applied to every value', Number)
    .option('--steps <p>', 'synthetic: probability per reading of a step event', probability)
    .option('--rate-spread <fraction>', "each node's own rate: period × (1 ± fraction)", nonNegative, 0.02)
    .option('--jitter <fraction>', 'each interval: node period × (1 ± fraction)', nonNegative, 0.05)
    .option('--speed <x>', 'run simulated time x times faster than real time ("max": no waiting)', speed, speedDefault)
    .option('--seed <n>', 'seed: the same flags and seed give the same traffic', integer, 1)
    .option('--start <epoch-ms>', 'timestamp of simulated time 0 (default: now)', integer)
    .option('--count <n>', 'readings per node, then stop', integer)
    .option('--sim-time <duration>', 'stop at this much simulated time')
    .option('--duration <duration>', 'stop after this much real time', parseDuration)
    .addOption(new Option('--qos <q>', 'QoS of readings').choices(['0', '1']).default(qosDefault).argParser((v) => Number(v) as 0 | 1))
    .addOption(new Option('--payload <format>', 'payload encoding').choices([...PAYLOAD_FORMATS]).default('json'))
    .option('--topic <template>', 'reading topic template', 'sensors/{device}/reading')
    .option('--status-topic <template>', 'retained node status topic (last will: offline)', 'sensors/{device}/status')
    .option('--drop <p>', 'fault: probability a reading is lost (its seq is skipped)', probability, 0)
    .option('--duplicate <p>', 'fault: probability a reading is sent twice', probability, 0)
    .option('--reorder <p>', 'fault: probability a reading is sent after the next one', probability, 0)
    .option('--malformed <p>', 'fault: probability of a broken payload', probability, 0)
    .option('--nan <p>', 'fault: probability one value is NaN', probability, 0)
    .option('--glitch <p>', `fault: probability one value is a sensor glitch code (${GLITCH_VALUE})`, probability, 0)
    .option('--reboot <p>', 'fault: probability per reading the node reboots after it (its seq counts from 0 again)', probability, 0)
    .option('--disconnect <p>', 'fault: probability per reading the node drops its connection', probability, 0)
    .option('--offline <duration>', 'fault: simulated time a dropped node stays offline', parseDuration, NO_FAULTS.offlineMs)
    .option('--clock-skew <duration>', "fault: each node's clock is off by up to ± this", parseDuration, 0);
  // --sim-time parses as a duration too (kept apart from --duration: simulated vs real).
  cmd.options.find((o) => o.long === '--sim-time')!.argParser(parseDuration);
  return cmd;
}

/** The faults part of the flags. */
export function faultsFromFlags(f: SimFlags): Faults {
  return { drop: f.drop, duplicate: f.duplicate, reorder: f.reorder, malformed: f.malformed, nan: f.nan, glitch: f.glitch, reboot: f.reboot, disconnect: f.disconnect, offlineMs: f.offline, clockSkewMs: f.clockSkew };
}

/** The nodes the flags ask for: one per mote (replay) or `nodes` synthetic ones. */
export function nodesFromFlags(f: SimFlags): NodeSpec[] {
  if (f.source === 'synthetic') {
    const signals: Record<string, SignalSpec> = {};
    for (const [name, s] of Object.entries(DEFAULT_SIGNALS)) {
      signals[name] = {
        ...s,
        ...(f.noise !== undefined ? { noise: f.noise } : {}),
        ...(f.drift !== undefined ? { driftPerHour: f.drift } : {}),
        ...(f.steps !== undefined ? { stepProbability: f.steps } : {}),
      };
    }
    const width = String(f.nodes).length;
    return Array.from({ length: f.nodes }, (_, i) => ({
      device: `node-${String(i + 1).padStart(Math.max(2, width), '0')}`,
      periodMs: f.period,
      source: { kind: 'synthetic', signals },
    }));
  }
  let motes = loadMoteSeries(f.data);
  if (f.motes !== undefined) {
    const wanted = f.motes.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = wanted.filter((w) => !motes.some((m) => m.mote === w));
    if (unknown.length) throw new SimOptionError(`no mote ${unknown.join(', ')} in ${f.data} (motes: ${motes.map((m) => m.mote).join(', ')})`);
    motes = motes.filter((m) => wanted.includes(m.mote));
  }
  return motes.map((m) => ({
    device: `mote-${m.mote}`,
    periodMs: MOTE_PERIOD_MS,
    source: { kind: 'series', series: { temperature: m.temperature, humidity: m.humidity }, loop: f.loop ?? false },
  }));
}

export function planFromFlags(f: SimFlags, now: () => number = Date.now): PlanConfig {
  return {
    seed: f.seed,
    startTs: f.start ?? now(),
    nodes: nodesFromFlags(f),
    rateSpread: f.rateSpread,
    jitter: f.jitter,
    faults: faultsFromFlags(f),
    payload: f.payload,
    topic: f.topic,
    ...(f.count !== undefined ? { readingsPerNode: f.count } : {}),
    ...(f.simTime !== undefined ? { untilMs: f.simTime } : {}),
  };
}

export function fleetOptionsFromFlags(f: SimFlags): FleetOptions {
  return {
    broker: f.broker,
    speed: f.speed,
    qos: f.qos,
    mqttVersion: f.mqttVersion,
    clientIdPrefix: f.clientPrefix,
    statusTopic: f.statusTopic,
    ...(f.username !== undefined ? { username: f.username } : {}),
    ...(f.password !== undefined ? { password: f.password } : {}),
  };
}
