// Where the project's own files are, whether this code runs as TypeScript from the tree or compiled into
// dist/: the project root is the nearest folder above with a package.json.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

function findRoot(from: string): string {
  let dir = from;
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) return from;
    dir = up;
  }
  return dir;
}

export const PROJECT_ROOT = findRoot(import.meta.dirname);

/** True when this code runs compiled (dist/…/*.js) rather than as TypeScript through a loader. */
export const COMPILED = import.meta.url.endsWith('.js');
