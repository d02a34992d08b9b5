// The head of each organisation's audit chain, kept apart from the database (DATA_DIR/audit-heads.json):
// without it, deleting the newest events of a chain would leave a shorter chain that still verifies.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ChainHead } from './audit-chain.ts';

/** Where the service keeps them. */
export const auditHeadsPath = (dataDir: string) => join(dataDir, 'audit-heads.json');

export class AuditHeadFile {
  constructor(readonly path: string) {}

  read(): Map<string, ChainHead> {
    try {
      return new Map(Object.entries(JSON.parse(readFileSync(this.path, 'utf8')) as Record<string, ChainHead>));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
      throw new Error(`cannot read the audit heads ${this.path}: ${(err as Error).message}`);
    }
  }

  write(heads: ReadonlyMap<string, ChainHead>): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(Object.fromEntries(heads), null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}
