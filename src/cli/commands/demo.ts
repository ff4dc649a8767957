// `edge-rnn demo`: the whole loop on one machine with nothing installed. An embedded
// MQTT broker (aedes) on a free port (or --broker), the firmware simulator replaying the
// real mote data set, the runtime of `edge-rnn run` with a shipped trained model, and a
// live view of what crosses the broker; a summary at the end.
import { Command, InvalidArgumentError, Option } from 'commander';
import mqtt from 'mqtt';
import { addSimOptions, fleetOptionsFromFlags, MoteDataError, planFromFlags, SimOptionError, startFleet, type FleetReport, type SimFlags } from '../../../firmware-sim/src/index.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../io/embedded-broker.js';
import { ModelFileError, readModelFile } from '../../io/model-file.js';
import { startRuntime } from '../../io/mqtt-runtime.js';
import { shippedFile, shippedFileHint } from '../../io/shipped-files.js';
import { deviceMatcher } from '../../protocol/topic.js';
import { CliError } from '../errors.js';
import { runUntilSignal } from '../run-until-signal.js';
import { moteDataMessage } from './sim.js';
import { formatSummary, liveView } from '../demo/live-view.js';
import { DEMO_HTTP, listenForDemo } from '../demo/status-page.js';
import { Observer } from '../../io/observe/observer.js';
import { silentLogger } from '../../io/logger.js';
import { ListenAddressError, parseListenAddress } from '../../io/observe/listen-address.js';
import { Scoreboard, type Summary } from '../demo/scoreboard.js';


export interface DemoFlags extends Omit<SimFlags, 'broker'> {
  broker?: string;
  model?: string;
  json?: boolean;
  live: boolean;
  refresh: number;
  /** Status page address; false: --no-http. */
  http: string | false;
}

export interface DemoResult {
  readonly summary: Summary;
  readonly runtime: { readonly received: number; readonly predictions: number; readonly deadLetters: number; readonly duplicates: number };
  readonly sim: FleetReport;
  /** Per device, what the view saw. */
  readonly devices: Readonly<Record<string, { readonly messages: number; readonly predictions: number; readonly deadLetters: number }>>;
  readonly broker: string;
  readonly model: string;
  /** The status page's URL (null: --no-http, or it could not listen). */
  readonly statusPage: string | null;
}

export interface DemoIo {
  readonly stdout: NodeJS.WriteStream | { write(s: string): unknown; isTTY?: boolean };
  readonly signal?: AbortSignal;
  /** Where --json mode says where the status page is (default process.stderr). */
  readonly stderr?: { write(s: string): unknown };
  /** Tests: the embedded broker, before any client connects (to count what it carries). */
  readonly onBroker?: (broker: EmbeddedBroker) => void;
}

async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

export async function runDemo(flags: DemoFlags, io: DemoIo): Promise<DemoResult> {
  const modelPath = flags.model ?? shippedFile('demoModel');
  let model;
  try {
    ({ model } = readModelFile(modelPath));
  } catch (e) {
    if (e instanceof ModelFileError && flags.model === undefined && e.message.startsWith('cannot read')) throw new CliError(`demo: ${e.message} ${shippedFileHint('--model')}`);
    throw e;
  }
  const started = performance.now();
  let embedded: EmbeddedBroker | null = null;
  const url = flags.broker ?? (embedded = await startEmbeddedBroker()).url;
  if (embedded) io.onBroker?.(embedded);
  const version = embedded ? 4 : flags.mqttVersion; // aedes speaks 3.1.1 only
  const instance = `demo-${process.pid}`;
  const readingPattern = flags.topic.replace('{device}', '+');
  const deadTopic = `edge-rnn/${instance}/dead-letter`;

  const board = new Scoreboard(model);
  const deviceOf = deviceMatcher(readingPattern);
  // Everything started from here on is stopped in `finally`, even when a later step fails
  // (e.g. the live view cannot load on an old Node.js), so the demo never hangs on exit.
  let monitor: mqtt.MqttClient | null = null;
  let runtime: ReturnType<typeof startRuntime> | null = null;
  let observer: Observer | null = null;
  let page: { url: string | null; note: string | null } = { url: null, note: null };
  let fleet: ReturnType<typeof startFleet> | null = null;
  let view: ReturnType<typeof liveView> | null = null;
  let timer: NodeJS.Timeout | null = null;
  let deadline: NodeJS.Timeout | null = null;
  const stop = () => void fleet?.stop();
  let sim: FleetReport | undefined;
  try {
    // The view's own client: it sees what crosses the broker, like any other subscriber.
    const m = (monitor = mqtt.connect(url, { clientId: `edge-rnn-demo-view-${process.pid}`, protocolVersion: version, clean: true, reconnectPeriod: 1000 }));
    m.on('message', (topic, payload) => {
      if (topic === deadTopic) board.deadLetter(payload);
      else if (topic.startsWith('predictions/')) board.prediction(payload);
      else {
        const device = deviceOf(topic);
        if (device) board.reading(device, payload);
      }
    });
    m.on('error', () => undefined); // retried by mqtt.js; the runtime logs nothing either (silent)
    await new Promise<void>((resolve) => m.once('connect', () => resolve()));
    await m.subscribeAsync([readingPattern, 'predictions/+', deadTopic], { qos: 1 });

    const obs = (observer = flags.http === false ? null : new Observer(model, { instance, log: silentLogger() }));
    const rt = (runtime = startRuntime(model, {
      ...obs?.taps,
      broker: url, mqttVersion: version, instance, clientId: `edge-rnn-demo-${process.pid}`,
      topics: [readingPattern], healthIntervalMs: 0, resetAfterMs: 0,
      ...(version === 5 ? { sessionExpiryS: 60 } : {}),
    }));
    await rt.ready;
    if (obs && flags.http !== false) {
      await obs.start(rt);
      page = await listenForDemo(obs, flags.http);
    }

    const config = planFromFlags({ ...flags, broker: url });
    const names = board.scoredNames.length ? board.scoredNames : model.inputs.names;
    const header =
      `edge-rnn demo: ${config.nodes.length} simulated nodes -> ${embedded ? `embedded broker ${url}` : url} -> edge-rnn run (${model.name} v${model.modelVersion}${model.outputs.horizon ? `, ${model.outputs.horizon} steps ahead` : ''})\n` +
      `replaying ${flags.source === 'replay' ? 'the Suthaharan mote data set' : 'synthetic signals'} at ${flags.speed}x; Ctrl-C to stop` +
      (page.url ? `\nstatus page: ${page.url}  (/metrics, /healthz, /readyz)` : '') + (page.note ? `\n${page.note}` : '');
    // Said once up front as well, so the URL stays on screen (and in a log) without the live
    // view; with --json on stderr, so stdout stays one JSON document.
    if (!flags.live && (page.url || page.note)) (flags.json ? io.stderr ?? process.stderr : io.stdout).write(`${page.note ?? `status page: ${page.url}`}\n`);
    view = flags.live ? liveView(board, names, io.stdout, header) : null;
    const f = (fleet = startFleet(config, { ...fleetOptionsFromFlags({ ...flags, broker: url, mqttVersion: version }), clientIdPrefix: `demo-${process.pid}-` }));
    timer = setInterval(() => view?.update(), flags.refresh);
    io.signal?.addEventListener('abort', stop, { once: true });
    deadline = flags.duration !== undefined ? setTimeout(stop, flags.duration) : null;

    sim = await f.done;
    // Let the last readings reach the runtime and its outputs reach the view.
    const published = sim.total.published;
    await waitUntil(() => rt.counters.received >= published && board.summary().readings >= published, 10_000);
    await waitUntil(() => {
      const s = board.summary();
      return s.predictions + s.deadLetters >= rt.counters.predictions + rt.counters.deadLetters;
    }, 10_000);
  } finally {
    if (timer) clearInterval(timer);
    if (deadline) clearTimeout(deadline);
    io.signal?.removeEventListener('abort', stop);
    view?.update();
    view?.done();
    if (fleet && !sim) await fleet.stop(); // failed before the fleet finished
    await observer?.stop();
    await runtime?.stop();
    await monitor?.endAsync();
    await embedded?.close();
  }
  const summary = board.summary();
  const c = runtime!.counters;
  const result: DemoResult = {
    summary, sim, broker: url, model: modelPath, statusPage: page.url,
    devices: Object.fromEntries([...board.rows].map(([d, r]) => [d, { messages: r.messages, predictions: r.predictions, deadLetters: r.deadLetters }])),
    runtime: { received: c.received, predictions: c.predictions, deadLetters: c.deadLetters, duplicates: c.duplicates },
  };
  const seconds = (performance.now() - started) / 1000;
  if (flags.json) io.stdout.write(JSON.stringify({ ...result, sim: { ...sim.total, simulatedMs: sim.simulatedMs } }) + '\n');
  else io.stdout.write('\n' + formatSummary(summary, { seconds, simulatedSeconds: sim.simulatedMs / 1000, model: `${model.name} v${model.modelVersion}`, duplicates: c.duplicates }));
  return result;
}

/** The demo's flags on `cmd` (shared by the command and tests). */
export function defineDemoCommand(cmd: Command): Command {
  cmd
    .description('the whole loop on one machine: embedded broker, simulated motes replaying real data, the runtime, a live view')
    .option('-b, --broker <url>', 'use this broker instead of the embedded one')
    .addOption(new Option('--mqtt-version <v>', 'MQTT version with --broker (the embedded broker speaks 4)').choices(['4', '5']).default(4).argParser((v) => Number(v) as 4 | 5))
    .option('-m, --model <file>', `model to run (default: the shipped trained forecaster, ${shippedFile('demoModel')})`)
    .option('--no-live', 'no live view, only the summary')
    .option('--refresh <ms>', 'live view refresh period in ms', (v) => Math.max(50, Number(v) || 250), 250)
    .option('--json', 'summary as JSON')
    .option('--http <host:port>', 'serve the live status page (and /metrics, /healthz, /readyz) here; a taken port moves it to a free one', (v) => {
      try {
        parseListenAddress(v);
        return v;
      } catch (e) {
        if (e instanceof ListenAddressError) throw new InvalidArgumentError(e.message);
        throw e;
      }
    }, DEMO_HTTP)
    .option('--no-http', 'no status page');
  // Demo defaults: readings every 5 s of sensor time played 60x faster, QoS 1 so the
  // summary's counts are exact.
  addSimOptions(cmd, { withBroker: false, speed: 60, qos: 1, dataPath: shippedFile('moteData') });
  cmd.addHelpText('after', `
Example: edge-rnn demo --duration 20            (20 s, then a summary)
         edge-rnn demo --drop 0.05 --malformed 0.02 --duplicate 0.05
The simulator's flags (faults, --speed, --seed, --source synthetic, ...) are those of
'edge-rnn sim'. See docs/simulator.md.`);
  return cmd;
}

/** Parses demo flags (tests). */
export function parseDemoFlags(argv: readonly string[]): DemoFlags {
  const cmd = defineDemoCommand(new Command('demo')).exitOverride();
  cmd.parse([...argv], { from: 'user' });
  return cmd.opts<DemoFlags>();
}

export function registerDemo(program: Command): void {
  const cmd = defineDemoCommand(program.command('demo'));
  cmd.action(async (flags: DemoFlags) => {
    try {
      await runUntilSignal((signal) => runDemo(flags, { stdout: process.stdout, signal }));
    } catch (e) {
      if (e instanceof MoteDataError) throw new CliError(moteDataMessage(e, flags));
      if (e instanceof SimOptionError || e instanceof ModelFileError) throw new CliError(e.message);
      throw e;
    }
  });
}
