// `edge-rnn status`: the retained status of a runtime (`run`) read back from the broker,
// with run's own settings (flags, EDGE_RNN_* env, config file): prints the status document
// and exits 0 when it says online (published at or after --since), 1 when none did within
// --wait. scripts/deploy.sh runs it on the device after a restart, with the unit's env file.
import type { Command } from 'commander';
import { readTlsFiles, TlsFileError } from '../../io/mqtt-connect.js';
import { ConfigError, envName, parseDuration, resolveStatusConfig, STATUS_SETTINGS } from '../../io/run-config.js';
import { probeStatus } from '../../io/status-probe.js';
import { fillTopic } from '../../protocol/topic.js';
import { CliError } from '../errors.js';
import { addSettingOptions, settingFlags } from '../setting-options.js';

/** `--since`: an ISO 8601 time or seconds since the epoch (`date +%s`). */
export function parseSince(text: string): number {
  const ms = /^\d+(\.\d+)?$/.test(text) ? Number(text) * 1000 : Date.parse(text);
  if (!Number.isFinite(ms)) throw new CliError(`--since: expected an ISO 8601 time or seconds since the epoch, got "${text}"`, 2);
  return ms;
}

export function registerStatus(program: Command): void {
  const cmd = program
    .command('status')
    .description("wait for a runtime's retained status on the broker and print it (exit 0: online)")
    .option('-c, --config <file>', `JSON config file with any of the settings below (env ${envName('config')})`)
    .option('--wait <duration>', 'how long to wait for an online status', '10s')
    .option('--since <time>', 'only an online status published at or after this time counts (ISO 8601, or epoch seconds as from date +%s)');
  addSettingOptions(cmd, STATUS_SETTINGS);
  cmd.addHelpText('after', `
Reads the same settings as 'edge-rnn run' (so one env file serves both): the status topic
is --status-topic with {instance} filled in. Exit 0: an online status arrived (printed as
one JSON line); 1: none within --wait (the last status seen, if any, is named).`);
  cmd.action(async (opts: Record<string, unknown>) => {
    let config;
    let waitMs;
    try {
      config = resolveStatusConfig({ flags: settingFlags(opts, STATUS_SETTINGS), env: process.env, configFile: opts.config as string | undefined });
      waitMs = parseDuration(opts.wait as string);
    } catch (e) {
      if (e instanceof ConfigError) throw new CliError(e.message, 2);
      throw e;
    }
    const since = opts.since === undefined ? undefined : parseSince(opts.since as string);
    let tls;
    try {
      tls = readTlsFiles(config);
    } catch (e) {
      if (e instanceof TlsFileError) throw new CliError(e.message);
      throw e;
    }
    const topic = fillTopic(config.statusTopic, { instance: config.instance });
    const r = await probeStatus({
      broker: config.broker, topic, timeoutMs: waitMs, mqttVersion: config.mqttVersion, ...tls,
      ...(config.username !== undefined ? { username: config.username } : {}),
      ...(config.password !== undefined ? { password: config.password } : {}),
      ...(since !== undefined ? { since } : {}),
    });
    if (r.online !== null) {
      process.stdout.write(r.online + '\n');
      return;
    }
    const seen = r.last ? `; last seen: ${r.last}` : r.error ? `; broker ${config.broker}: ${r.error}` : '';
    throw new CliError(`no online status on ${topic} within ${opts.wait as string}${since !== undefined ? ` since ${new Date(since).toISOString()}` : ''}${seen}`);
  });
}
