/**
 * `visemo worker`: a BullMQ Worker that takes video jobs and runs each through processVideoJob in
 * a child process (sandbox.ts), so this process stays free to renew the jobs' locks.
 * BullMQ holds a lock on each active job, renewed while the worker lives; when a worker dies
 * (kill -9, a crash, a lost machine) the lock runs out after lockDuration and another worker's
 * stalled-job check (every stalledInterval) puts the job back in the queue, up to maxStalled
 * times. SIGINT/SIGTERM stop taking jobs and let the active ones finish.
 */
import { Queue, Worker } from 'bullmq';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { BackendChoice } from '../engine/backend.js';
import { firstLine } from '../util/errors.js';
import type { VideoJobData, VideoJobResult } from './job.js';
import { workerName } from './process-job.js';
import { SANDBOX_CONFIG_ENV, type SandboxConfig } from './sandbox-config.js';
import { checkRedis, connectionOptions } from './redis.js';
import { redactRedisUrl } from './redis-url.js';

export interface WorkerOptions {
  redis: string;
  queue: string;
  /** The output root: ROOT/<sha256>/<model key>/. */
  out: string;
  concurrency: number;
  backend: BackendChoice;
  batch: number;
  /** Milliseconds a job stays locked without renewal before it counts as stalled. */
  lockDuration: number;
  /** Milliseconds between this worker's checks for stalled jobs. */
  stalledInterval: number;
  /** Times a job may stall (its worker dying) and be retried before it fails. */
  maxStalled: number;
  /** Stop once no job is waiting, delayed or active anywhere (batch runs, benchmarks). */
  untilEmpty: boolean;
  /** One line per event (stderr in the CLI). */
  log: (line: string) => void;
}

/** `name`.ts beside this file when run from source (tsx, which the children inherit), .js when built. */
function besideThis(name: string): string {
  const here = fileURLToPath(import.meta.url);
  return path.join(path.dirname(here), `${name}${path.extname(here)}`);
}

export interface WorkerSummary {
  computed: number;
  /** Jobs whose result was stored already: completed without work. */
  stored: number;
  /** Failed attempts (a job failing for good fails its last attempt). */
  failedAttempts: number;
  frames: number;
  seconds: number;
}

/** The BullMQ worker, not yet running: each job in a child process (sandbox.ts) with this run's settings. */
function createWorker(o: WorkerOptions, config: SandboxConfig): Worker<VideoJobData, VideoJobResult> {
  return new Worker<VideoJobData, VideoJobResult>(o.queue, besideThis('sandbox'), {
    connection: connectionOptions(o.redis, { failFast: false }),
    concurrency: o.concurrency,
    lockDuration: o.lockDuration,
    stalledInterval: o.stalledInterval,
    maxStalledCount: o.maxStalled,
    name: `visemo@${workerName()}`, // Redis client names take no spaces
    autorun: false,
    // Children get this process's node options (so tsx when run from source), the guard that ends them when this process is gone, and the settings.
    workerForkOptions: {
      execArgv: [...process.execArgv, '--import', pathToFileURL(besideThis('sandbox-guard')).href],
      env: { ...process.env, [SANDBOX_CONFIG_ENV]: JSON.stringify(config) },
    },
  });
}

/** One log line per job event, counted into `summary`; a Redis error is logged once until another one comes. */
function reportEvents(worker: Worker<VideoJobData, VideoJobResult>, log: (line: string) => void, summary: WorkerSummary): void {
  worker.on('active', (job) => {
    const stalled = job.stalledCounter ? `, after ${job.stalledCounter} stalled run${job.stalledCounter > 1 ? 's' : ''}` : '';
    log(`start  ${job.data.file} (job ${job.id}, attempt ${job.attemptsMade + 1}/${job.opts.attempts ?? 1}${stalled})`);
  });
  worker.on('completed', (_job, r) => {
    if (r.stored) summary.stored++;
    else {
      summary.computed++;
      summary.frames += r.frames;
    }
    log(
      r.stored
        ? `stored ${r.file}: result already in ${r.resultDir}`
        : `done   ${r.file}: ${r.frames} frames, ${r.faces} faces in ${r.seconds.toFixed(1)} s -> ${r.resultDir}`,
    );
  });
  worker.on('failed', (job, err) => {
    summary.failedAttempts++;
    if (!job) return log(`failed: ${firstLine(err)}`);
    const attempts = job.opts.attempts ?? 1;
    const final = job.attemptsMade >= attempts || job.finishedOn !== undefined;
    log(`failed ${job.data.file} (attempt ${job.attemptsMade}/${attempts}${final ? ', gives up' : ', will retry'}): ${firstLine(err)}`);
  });
  worker.on('stalled', (jobId) => log(`stalled job ${jobId}: its worker stopped renewing the lock; back in the queue`));
  let lastError = '';
  worker.on('error', (err) => {
    const line = firstLine(err);
    if (line !== lastError) log(`redis: ${line}`);
    lastError = line;
  });
}

/** Stopping, once: the worker takes no more jobs and its close resolves when the active ones finish. */
interface Stopper {
  stop(why: string): Promise<void>;
  stopping(): Promise<void> | null;
}

function stopper(worker: Worker, log: (line: string) => void): Stopper {
  let stopping: Promise<void> | null = null;
  return {
    stop(why) {
      if (stopping) return stopping;
      log(`stopping (${why}): finishing active jobs`);
      stopping = worker.close();
      return stopping;
    },
    stopping: () => stopping,
  };
}

/** SIGINT and SIGTERM stop the worker until the returned function is called. */
function stopOnSignals(stopper: Stopper): () => void {
  const onSignal = (signal: NodeJS.Signals) => void stopper.stop(signal);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** With untilEmpty: checks the queue's counts every second and stops once nothing is left; resolves to its release. */
function stopWhenEmpty(o: WorkerOptions, stopper: Stopper): () => Promise<void> {
  const counter = new Queue(o.queue, { connection: connectionOptions(o.redis, { failFast: false }) });
  let checking = false;
  const idleCheck = setInterval(() => {
    if (checking || stopper.stopping()) return;
    checking = true;
    counter
      .getJobCounts('waiting', 'prioritized', 'paused', 'delayed', 'active')
      .then((c) => {
        if (Object.values(c).every((n) => n === 0)) void stopper.stop('the queue is empty');
      })
      .catch(() => {})
      .finally(() => (checking = false));
  }, 1000);
  return async () => {
    clearInterval(idleCheck);
    await counter.close();
  };
}

/** Runs until SIGINT/SIGTERM (or, with untilEmpty, until the queue is empty); resolves with what it did. */
export async function runWorker(o: WorkerOptions): Promise<WorkerSummary> {
  const start = performance.now();
  const out = path.resolve(o.out);
  const summary: WorkerSummary = { computed: 0, stored: 0, failedAttempts: 0, frames: 0, seconds: 0 };
  // Once, before anything starts: a server that refuses, never answers or lacks the database is a
  // clear error (exit 2) within seconds. Afterwards the worker rides out a Redis restart.
  await checkRedis(o.redis, o.queue);

  const worker = createWorker(o, { out, backend: o.backend, batch: o.batch, worker: workerName() });
  reportEvents(worker, o.log, summary);
  const stop = stopper(worker, o.log);
  const releaseSignals = stopOnSignals(stop);
  let releaseCounter: (() => Promise<void>) | undefined;
  try {
    // Redis answered the check above; should it go away meanwhile, connection errors are logged once each and retried.
    await worker.waitUntilReady();
    o.log(`worker ${workerName()}: queue ${o.queue} on ${redactRedisUrl(o.redis)}, concurrency ${o.concurrency}, results in ${out}`);
    if (o.untilEmpty) releaseCounter = stopWhenEmpty(o, stop);
    await worker.run();
    await stop.stopping();
  } finally {
    await releaseCounter?.();
    releaseSignals();
    // Closed already when it stopped; closed here when starting it failed.
    await worker.close();
  }
  summary.seconds = (performance.now() - start) / 1000;
  return summary;
}

export function workerSummaryLine(s: WorkerSummary): string {
  const videos = s.computed + s.stored;
  const rate = s.seconds > 0 ? (60 * videos) / s.seconds : 0;
  return `worker stopped: ${videos} video${videos === 1 ? '' : 's'} completed (${s.computed} computed, ${s.stored} already stored), ${s.failedAttempts} failed attempt${s.failedAttempts === 1 ? '' : 's'}, ${s.frames} frames in ${s.seconds.toFixed(1)} s: ${rate.toFixed(1)} videos/min`;
}
