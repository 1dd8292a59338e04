/** `import { addVideoJobs, runWorker } from 'visemo/queue'`: the job queue for video corpora (BullMQ on Redis; needs `npm install bullmq`). */
export { addVideoJobs, queueStatus } from './queue/queue-client.js';
export type { AddOptions, AddReport, QueueStatus, JobCounts, Throughput, FailedJob } from './queue/queue-client.js';
export { runWorker, workerSummaryLine } from './queue/worker.js';
export type { WorkerOptions, WorkerSummary } from './queue/worker.js';
