/**
 * A fixed-size pool of worker threads, one job at a time per worker, jobs beyond the idle workers
 * waiting in order. The server runs recognition here (recognize-worker.ts: each worker has its own
 * tfjs engine), because tfjs' wasm backend computes on one thread only in Node: one engine serves
 * one request at a time, however many cores the machine has.
 *
 * A worker that dies (an uncaught error, a crash, terminate()) fails only the job it was running
 * and is replaced; a worker that keeps dying before it is ready stops the pool with its reason.
 *
 * Protocol: a worker posts `{ ready: true }` once it can take jobs, then answers each
 * `{ id, job }` with `{ id, value }`; failures of a job are the worker's to describe inside `value`.
 */
import { Worker, type Transferable } from 'node:worker_threads';

export interface WorkerPoolOptions {
  /** Worker threads (at least 1). */
  size: number;
  /** The worker's module; a .ts module (run from source under tsx) is started through tsx. */
  script: URL;
  workerData?: unknown;
  /** Told when a worker dies and is replaced (for the server's log). */
  onWorkerExit?: (slot: number, reason: string) => void;
}

/** A job's worker stopped while running it, or the pool was closed or could not start. */
export class WorkerStoppedError extends Error {}

interface Pending<R> {
  id: number;
  job: unknown;
  transfer: Transferable[];
  resolve: (value: R) => void;
  reject: (err: Error) => void;
}

interface Slot<R> {
  index: number;
  worker: Worker;
  ready: boolean;
  running: Pending<R> | null;
}

/** Consecutive deaths before `ready` after which the pool gives up (a worker that cannot start). */
const MAX_START_FAILURES = 3;

export class WorkerPool<J, R> {
  private readonly slots: Slot<R>[] = [];
  private readonly queue: Pending<R>[] = [];
  private nextId = 1;
  private closed = false;
  private broken: Error | null = null;
  private startFailures = 0;
  private readyWaiters: (() => void)[] = [];
  /** Jobs each worker slot has finished (the slot keeps its count across a replacement). */
  readonly served: number[];

  constructor(private readonly opts: WorkerPoolOptions) {
    if (!Number.isInteger(opts.size) || opts.size < 1) throw new RangeError(`a worker pool needs at least one worker, got ${opts.size}`);
    this.served = new Array<number>(opts.size).fill(0);
    for (let i = 0; i < opts.size; i++) this.slots.push(this.spawn(i));
  }

  get size(): number {
    return this.opts.size;
  }

  /** Jobs running now. */
  get busy(): number {
    return this.slots.filter((s) => s.running).length;
  }

  /** Jobs waiting for a free worker. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Resolves once every worker has started (or the pool has stopped). */
  ready(): Promise<void> {
    if (this.broken || this.closed || this.slots.every((s) => s.ready)) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Runs one job on the next free worker; `transfer` lists buffers to move rather than copy. */
  run(job: J, transfer: Transferable[] = []): Promise<R> {
    if (this.closed) return Promise.reject(new WorkerStoppedError('the worker pool is closed'));
    if (this.broken) return Promise.reject(this.broken);
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ id: this.nextId++, job, transfer, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every worker; jobs still waiting or running fail. */
  async close(): Promise<void> {
    this.closed = true;
    this.failQueue(new WorkerStoppedError('the worker pool is closed'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
    this.notifyReady();
  }

  private spawn(index: number): Slot<R> {
    const worker = startWorker(this.opts.script, this.opts.workerData);
    const slot: Slot<R> = { index, worker, ready: false, running: null };
    let lastError: Error | null = null;
    worker.on('message', (msg: { ready?: true; id?: number; value?: R }) => {
      if (msg.ready) {
        slot.ready = true;
        this.startFailures = 0;
        if (this.slots.every((s) => s.ready)) this.notifyReady();
        return this.dispatch();
      }
      const job = slot.running;
      if (!job || msg.id !== job.id) return;
      slot.running = null;
      this.served[index]!++;
      job.resolve(msg.value as R);
      this.dispatch();
    });
    worker.on('error', (err) => {
      lastError = err;
    });
    worker.on('exit', (code) => {
      if (this.closed) return slot.running?.reject(new WorkerStoppedError('the worker pool is closed'));
      const reason = lastError ? lastError.message : `exit code ${code}`;
      slot.running?.reject(new WorkerStoppedError(`the recognition worker stopped while on this request (${reason}); it has been replaced`));
      slot.running = null;
      if (!slot.ready && ++this.startFailures >= MAX_START_FAILURES) {
        this.broken = new WorkerStoppedError(`the recognition workers cannot start: ${reason}`);
        this.failQueue(this.broken);
        this.notifyReady();
        return;
      }
      this.opts.onWorkerExit?.(index, reason);
      this.slots[index] = this.spawn(index);
    });
    return slot;
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (!slot.ready || slot.running) continue;
      const job = this.queue.shift()!;
      slot.running = job;
      slot.worker.postMessage({ id: job.id, job: job.job }, job.transfer);
    }
  }

  private failQueue(err: Error): void {
    for (const job of this.queue.splice(0)) job.reject(err);
  }

  private notifyReady(): void {
    for (const resolve of this.readyWaiters.splice(0)) resolve();
  }
}

/**
 * Compiled, the worker is a .js module next to this one. Run from source (tests, `npm run bench`
 * under tsx), it is a .ts module, which a worker thread cannot load by itself: tsx's --import
 * hook does not reach worker threads, so the worker registers tsx first.
 */
function startWorker(script: URL, workerData: unknown): Worker {
  if (!script.pathname.endsWith('.ts')) return new Worker(script, { workerData });
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(script.href)}); })`;
  return new Worker(boot, { eval: true, workerData });
}
