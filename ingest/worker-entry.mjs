// Worker bootstrap: a worker thread does not inherit the TypeScript loader, so it registers tsx itself.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
