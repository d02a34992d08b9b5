// The router-side cost of emit() alone, with a baseline in the same run: building the same events
// without emitting them. The difference is what a request pays for telemetry.
import { MemoryBus } from '../../telemetry/bus.ts';
import { eventPair } from './events.ts';

export function emitCost(n: number): { buildUs: number; buildAndEmitUs: number; emitUs: number } {
  const bus = new MemoryBus(n * 2 + 10);
  const now = Date.now();
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink += eventPair(i, now).length;
  const t1 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) for (const e of eventPair(i, now)) bus.emit(e);
  const t2 = process.hrtime.bigint();
  if (sink === 0 || bus.depth === 0) throw new Error('nothing built');
  const buildUs = Number(t1 - t0) / 1000 / (2 * n);
  const buildAndEmitUs = Number(t2 - t1) / 1000 / (2 * n);
  return { buildUs, buildAndEmitUs, emitUs: buildAndEmitUs - buildUs };
}
