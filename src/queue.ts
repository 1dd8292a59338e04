/**
 * `import { addVideoJobs, runWorker } from 'visemo/queue'`: the job queue for video corpora (BullMQ
 * on Redis). bullmq is an optional package, so this entry loads without it and each function loads
 * the queue's modules when called: without bullmq, the call fails with a VisemoError naming
 * `npm install bullmq`, as `visemo queue` and `visemo worker` do.
 */
import type { AddOptions, AddReport, QueueStatus } from './queue/queue-client.js';
import type { WorkerOptions, WorkerSummary } from './queue/worker.js';
import { importOptional } from './util/optional-package.js';

export type { AddOptions, AddReport, QueueStatus, JobCounts, Throughput, FailedJob } from './queue/queue-client.js';
export type { WorkerOptions, WorkerSummary } from './queue/worker.js';

/** Adds a job per video (found in folders, recursively) to the queue; see `visemo queue add`. */
export async function addVideoJobs(inputs: string[], options: AddOptions): Promise<AddReport> {
  const client = await importOptional('bullmq', () => import('./queue/queue-client.js'));
  return client.addVideoJobs(inputs, options);
}

/** The queue's job counts, throughput and failures; see `visemo queue status`. */
export async function queueStatus(options: { redis: string; queue: string }): Promise<QueueStatus> {
  const client = await importOptional('bullmq', () => import('./queue/queue-client.js'));
  return client.queueStatus(options);
}

/** Runs a worker until it is stopped (or the queue is empty, with untilEmpty); see `visemo worker`. */
export async function runWorker(options: WorkerOptions): Promise<WorkerSummary> {
  const worker = await importOptional('bullmq', () => import('./queue/worker.js'));
  return worker.runWorker(options);
}
