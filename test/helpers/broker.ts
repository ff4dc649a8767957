// A real MQTT broker for tests: Mosquitto from its binary on a free loopback port with a
// temporary config and data folder, or the embedded aedes broker when the binary is
// missing (aedes speaks MQTT 3.1.1 only; CI runs Mosquitto).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createTlsServer } from 'node:tls';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { freePort, waitForPort } from '../../scripts/local-ports.js';

export { freePort };

export interface TestBroker {
  readonly kind: 'mosquitto' | 'aedes';
  readonly port: number;
  readonly url: string;
  /** The newest MQTT version the broker speaks. */
  readonly mqttVersion: 4 | 5;
  /** Stop the broker (its persistence survives) ... */
  stop(): Promise<void>;
  /** Kill the broker (SIGKILL: no save; aedes: as stop) ... */
  kill(): Promise<void>;
  /** ... and start it again on the same port. */
  start(): Promise<void>;
  /** Stop for good and remove the data folder. */
  close(): Promise<void>;
}

const CANDIDATES = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/local/bin/mosquitto', '/opt/homebrew/sbin/mosquitto'];

export function mosquittoPath(): string | null {
  if (process.env.EDGE_RNN_TEST_BROKER === 'aedes') return null;
  return CANDIDATES.find((p) => existsSync(p)) ?? null;
}

export interface BrokerOptions {
  /** Mosquitto autosave_interval (s): 1 in tests, so a session survives a stop/start (Mosquitto's own default is 1800). */
  readonly autosaveIntervalS?: number;
  /** Refuse anonymous clients; accept this user. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** Listen with TLS (PEM files); clients must then present a certificate signed by `ca`. */
  readonly tls?: { readonly ca: string; readonly cert: string; readonly key: string };
  /** Mosquitto max_packet_size: announced to MQTT 5 clients in the CONNACK. */
  readonly maxPacketSize?: number;
}

async function startMosquitto(bin: string, options: BrokerOptions): Promise<TestBroker> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'edge-rnn-mosquitto-'));
  // Started as root, mosquitto drops to its own user, which must be able to write here.
  chmodSync(dir, 0o777);
  const conf = join(dir, 'mosquitto.conf');
  const security: string[] = [];
  if (options.auth) {
    const passwd = join(dir, 'passwd');
    const tool = [join(dirname(bin), 'mosquitto_passwd'), '/usr/bin/mosquitto_passwd', '/usr/local/bin/mosquitto_passwd'].find((p) => existsSync(p)) ?? 'mosquitto_passwd';
    execFileSync(tool, ['-c', '-b', passwd, options.auth.username, options.auth.password]);
    chmodSync(passwd, 0o644);
    security.push('allow_anonymous false', `password_file ${passwd}`);
  } else security.push('allow_anonymous true');
  if (options.tls) {
    for (const k of ['ca', 'cert', 'key'] as const) copyFileSync(options.tls[k], join(dir, `tls-${k}.pem`));
    security.push(`cafile ${dir}/tls-ca.pem`, `certfile ${dir}/tls-cert.pem`, `keyfile ${dir}/tls-key.pem`, 'require_certificate true');
  }
  writeFileSync(conf, [
    `listener ${port} 127.0.0.1`,
    ...security,
    'persistence true',
    `persistence_location ${dir}/`,
    `autosave_interval ${options.autosaveIntervalS ?? 1}`, // the session survives a stop/start (it is also saved on SIGTERM)
    'max_queued_messages 0', // unlimited: the default 1000 would drop readings for an offline runtime
    'max_inflight_messages 100',
    'set_tcp_nodelay true',
    ...(options.maxPacketSize ? [`max_packet_size ${options.maxPacketSize}`] : []),
    'log_dest stderr',
    'log_type error',
    'log_type warning',
    '',
  ].join('\n'));
  let proc: ChildProcess | null = null;
  let stderr = '';
  const start = async () => {
    stderr = '';
    proc = spawn(bin, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    proc.stderr!.on('data', (d) => (stderr += d));
    const exited = new Promise<never>((_, reject) => proc!.once('exit', (code) => reject(new Error(`mosquitto exited with ${code}: ${stderr}`))));
    exited.catch(() => undefined);
    await Promise.race([waitForPort(port, 10_000, 'broker'), exited]);
  };
  // SIGTERM: mosquitto saves its persistence file first; SIGKILL: a crash, nothing saved.
  const end = async (signal: 'SIGTERM' | 'SIGKILL') => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      p.once('exit', () => resolve());
      p.kill(signal);
    });
  };
  const stop = () => end('SIGTERM');
  await start();
  return {
    kind: 'mosquitto', port, url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`, mqttVersion: 5,
    start, stop, kill: () => end('SIGKILL'),
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startAedes(options: BrokerOptions): Promise<TestBroker> {
  const { Aedes } = await import('aedes');
  // One broker object across stop/start: its in-memory persistence plays the data folder.
  const { auth, tls } = options;
  const broker = await Aedes.createBroker(auth ? {
    authenticate: (_client, username, password, done) => done(null, username === auth.username && password?.toString() === auth.password),
  } : {});
  const port = await freePort();
  let server: Server | null = null;
  const sockets = new Set<Socket>();
  const start = async () => {
    const onSocket = (s: Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
      broker.handle(s);
    };
    server = tls
      ? createTlsServer({ ca: readFileSync(tls.ca), cert: readFileSync(tls.cert), key: readFileSync(tls.key), requestCert: true, rejectUnauthorized: true }, onSocket)
      : createServer(onSocket);
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(port, '127.0.0.1', () => resolve());
    });
  };
  const stop = async () => {
    const s = server;
    server = null;
    if (!s) return;
    for (const c of sockets) c.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  };
  await start();
  return {
    kind: 'aedes', port, url: `${tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`, mqttVersion: 4,
    start, stop, kill: stop,
    close: async () => {
      await stop();
      await new Promise<void>((resolve) => broker.close(() => resolve()));
    },
  };
}

/** Mosquitto when installed, else aedes. */
export async function startBroker(options: BrokerOptions = {}): Promise<TestBroker> {
  const bin = mosquittoPath();
  return bin ? startMosquitto(bin, options) : startAedes(options);
}
