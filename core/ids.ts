import { randomBytes, randomUUID } from 'node:crypto';

/** Generation ids are public handles (`gen-…`), unguessable, sortable by time for humans reading logs. */
export function generationId(now = Date.now()): string {
  return `gen-${now.toString(36)}-${randomBytes(9).toString('base64url')}`;
}

export const eventId = (): string => randomUUID();
