// Entry point: `npm start` (every role, embedded) or `node … <role>`.
import { ConfigError, loadConfig } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { startService, startSimulatorRole } from './server.ts';
import { isHubMessage } from './supervisor/hub.ts';
import { runSupervisor } from './supervisor/supervisor.ts';

/** What a stop may take after the drain: cut streams' last chunks, the telemetry flush, engines closing. */
const FLUSH_LIMIT_MS = 30_000;

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env, process.argv.slice(2));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`switchboard: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  // `npm start` (no role) runs the supervisor, which starts this same entry point once per process it keeps.
  const supervised = process.send !== undefined && (config.supervision !== undefined || config.role === 'simulator');
  const starting: Promise<{ close(): Promise<void> }> =
    config.role === 'simulator' ? startSimulatorRole(config, logger) : config.role === 'all' ? runSupervisor(config, logger) : startService(config, { logger });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining requests and flushing telemetry');
    // The drain, the cut streams' last chunks, then the telemetry flush: past all that, exit regardless.
    // The supervisor's stop is its routers' and then its data process's.
    const limitMs = (config.shutdownDrainMs + FLUSH_LIMIT_MS) * (config.role === 'all' ? 2 : 1);
    const force = setTimeout(() => {
      logger.error(`shutdown took longer than ${limitMs / 1000} s; exiting`);
      process.exit(1);
    }, limitMs);
    force.unref();
    // A stop during the start waits for it: a process half started has nothing to hand back yet.
    starting
      .then((service) => service.close())
      .then(
        () => process.exit(0),
        (err) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  if (supervised) {
    // Ctrl-C, `timeout` and systemd signal the whole process group: the supervisor alone orders the stop
    // (routers, then data, then the simulator). Should the supervisor itself die, its processes stop too.
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.on(signal, () => undefined);
    process.on('message', (m: unknown) => isHubMessage(m) && m.sb === 'stop' && stop('stop from the supervisor'));
    process.on('disconnect', () => stop('supervisor gone'));
  } else {
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  }
  await starting;
}

main().catch((err) => {
  process.stderr.write(`switchboard: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
