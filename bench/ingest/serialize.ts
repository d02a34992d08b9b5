// Event serialization: JSON.stringify against the compiled serializer used on the wire, in one run.
// Usage: npx tsx bench/ingest/serialize.ts
import { deepStrictEqual } from 'node:assert';
import { decodeEvent, encodeEvent } from '../../telemetry/event.ts';
import { eventPair } from './events.ts';

const events = Array.from({ length: 100_000 }, (_, i) => eventPair(i, Date.now())).flat();
for (const e of events.slice(0, 1000)) {
  const d = decodeEvent(encodeEvent(e));
  if (!d.ok) throw new Error(d.reason);
  deepStrictEqual(d.event, e); // same event back, whatever the key order
}
const time = (f: (e: (typeof events)[number]) => string) => {
  let n = 0;
  const t = performance.now();
  for (const e of events) n += f(e).length;
  if (n === 0) throw new Error('empty');
  return ((performance.now() - t) * 1000) / events.length;
};
time(JSON.stringify);
time(encodeEvent); // warm both
const plain = time(JSON.stringify);
const compiled = time(encodeEvent);
console.log(`serialize ${new Date().toISOString()}  JSON.stringify ${plain.toFixed(2)} µs/event, compiled ${compiled.toFixed(2)} µs/event, ratio ${(plain / compiled).toFixed(2)}`);
