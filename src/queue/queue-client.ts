/**
 * The producer and observer side: `visemo queue add` (one job per video) and `visemo queue status`
 * (counts, throughput over the latest finished jobs, recent failures, connected workers).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Job } from 'bullmq';
import { collectInputs, type InputProblem } from '../inference/inputs.js';
import { VIDEO_JOB, videoJobId, type AnalysisSettings, type VideoJobData, type VideoJobResult } from './job.js';
import { closeQuietly, openQueue, redisFailure } from './redis.js';
import { redactRedisUrl } from './redis-url.js';

export interface AddOptions {
  redis: string;
  queue: string;
  settings: AnalysisSettings;
  /** Tries per job before it is kept as failed (BullMQ's attempts). */
  attempts: number;
  /** Milliseconds before the first retry, doubled for each next one. */
  backoffMs: number;
}

export interface AddReport {
  queue: string;
  added: string[];
  /** Already in the queue (any state) with the same file, size, time and settings: not added again. */
  alreadyQueued: string[];
  problems: InputProblem[];
}

const BATCH = 500;

export async function addVideoJobs(inputs: string[], o: AddOptions): Promise<AddReport> {
  const { files, problems } = await collectInputs(inputs);
  const videos: { file: string; id: string }[] = [];
  for (const f of files) {
    if (f.kind !== 'video') {
      problems.push({ path: f.path, reason: 'not a video file (the queue takes videos; use visemo predict for images)' });
      continue;
    }
    const file = path.resolve(f.path);
    const stat = await fs.stat(file);
    videos.push({ file, id: videoJobId(file, stat.size, stat.mtimeMs, o.settings) });
  }
  const report: AddReport = { queue: o.queue, added: [], alreadyQueued: [], problems };
  if (videos.length === 0) return report;
  const queue = await openQueue(o.redis, o.queue);
  try {
    for (let i = 0; i < videos.length; i += BATCH) {
      const chunk = videos.slice(i, i + BATCH);
      const existing = await Promise.all(chunk.map((v) => queue.getJob(v.id)));
      const fresh = chunk.filter((_, k) => !existing[k]);
      for (const [k, v] of chunk.entries()) if (existing[k]) report.alreadyQueued.push(v.file);
      // A job id BullMQ already holds is ignored by add, so a second `queue add` racing this one adds nothing twice.
      await queue.addBulk(
        fresh.map((v) => ({
          name: VIDEO_JOB,
          data: { file: v.file, settings: o.settings } satisfies VideoJobData,
          opts: { jobId: v.id, attempts: o.attempts, backoff: { type: 'exponential', delay: o.backoffMs } },
        })),
      );
      report.added.push(...fresh.map((v) => v.file));
    }
  } catch (err) {
    throw redisFailure(o.redis, err);
  } finally {
    await closeQuietly(queue);
  }
  return report;
}

export interface JobCounts {
  waiting: number;
  active: number;
  completed: number;
  failed: number;
  delayed: number;
}

export interface Throughput {
  /** Finished jobs looked at (the latest, at most THROUGHPUT_WINDOW). */
  jobs: number;
  /** Of those, jobs whose result was stored already. */
  stored: number;
  frames: number;
  /** From the first one's start to the last one's end. */
  seconds: number;
  videosPerMinute: number;
  framesPerSecond: number;
  /** Mean seconds of one computed job in a worker. */
  secondsPerVideo: number;
}

export interface FailedJob {
  file: string;
  reason: string;
  attempts: number;
}

export interface QueueStatus {
  queue: string;
  redis: string;
  /** Worker processes connected now. */
  workers: number;
  counts: JobCounts;
  throughput: Throughput | null;
  /** The latest failed jobs (at most 20). */
  failed: FailedJob[];
}

export const THROUGHPUT_WINDOW = 1000;

export async function queueStatus(o: { redis: string; queue: string }): Promise<QueueStatus> {
  const queue = await openQueue(o.redis, o.queue);
  try {
    const c = await queue.getJobCounts('waiting', 'prioritized', 'active', 'completed', 'failed', 'delayed', 'paused');
    const counts: JobCounts = {
      waiting: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.paused ?? 0),
      active: c.active ?? 0,
      completed: c.completed ?? 0,
      failed: c.failed ?? 0,
      delayed: c.delayed ?? 0,
    };
    const completed = (await queue.getCompleted(0, THROUGHPUT_WINDOW - 1)) as Job<VideoJobData, VideoJobResult>[];
    const failed = (await queue.getFailed(0, 19)) as Job<VideoJobData, VideoJobResult>[];
    // One entry per Redis connection of a worker; each worker's connections carry its name (hostname:pid).
    const workers = new Set((await queue.getWorkers()).map((w) => w.rawname ?? w.name)).size;
    return {
      queue: o.queue,
      redis: redactRedisUrl(o.redis),
      workers,
      counts,
      throughput: throughputOf(completed),
      failed: failed.map((j) => ({ file: j.data.file, reason: j.failedReason ?? '', attempts: j.attemptsMade })),
    };
  } catch (err) {
    throw redisFailure(o.redis, err);
  } finally {
    await closeQuietly(queue);
  }
}

export function throughputOf(jobs: Pick<Job<VideoJobData, VideoJobResult>, 'processedOn' | 'finishedOn' | 'returnvalue'>[]): Throughput | null {
  const timed = jobs.filter((j) => j.processedOn != null && j.finishedOn != null && j.returnvalue);
  if (timed.length === 0) return null;
  const first = Math.min(...timed.map((j) => j.processedOn!));
  const last = Math.max(...timed.map((j) => j.finishedOn!));
  const seconds = Math.max((last - first) / 1000, 1e-3);
  const computed = timed.filter((j) => !j.returnvalue.stored);
  const frames = computed.reduce((n, j) => n + j.returnvalue.frames, 0);
  return {
    jobs: timed.length,
    stored: timed.length - computed.length,
    frames,
    seconds,
    videosPerMinute: (60 * timed.length) / seconds,
    framesPerSecond: frames / seconds,
    secondsPerVideo: computed.length ? computed.reduce((s, j) => s + j.returnvalue.seconds, 0) / computed.length : 0,
  };
}
