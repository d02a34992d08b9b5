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

export interface Supervisor {
  url: string;
  close(): Promise<void>;
}

/** One process the supervisor keeps running: started again when it dies, until the supervisor stops. */
class Kept {
  private current: { child: ChildProcess; worker: Worker | undefined; peer: HubPeer; listened: boolean } | undefined;
  private startedAt = 0;
  private restartMs = RESTART_MIN_MS;
  private stopping = false;
  private readonly listeners: ((url: string) => void)[] = [];

  constructor(
    readonly kind: Kind,
    readonly name: string,
    private readonly env: () => Record<string, string>,
    private readonly owner: { hub: Hub; logger: Logger; entry: string; onEarlyExit: (why: string) => boolean },
  ) {}

  /** Resolves with the URL the first launch listens on. */
  launch(): Promise<string> {
    const url = new Promise<string>((resolve) => this.listeners.push(resolve));
    this.spawn();
    return url;
  }

  /** Asks it to stop (once it has started: before that it would not hear) and waits for its exit. */
  stop(): Promise<void> {
    this.stopping = true;
    const c = this.current;
    if (!c || c.child.exitCode !== null || c.child.signalCode !== null) return Promise.resolve();
    const exited = new Promise<void>((resolve) => c.child.once('exit', () => resolve()));
    if (c.listened) this.order(c.peer);
    return exited;
  }

  kill(): void {
    this.stopping = true;
    this.current?.child.kill('SIGKILL');
  }

  private order(peer: HubPeer): void {
    if (peer.connected) peer.send({ sb: 'stop' });
  }

  private spawn(): void {
    const { hub, logger, entry } = this.owner;
    const env = { ...process.env, ...this.env() };
    const worker = this.kind === 'router' ? cluster.fork(env) : undefined;
    const child = worker ? worker.process : fork(entry, [this.kind], { env, execArgv: process.execArgv });
    const peer: HubPeer = {
      send: (m: HubMessage) => (worker ?? child).send(m),
      get connected() {
        return worker ? worker.isConnected() : child.connected;
      },
    };
    const current = { child, worker, peer, listened: false };
    this.current = current;
    this.startedAt = Date.now();
    (worker ?? child).on('message', (message: unknown) => {
      if (hub.receive(peer, message)?.sb !== 'listening') return;
      current.listened = true;
      if (this.stopping) return this.order(peer);
      for (const l of this.listeners.splice(0)) l((message as { url: string }).url);
    });
    child.once('exit', (code, signal) => {
      hub.detach(peer);
      if (this.stopping) return;
      const why = `${this.name} exited (${signal ?? `code ${code}`})`;
      if (this.owner.onEarlyExit(why)) return;
      this.restartMs = Date.now() - this.startedAt > STEADY_MS ? RESTART_MIN_MS : Math.min(RESTART_MAX_MS, this.restartMs * 2);
      logger.error({ process: this.name, pid: child.pid, code, signal }, `${why}; starting it again in ${this.restartMs} ms`);
      setTimeout(() => !this.stopping && this.spawn(), this.restartMs).unref();
    });
  }
}

export async function runSupervisor(config: Config, logger: Logger): Promise<Supervisor> {
  const entry = process.argv[1];
  const hub = new Hub();
  const devKey = config.devKey ?? newKeySecret();
  const kept: Kept[] = [];
  // Until every process has listened once, a death is a failed start (a port taken, a bad setting), not a
  // crash to recover from.
  let started = false;
  let failStart: (err: Error) => void = () => undefined;
  const startFailed = new Promise<never>((_, reject) => (failStart = reject));
  startFailed.catch(() => undefined);
  const owner = {
    hub,
    logger,
    entry,
    onEarlyExit: (why: string) => {
      if (started) return false;
      failStart(new Error(`${why} during start-up; its log is above`));
      return true;
    },
  };
  const start = (kind: Kind, name: string, env: () => Record<string, string>): Promise<string> => {
    const k = new Kept(kind, name, env, owner);
    kept.push(k);
    return Promise.race([k.launch(), startFailed]);
  };
  const supervised = (s: Supervision): Record<string, string> => ({ SWITCHBOARD_DEV_KEY: devKey, SWITCHBOARD_SUPERVISION: JSON.stringify(s) });

  try {
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
      ...supervised({ worker: 0, dataUrl: undefined, seedSpend: dataStarts++ === 0 && config.kafkaBrokers === undefined, demo: bundled && config.demo.mode === 'auto' }),
      ...sim,
      HOST: '127.0.0.1',
      PORT: '0',
    }));

    cluster.setupPrimary({ exec: entry, args: ['router'], execArgv: process.execArgv });
    const urls = await Promise.all(
      Array.from({ length: config.routerWorkers }, (_, worker) =>
        start('router', `router ${worker}`, () => ({ ...supervised({ worker, dataUrl, seedSpend: false, demo: false }), ...sim })),
      ),
    );
    const url = urls[0];
    started = true;
    hub.publish('service', [['url', url]]);
    if (config.devKey === undefined) logger.info(`development API key (valid until this process stops): ${devKey}`);
    logger.info(
      { url, routers: config.routerWorkers, data: dataUrl },
      `switchboard listening on ${url} (base URL ${url}/api/v1 for OpenRouter clients, ${url}/v1 for OpenAI clients): ${config.routerWorkers} router process(es) and a data process`,
    );
    const stopAll = (kind: Kind) => Promise.all(kept.filter((k) => k.kind === kind).map((k) => k.stop()));
    return {
      url,
      close: async () => {
        // Routers first: they drain and finish their logs; then the data process reads those to the end.
        await stopAll('router');
        await stopAll('data');
        await stopAll('simulator');
      },
    };
  } catch (err) {
    for (const k of kept) k.kill();
    throw err;
  }
}
