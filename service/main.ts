// Entry point: `npm start` (every role, embedded) or `node … <role>`.
import { ConfigError, loadConfig } from '../core/config.ts';
import { createLogger } from '../core/logger.ts';
import { startService, startSimulatorRole } from './server.ts';

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
  const service = config.role === 'simulator' ? await startSimulatorRole(config, logger) : await startService(config, { logger });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining requests and flushing telemetry');
    // The drain, the cut streams' last chunks, then the telemetry flush: past all that, exit regardless.
    const limitMs = config.shutdownDrainMs + FLUSH_LIMIT_MS;
    const force = setTimeout(() => {
      logger.error(`shutdown took longer than ${limitMs / 1000} s; exiting`);
      process.exit(1);
    }, limitMs);
    force.unref();
    service.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`switchboard: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
