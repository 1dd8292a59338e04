/**
 * Runs prepare units on worker threads, one detector per thread: the wasm backend runs
 * single-threaded in Node, so two workers keep both cores busy (ffmpeg decodes beside them).
 */
import { Worker } from 'node:worker_threads';
import type { ProcessOptions, UnitResult, UnitTask } from './process-unit.js';

function startWorker(data: unknown): Worker {
  const url = new URL(`./unit-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
  if (url.pathname.endsWith('.js')) return new Worker(url, { workerData: data });
  // Running from TypeScript sources (tests, tsx): Node 20 workers do not inherit tsx's loader hooks.
  const tsxApi = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsxApi)}).then((m) => { m.register(); return import(${JSON.stringify(url.href)}); })`;
  return new Worker(boot, { eval: true, workerData: data });
}

/** Processes every task on `workers` threads; `onResult` sees each result as it arrives. */
export async function runPool(
  tasks: UnitTask[],
  opts: ProcessOptions,
  outRoot: string,
  workers: number,
  onResult: (r: UnitResult) => Promise<void>,
): Promise<void> {
  if (tasks.length === 0) return;
  const queue = [...tasks];
  const count = Math.max(1, Math.min(workers, tasks.length));
  const threads: Worker[] = [];
  try {
    await Promise.all(
      Array.from({ length: count }, () => {
        const worker = startWorker({ opts, outRoot });
        threads.push(worker);
        return new Promise<void>((resolve, reject) => {
          const next = () => {
            const task = queue.shift();
            if (task) worker.postMessage(task);
            else resolve();
          };
          worker.on('message', (r: UnitResult) => onResult(r).then(next, reject));
          worker.on('error', reject);
          worker.on('exit', (code) => (queue.length > 0 || code !== 0 ? reject(new Error(`prepare worker stopped (exit ${code})`)) : resolve()));
          next();
        });
      }),
    );
  } finally {
    await Promise.all(threads.map((t) => t.terminate()));
  }
}
