// Worker threads do not inherit the parent's TypeScript loader (Node 20): register it here, then load the worker proper.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
