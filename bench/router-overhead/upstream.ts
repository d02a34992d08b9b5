// The zero-delay upstream of the benchmark, as its own process: prints its URL, runs until killed.
import { loadCatalog } from '../../catalog/catalog.ts';
import { startSimulator } from '../../dev/simulator/server.ts';

const sim = await startSimulator({ catalog: loadCatalog(), latencyScale: 0 });
process.stdout.write(`UPSTREAM ${sim.url}\n`);
process.on('SIGTERM', () => sim.close().then(() => process.exit(0)));
