/**
 * The job processor BullMQ runs in a child process of `visemo worker` (a "sandboxed processor"),
 * one child per concurrent job, kept between jobs so the model loads once. Face detection and the
 * model keep a process's event loop busy for seconds at a time: here that blocks only the child,
 * while the worker process keeps renewing the job's lock in Redis. Were the analysis in the worker
 * process itself, a busy machine would let locks run out and live jobs be taken for stalled ones.
 */
import type { SandboxedJob } from 'bullmq';
import { PredictAnalyser } from './analyser.js';
import { VIDEO_JOB, type VideoJobData, type VideoJobResult } from './job.js';
import { processVideoJob } from './process-job.js';
import { SANDBOX_CONFIG_ENV, type SandboxConfig } from './sandbox-config.js';

let analyser: PredictAnalyser | undefined;

export default async function processSandboxedJob(job: SandboxedJob<VideoJobData, VideoJobResult>): Promise<VideoJobResult> {
  const config = JSON.parse(process.env[SANDBOX_CONFIG_ENV] ?? 'null') as SandboxConfig | null;
  if (job.name !== VIDEO_JOB) throw new Error(`unknown job type '${job.name}'`);
  if (!config) throw new Error(`${SANDBOX_CONFIG_ENV} is not set: this file is run by visemo worker`);
  analyser ??= new PredictAnalyser({ backend: config.backend, batch: config.batch });
  return processVideoJob(job.data, config.out, analyser, config.worker);
}
