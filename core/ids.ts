import { randomBytes, randomUUID } from 'node:crypto';

// Random bytes drawn in blocks: one system call per 455 ids instead of one per id.
let pool = randomBytes(4095);
let offset = 0;

function random9(): string {
  if (offset + 9 > pool.length) {
    pool = randomBytes(4095);
    offset = 0;
  }
  const s = pool.toString('base64url', offset, offset + 9);
  offset += 9;
  return s;
}

/** Generation ids are public handles (`gen-…`), unguessable, sortable by time for humans reading logs. */
export function generationId(now = Date.now()): string {
  return `gen-${now.toString(36)}-${random9()}`;
}

export const eventId = (): string => randomUUID();
