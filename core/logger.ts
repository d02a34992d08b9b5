import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Lines go to stdout with a synchronous write each: nothing waits in a buffer, so a process whose output
 * pipe was closed (a terminal or log collector gone) still stops. With pino's buffered default, the flush at
 * exit retries a write that fails with EPIPE forever (sonic-boom 4), and the process spins instead of exiting.
 */
export function createLogger(level: string, name = 'switchboard'): Logger {
  return pino({ name, level, base: { pid: process.pid } }, pino.destination({ dest: 1, sync: true }));
}
