/**
 * Start a worker thread whose entry is a TypeScript module. A tiny bootstrap registers tsx in the
 * thread (as bin/celeriac.js does for the process) and then loads the module; `workerData` is
 * passed through as is.
 */
import { type ResourceLimits, Worker } from 'node:worker_threads';

export function startTypeScriptWorker(entry: URL, workerData: unknown, resourceLimits?: ResourceLimits): Worker {
  const bootstrap = `import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))})
    .then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData, ...(resourceLimits ? { resourceLimits } : {}) });
}
