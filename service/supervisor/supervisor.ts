// `npm start`: the service as its processes. One data process (ingest, analytics, signals, the web pages,
// on chDB, every thread at BACKGROUND_NICE) starts first, on a loopback port of its own; then
// ROUTER_WORKERS router processes share the public port (node:cluster), append telemetry to their own
// local logs and send everything else to the data process. With no provider configured, the bundled
// simulator is a third kind of process. A process that dies is started again (the same router number, so
// it appends to its own log); a stop drains the routers first, then lets the data process read their logs
// to the end. This process holds no database and serves no request: it keeps what the others share (hub.ts).
import cluster, { type Worker } from 'node:cluster';
import { type ChildProcess, fork } from 'node:child_process';
import type { Config, Supervision } from '../../core/config.ts';
import type { Logger } from '../../core/logger.ts';
import { newKeySecret } from '../../router/auth/key-store.ts';
import { Hub, type HubMessage, type HubPeer } from './hub.ts';

const RESTART_MIN_MS = 500;
const RESTART_MAX_MS = 15_000;
/** A process that ran this long before it died is restarted at once, not after a longer wait. */
const STEADY_MS = 30_000;

type Kind = 'router' | 'data' | 'simulator';

interface Managed {
  kind: Kind;
  name: string;
  /** The environment it is (re)started with. */
  env: () => Record<string, string>;
  process: ChildProcess | undefined;
  worker: Worker | undefined;
  startedAt: number;
  restartMs: number;
  /** Resolves with its URL once it listens. */
  listening: ((url: string) => void) | undefined;
}

export interface Supervisor {
  url: string;
  close(): Promise<void>;
}

const peerOf = (p: ChildProcess | Worker): HubPeer => ({
  send: (m: HubMessage) => p.send(m),
  get connected() {
    return 'isConnected' in p ? p.isConnected() : p.connected;
  },
});

export async function runSupervisor(config: Config, logger: Logger): Promise<Supervisor> {
  const entry = process.argv[1];
  const hub = new Hub();
  const devKey = config.devKey ?? newKeySecret();
  const managed: Managed[] = [];
  let stopping = false;
  /** Until every process listens once, a death is a failed start (a port taken, a bad setting), not a crash. */
  let started = false;
  let failStart: (err: Error) => void = () => undefined;
  const startFailed = new Promise<never>((_, reject) => (failStart = reject));
  startFailed.catch(() => undefined);
  const base = (supervision: Supervision): Record<string, string> => ({ SWITCHBOARD_DEV_KEY: devKey, SWITCHBOARD_SUPERVISION: JSON.stringify(supervision) });

  const attach = (m: Managed, p: ChildProcess | Worker, pid: number) => {
    const peer = peerOf(p);
    m.startedAt = Date.now();
    p.on('message', (message: unknown) => {
      const other = hub.receive(peer, message);
      if (other?.sb === 'listening') m.listening?.(other.url);
    });
    p.once('exit', (code: number | null, signal: string | null) => {
      hub.detach(peer);
      m.process = undefined;
      m.worker = undefined;
      if (stopping) return;
      if (!started) return failStart(new Error(`${m.name} exited during start-up (code ${code ?? signal}); its log is above`));
      const ranMs = Date.now() - m.startedAt;
      m.restartMs = ranMs > STEADY_MS ? RESTART_MIN_MS : Math.min(RESTART_MAX_MS, m.restartMs * 2);
      logger.error({ process: m.name, pid, code, signal }, `${m.name} exited; starting it again in ${m.restartMs} ms`);
      setTimeout(() => !stopping && launch(m), m.restartMs).unref();
    });
  };

  const launch = (m: Managed) => {
    const env = { ...process.env, ...m.env() };
    if (m.kind === 'router') {
      const w = cluster.fork(env);
      m.worker = w;
      attach(m, w, w.process.pid!);
    } else {
      const p = fork(entry, [m.kind], { env, execArgv: process.execArgv });
      m.process = p;
      attach(m, p, p.pid!);
    }
  };

  const start = (kind: Kind, name: string, env: () => Record<string, string>): Promise<string> => {
    const m: Managed = { kind, name, env, process: undefined, worker: undefined, startedAt: 0, restartMs: RESTART_MIN_MS, listening: undefined };
    managed.push(m);
    const url = new Promise<string>((resolve) => (m.listening = resolve));
    launch(m);
    return Promise.race([url, startFailed]);
  };

  try {
    return await startAll();
  } catch (err) {
    stopping = true;
    for (const m of managed) (m.worker?.process ?? m.process)?.kill('SIGKILL');
    throw err;
  }

  async function startAll(): Promise<Supervisor> {
    let simulatorUrl = config.simulatorUrl;
    const bundled = config.providers.length === 0 && simulatorUrl === undefined;
    if (bundled) {
      simulatorUrl = await start('simulator', 'provider simulator', () => ({ SIMULATOR_HOST: '127.0.0.1' }));
      logger.info({ simulator: simulatorUrl }, `no providers configured: routing to the bundled provider simulator at ${simulatorUrl}`);
    }
    const sim: Record<string, string> = simulatorUrl ? { SIMULATOR_URL: simulatorUrl } : {};

    // The first start of the data process hands the routers the spend ClickHouse holds; a restarted one must
    // not (the routers' own figures since then would count twice).
    let dataStarts = 0;
    const dataUrl = await start('data', 'data process', () => ({
      ...base({ worker: 0, dataUrl: undefined, seedSpend: dataStarts++ === 0 && config.kafkaBrokers === undefined, demo: bundled && config.demo.mode === 'auto' }),
      ...sim,
      HOST: '127.0.0.1',
      PORT: '0',
    }));

    cluster.setupPrimary({ exec: entry, args: ['router'], execArgv: process.execArgv });
    const urls = await Promise.all(
      Array.from({ length: config.routerWorkers }, (_, worker) =>
        start('router', `router ${worker}`, () => ({ ...base({ worker, dataUrl, seedSpend: false, demo: false }), ...sim })),
      ),
    );
    const url = urls[0];
    started = true;
    hub.publish('service', [['url', url]]);
    if (config.devKey === undefined) logger.info(`development API key (valid until this process stops): ${devKey}`);
    logger.info(
      { url, routers: config.routerWorkers, data: dataUrl },
      `switchboard listening on ${url} (OpenAI base URL ${url}/v1): ${config.routerWorkers} router process(es) and a data process`,
    );

    const exited = (p: ChildProcess | Worker | undefined) =>
      new Promise<void>((resolve) => {
        const child = p && ('process' in p ? p.process : p);
        if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
      });
    const stopAll = async (kind: Kind) => {
      const running = managed.filter((m) => m.kind === kind).map((m) => m.worker ?? m.process);
      for (const p of running) if (p && peerOf(p).connected) p.send({ sb: 'stop' } satisfies HubMessage);
      await Promise.all(running.map(exited));
    };
    return {
      url,
      close: async () => {
        stopping = true;
        // Routers first: they drain and finish their logs; then the data process reads those to the end.
        await stopAll('router');
        await stopAll('data');
        await stopAll('simulator');
      },
    };
  }
}
