// Entry of an embedding worker thread: registers tsx's TypeScript loader, then loads the thread's
// code. (Node 20 applies `--import` hooks too late for a worker's own entry file, so a TypeScript
// entry cannot be the Worker's first module.)
import { register } from 'tsx/esm/api';

register();
await import('./embed-thread.ts');
