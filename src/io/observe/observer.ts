// Observability of one runtime, wired together: the metrics (runtime-metrics.ts) on an
// optional HTTP listener with the status page, the same numbers on a retained MQTT topic,
// Home Assistant discovery. Created before the runtime (its taps go into the runtime's
// options), started with the runtime handle, stopped before the runtime stops.
import type { Model } from '../../model/types.js';
import type { DeviceTable } from '../../stream/device-table.js';
import type { Outgoing } from '../../stream/events.js';
import type { Logger } from '../logger.js';
import { systemClock, type RuntimeClock } from '../runtime/client.js';
import type { Runtime } from '../runtime/options.js';
import { writeExposition } from './exposition.js';
import { HaAnnouncer, type HaDiscoveryOptions } from './ha-discovery.js';
import { chartPlan, DeviceTracker, DEFAULT_TRACKER_LIMITS, type TrackerLimits } from './device-tracker.js';
import { startHttpListener, type HttpListener } from './http-listener.js';
import type { ListenAddress } from './listen-address.js';
import { metricsJson } from './metrics-json.js';
import { RuntimeObservation } from './runtime-metrics.js';
import { SseHub } from './sse.js';
import { statusPageRoutes } from './status-page.js';

export interface ObserverOptions {
  readonly instance: string;
  readonly log: Logger;
  /** Listen here for /metrics, /healthz, /readyz and the status page; none: no listener. */
  readonly http?: ListenAddress;
  /** Retained JSON metrics on this topic every metricsIntervalMs (0 or absent: off). */
  readonly metricsTopic?: string;
  readonly metricsIntervalMs?: number;
  /** Home Assistant discovery; none: off. */
  readonly haDiscovery?: Omit<HaDiscoveryOptions, 'instance' | 'statusTopic'>;
  /** Status page: charted devices, points per chart, update period. */
  readonly tracker?: Partial<TrackerLimits>;
  readonly pageIntervalMs?: number;
  readonly clock?: RuntimeClock;
}

const PUBLISH_RETAINED = { qos: 1, retain: true } as const;

export class Observer {
  private observation: RuntimeObservation | null = null;
  private runtime: Runtime | null = null;
  private model: Model;
  private listener: HttpListener | null = null;
  private ha: HaAnnouncer | null = null;
  private readonly tracker: DeviceTracker;
  private readonly hub = new SseHub();
  private readonly cursors = new Map<string, number>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly clock: RuntimeClock;
  private rate = { t: 0, received: 0, predictions: 0, readingsPerS: 0, predictionsPerS: 0 };

  /** Goes into the runtime's options (onOutgoing, onTable). */
  readonly taps = {
    onOutgoing: (out: Outgoing): void => {
      this.observation?.outgoing(out);
      const e = out.event;
      if (e.kind !== 'prediction') return;
      this.model = e.model;
      this.tracker.prediction(e, this.clock.monotonic());
      this.ha?.prediction(e.device, e.model);
    },
    onTable: (table: DeviceTable): void => {
      table.onEvict = (device) => this.ha?.evicted(device);
    },
  };

  constructor(model: Model, private readonly o: ObserverOptions) {
    this.model = model;
    this.clock = o.clock ?? systemClock;
    this.tracker = new DeviceTracker({ ...DEFAULT_TRACKER_LIMITS, ...o.tracker });
  }

  /** The status page's address once listening. */
  get url(): string | undefined {
    return this.listener?.url;
  }

  /** The exposition document now. */
  metrics(): string {
    return writeExposition(this.observation?.families() ?? []);
  }

  /** Starts observing `runtime`; rejects with a ListenError when the listener cannot listen (nothing else is left running then). */
  async start(runtime: Runtime): Promise<void> {
    const client = runtime.client;
    const obs = (this.observation = new RuntimeObservation({
      counters: runtime.counters, checkpoints: runtime.checkpoints, connected: () => client.connected, model: () => runtime.model(),
    }, () => this.clock.monotonic()));
    this.runtime = runtime;
    client.on('reconnect', () => void obs.reconnects++);
    if (this.o.haDiscovery) {
      this.ha = new HaAnnouncer((topic, payload) => client.publish(topic, payload, PUBLISH_RETAINED),
        { ...this.o.haDiscovery, instance: this.o.instance, statusTopic: runtime.statusTopic });
    }
    if (this.o.metricsTopic && this.o.metricsIntervalMs) {
      const topic = this.o.metricsTopic;
      this.every(this.o.metricsIntervalMs, () => client.connected && client.publish(topic, this.metricsDocument(), PUBLISH_RETAINED));
    }
    this.tick();
    if (this.o.http) await this.listen(this.o.http);
  }

  /** Serves /metrics, /healthz, /readyz and the status page on `address` (after start); the URL. Rejects with a ListenError. */
  async listen(address: ListenAddress): Promise<string> {
    const obs = this.observation;
    if (!obs || this.listener) throw new Error('observer: listen() once, after start()');
    this.listener = await startHttpListener(address, {
      metrics: () => this.metrics(), readiness: () => obs.readiness(),
      routes: statusPageRoutes({ snapshot: () => this.snapshot(null), hub: this.hub }),
    });
    this.every(this.o.pageIntervalMs ?? 1000, () => this.hub.size && this.hub.broadcast('update', this.snapshot(this.cursors)));
    this.every(15_000, () => this.hub.heartbeat());
    this.o.log.info({ url: this.listener.url }, 'observability listener: /metrics, /healthz, /readyz, status page at /');
    return this.listener.url;
  }

  private every(ms: number, f: () => void): void {
    const t = setInterval(f, ms);
    t.unref();
    this.timers.push(t);
  }

  /** The retained metrics topic's document: every metric, as JSON. */
  metricsDocument(): string {
    return JSON.stringify({ instance: this.o.instance, at: new Date(this.clock.now()).toISOString(), metrics: metricsJson(this.observation?.families() ?? []) });
  }

  // Throughput over the time since the last tick (the page's update period).
  private tick(): void {
    const c = this.runtime!.counters;
    const t = this.clock.monotonic();
    const dt = (t - this.rate.t) / 1000;
    if (this.rate.t > 0 && dt > 0.2) {
      this.rate = { t, received: c.received, predictions: c.predictions, readingsPerS: (c.received - this.rate.received) / dt, predictionsPerS: (c.predictions - this.rate.predictions) / dt };
    } else if (this.rate.t === 0) this.rate = { ...this.rate, t, received: c.received, predictions: c.predictions };
  }

  /** The page's picture; with cursors, each device's points since the last update (and the cursors move on). */
  snapshot(cursors: Map<string, number> | null): Record<string, unknown> {
    const rt = this.runtime!;
    const c = rt.counters;
    const obs = this.observation!;
    this.tick();
    const plan = chartPlan(this.model);
    const devices = this.tracker.views(this.model.inputs.names, cursors ?? undefined);
    if (cursors) {
      cursors.clear();
      for (const d of devices) cursors.set(d.device, d.written);
    }
    const r = obs.readiness();
    return {
      kind: cursors ? 'update' : 'snapshot',
      instance: this.o.instance, at: this.clock.now(), connected: rt.client.connected, ready: r.ready, reasons: r.reasons,
      model: rt.model(), probation: obs.probation, rejects: obs.rejectsByReason,
      chart: { output: plan.name, input: plan.input >= 0 ? this.model.inputs.names[plan.input] : null, horizon: plan.horizon },
      counts: {
        received: c.received, predictions: c.predictions, deadLetters: c.deadLetters, duplicates: c.duplicates,
        devices: c.devices, evictions: c.evictions, swaps: c.swaps, rollbacks: c.rollbacks,
      },
      deadByReason: c.deadByReason,
      rates: { readingsPerS: this.rate.readingsPerS, predictionsPerS: this.rate.predictionsPerS },
      step: { count: obs.stepDuration.count, meanUs: obs.stepDuration.count ? (obs.stepDuration.sum / obs.stepDuration.count) * 1e6 : null },
      latency: { count: obs.predictionLatency.count, meanMs: obs.predictionLatency.count ? (obs.predictionLatency.sum / obs.predictionLatency.count) * 1e3 : null },
      tracked: this.tracker.size, untracked: this.tracker.untracked, devices,
    };
  }

  /** Stops timers, the listener and its event streams (the runtime is stopped by its owner). */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    this.hub.closeAll();
    await this.listener?.close();
    this.listener = null;
  }
}
