import { randomBytes, randomUUID } from 'node:crypto';

// Random characters drawn in blocks: one system call and one base64url encoding per 455 ids instead of
// one of each per id (encoding 9 bytes per call was a visible part of a request's cost). 9 bytes are
// 12 base64url characters exactly, so each id's slice of the block is its own 72 random bits.
const BLOCK_BYTES = 4095;
let pool = '';
let offset = 0;

function random12(): string {
  if (offset + 12 > pool.length) {
    pool = randomBytes(BLOCK_BYTES).toString('base64url');
    offset = 0;
  }
  const s = pool.slice(offset, offset + 12);
  offset += 12;
  return s;
}

/** Generation ids are public handles (`gen-…`), unguessable, sortable by time for humans reading logs. */
export function generationId(now = Date.now()): string {
  return `gen-${now.toString(36)}-${random12()}`;
}

export const eventId = (): string => randomUUID();
