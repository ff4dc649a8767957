// The simulator as a command: plan from the flags, then either print the plan (no
// network) or play it against a broker until it ends, --duration passes, or a signal.
import type { Command } from 'commander';
import { startFleet, type FleetReport } from './fleet.js';
import type { NodeLog } from './node.js';
import { addSimOptions, fleetOptionsFromFlags, planFromFlags, SimOptionError, type SimFlags } from './options.js';
import { planTraffic, type PlanStep } from './plan.js';

export interface SimIo {
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  /** Aborting stops the simulator gracefully (the CLI wires SIGINT/SIGTERM to it). */
  readonly signal?: AbortSignal;
}

/** One JSON line per plan step; payload bytes as text (JSON) or base64 (msgpack, garbage). */
export function stepToJson(step: PlanStep): string {
  if (step.kind !== 'publish') return JSON.stringify(step);
  const { payload, ...rest } = step;
  let text: string | null = null;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(payload);
  } catch {
    text = null;
  }
  const isText = text !== null && payload[0] === 0x7b; // '{'
  return JSON.stringify({ ...rest, ...(isText ? { payload: text } : { payloadBase64: Buffer.from(payload).toString('base64') }) });
}

function formatReport(r: FleetReport): string {
  const t = r.total;
  const lines = [
    `${r.finished ? 'finished' : 'stopped'} after ${(r.simulatedMs / 1000).toFixed(0)} s simulated: ` +
      `${t.readings} readings, ${t.published} messages published`,
    `faults: ${t.dropped} dropped, ${t.duplicates} duplicated, ${t.reordered} reordered, ${t.malformed} malformed, ${t.nan} NaN, ${t.glitches} glitches, ${t.reboots} reboots, ${t.disconnects} disconnects`,
  ];
  for (const [device, s] of r.nodes) lines.push(`  ${device}: ${s.sent} sent, ${s.failed} failed, ${s.connects} connects`);
  return lines.join('\n') + '\n';
}

function stderrLog(write: (s: string) => void): NodeLog {
  return {
    info: (_f, msg) => write(`${msg}\n`),
    warn: (f, msg) => write(`warning: ${msg} ${JSON.stringify(f)}\n`),
    debug: () => undefined,
  };
}

export async function runSim(flags: SimFlags & { printPlan?: boolean; json?: boolean }, io: SimIo): Promise<FleetReport | null> {
  const config = planFromFlags(flags);
  if (flags.printPlan) {
    if (config.readingsPerNode === undefined && config.untilMs === undefined && (flags.source === 'synthetic' || flags.loop)) {
      throw new SimOptionError('--print-plan needs --count or --sim-time for an endless source');
    }
    for (const step of planTraffic(config)) io.stdout(stepToJson(step) + '\n');
    return null;
  }
  const fleet = startFleet(config, { ...fleetOptionsFromFlags(flags), log: stderrLog(io.stderr) });
  const stop = () => void fleet.stop();
  io.signal?.addEventListener('abort', stop, { once: true });
  const timer = flags.duration !== undefined ? setTimeout(stop, flags.duration) : null;
  const progress = setInterval(() => {
    const t = fleet.total;
    io.stderr(`sim: ${t.readings} readings, ${t.published} published, ${t.dropped} dropped\n`);
  }, 10_000);
  progress.unref();
  io.stderr(`sim: ${config.nodes.length} nodes (${config.nodes.map((n) => n.device).join(', ')}) -> ${flags.broker}, speed ${flags.speed}x, ${flags.payload}, QoS ${flags.qos}\n`);
  try {
    const report = await fleet.done;
    io.stdout(flags.json ? JSON.stringify({ ...report, devices: Object.fromEntries(report.devices), nodes: Object.fromEntries(report.nodes) }) + '\n' : formatReport(report));
    return report;
  } finally {
    if (timer) clearTimeout(timer);
    clearInterval(progress);
    io.signal?.removeEventListener('abort', stop);
  }
}

/** Sets up `cmd` as the simulator command; `run` receives the parsed flags. */
export function defineSimCommand(cmd: Command, options: { dataPath?: string } = {}): Command {
  addSimOptions(cmd, options)
    .option('--print-plan', 'print the planned messages as JSON lines and exit (no broker needed)')
    .option('--json', 'final report as JSON');
  cmd.addHelpText('after', `
Each node is its own MQTT client (client id <prefix><device>) with a retained status
topic and a last will, reconnects with backoff, and keeps its seq across reconnects.
Payload: {"ts","seq","values":{"temperature","humidity"}} on --topic.
Faults are decided by --seed: the same flags give the same messages (see --print-plan).
See docs/simulator.md.`);
  return cmd;
}
