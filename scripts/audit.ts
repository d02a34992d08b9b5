// `npm run audit -- verify`: checks every organisation's audit chain in the database (CLICKHOUSE_URL, else
// the embedded one under DATA_DIR — run it while the service is stopped, or ask the running service with
// GET /api/v1/audit/verify) against the chain heads kept apart in DATA_DIR/audit-heads.json. Exit code 0
// when every event is intact, 1 when any was altered or removed (each named), 2 for a usage error.
import { resolve } from 'node:path';
import { AuditHeadFile, auditHeadsPath } from '../governance/audit-heads.ts';
import { verifyChains } from '../governance/audit-chain.ts';
import { closeClickHouse, openClickHouse } from '../store/clickhouse.ts';
import { chainEvents } from '../store/governance-queries.ts';

const [command, ...rest] = process.argv.slice(2);
if (command !== 'verify' || rest.length > 0) {
  process.stderr.write(`${command && command !== 'verify' ? `audit: unknown command ${command}\n` : ''}usage: npm run audit -- verify\n`);
  process.exit(2);
}
const dataDir = resolve(process.env.DATA_DIR || './data');
const url = process.env.CLICKHOUSE_URL || undefined;
const ch = await openClickHouse({ url, dataDir });
try {
  const v = verifyChains(await chainEvents(ch, ''), new AuditHeadFile(auditHeadsPath(dataDir)).read());
  for (const p of v.problems) process.stdout.write(`TAMPERED ${p}\n`);
  process.stdout.write(`${v.ok ? 'intact' : 'NOT intact'}: ${v.events} events of ${v.organizations} organisations checked, ${v.problems.length} problems\n`);
  process.exitCode = v.ok ? 0 : 1;
} finally {
  await closeClickHouse(ch, url === undefined);
}
