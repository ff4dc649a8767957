// Plays a traffic plan back over MQTT: one SimNode (client) per device, each step sent at
// its simulated time divided by the speed-up. The plan decides everything that is sent;
// this file only decides when.
import { setTimeout as sleep } from 'node:timers/promises';
import { fillTopic } from '../../src/protocol/topic.js';
import { countStep, emptySummary, planTraffic, type PlanConfig, type PlanStep, type PlanSummary } from './plan.js';
import { SimNode, silentLog, type NodeLog, type NodeStats } from './node.js';

export interface FleetOptions {
  readonly broker: string;
  /** Simulated time runs this many times faster than real time (Infinity: no waiting). */
  readonly speed: number;
  readonly qos: 0 | 1;
  readonly mqttVersion?: 4 | 5;
  /** Client id is prefix + device. */
  readonly clientIdPrefix?: string;
  /** Retained node status topic template, e.g. `sensors/{device}/status`. */
  readonly statusTopic?: string;
  /** Real (wall clock) backoff bounds for reconnecting after an unplanned drop. */
  readonly reconnectMinMs?: number;
  readonly reconnectMaxMs?: number;
  readonly username?: string;
  readonly password?: string;
  readonly log?: NodeLog;
  /** Called for every step as it is played (before it is sent). */
  readonly onStep?: (step: PlanStep) => void;
  /** Wall ms to wait for every node's first connection. */
  readonly connectTimeoutMs?: number;
}

export interface FleetReport {
  /** What was played, from the plan. */
  readonly total: PlanSummary;
  readonly devices: ReadonlyMap<string, PlanSummary>;
  /** What the clients confirmed. */
  readonly nodes: ReadonlyMap<string, NodeStats>;
  /** True when the plan ran to its end (false: stopped early). */
  readonly finished: boolean;
  /** Simulated ms reached. */
  readonly simulatedMs: number;
}

export interface Fleet {
  readonly nodes: ReadonlyMap<string, SimNode>;
  /** Live totals of the steps played so far. */
  readonly total: PlanSummary;
  /** Resolves when the plan has been played and delivered, or after stop(). */
  readonly done: Promise<FleetReport>;
  /** Stop playing, deliver what was played, disconnect every node. */
  stop(): Promise<FleetReport>;
}

export const FLEET_DEFAULTS = {
  clientIdPrefix: 'sim-',
  statusTopic: 'sensors/{device}/status',
  mqttVersion: 4 as 4 | 5, // the embedded aedes broker speaks 3.1.1 only
  reconnectMinMs: 500,
  reconnectMaxMs: 30_000,
  connectTimeoutMs: 10_000,
} as const;

export function startFleet(config: PlanConfig, options: FleetOptions): Fleet {
  const log = options.log ?? silentLog;
  const nodes = new Map<string, SimNode>();
  for (const spec of config.nodes) {
    nodes.set(spec.device, new SimNode({
      broker: options.broker,
      device: spec.device,
      clientId: `${options.clientIdPrefix ?? FLEET_DEFAULTS.clientIdPrefix}${spec.device}`,
      statusTopic: fillTopic(options.statusTopic ?? FLEET_DEFAULTS.statusTopic, { device: spec.device }),
      qos: options.qos,
      mqttVersion: options.mqttVersion ?? FLEET_DEFAULTS.mqttVersion,
      reconnectMinMs: options.reconnectMinMs ?? FLEET_DEFAULTS.reconnectMinMs,
      reconnectMaxMs: options.reconnectMaxMs ?? FLEET_DEFAULTS.reconnectMaxMs,
      seed: config.seed,
      username: options.username,
      password: options.password,
      log,
    }));
  }
  const total = emptySummary();
  const devices = new Map<string, PlanSummary>();
  let stopRequested = false;
  let wake: (() => void) | null = null;
  let simulatedMs = 0;

  const play = async (): Promise<boolean> => {
    const connectTimeout = options.connectTimeoutMs ?? FLEET_DEFAULTS.connectTimeoutMs;
    const all = Promise.all([...nodes.values()].map((n) => n.connected));
    const timedOut = await Promise.race([all.then(() => false), sleep(connectTimeout, true, { ref: false })]);
    if (timedOut) log.warn({ broker: options.broker }, `not every node connected within ${connectTimeout} ms; their readings are buffered`);
    const t0 = performance.now();
    let sinceYield = 0;
    for (const step of planTraffic(config)) {
      if (stopRequested) return false;
      const due = t0 + step.atMs / options.speed;
      const wait = due - performance.now();
      if (wait >= 1) {
        const ac = new AbortController();
        wake = () => ac.abort();
        await sleep(wait, undefined, { signal: ac.signal }).catch(() => undefined);
        wake = null;
        if (stopRequested) return false;
        sinceYield = 0;
      } else if (++sinceYield >= 256) {
        await new Promise((r) => setImmediate(r)); // let sockets write
        sinceYield = 0;
      }
      simulatedMs = step.atMs;
      options.onStep?.(step);
      countStep(total, step);
      let d = devices.get(step.device);
      if (!d) devices.set(step.device, (d = emptySummary()));
      countStep(d, step);
      const node = nodes.get(step.device)!;
      if (step.kind === 'publish') node.publish(step.topic, step.payload);
      else if (step.kind === 'disconnect') void node.dropConnection(Number.isFinite(options.speed) ? step.offlineMs / options.speed : 0);
    }
    return true;
  };

  const report = (finished: boolean): FleetReport => ({
    total: { ...total },
    devices: new Map([...devices].map(([k, v]) => [k, { ...v }])),
    nodes: new Map([...nodes].map(([k, n]) => [k, { ...n.stats }])),
    finished,
    simulatedMs,
  });

  const done = (async () => {
    let finished = false;
    try {
      finished = await play();
    } finally {
      await Promise.all([...nodes.values()].map((n) => n.stop()));
    }
    return report(finished);
  })();

  return {
    nodes,
    total,
    done,
    stop() {
      stopRequested = true;
      wake?.();
      return done;
    },
  };
}
