import type { Command } from 'commander';
import path from 'node:path';
import { BUNDLED_MODELS, DEFAULT_MODEL } from '../../model/run-folder.js';
// The queue modules load BullMQ: imported when a queue command runs, not for every visemo command.
import type { QueueStatus } from '../../queue/queue-client.js';
import type { AnalysisSettings } from '../../queue/job.js';
import { redactRedisUrl } from '../../queue/redis-url.js';
import { pct } from '../../util/table.js';
import { action } from '../run-action.js';
import { importOptional } from '../../util/optional-package.js';
import { addHelpFooter } from '../help.js';
import { addVideoAnalysisOptions, intOption, queueNameOption, redisOption, type VideoAnalysisCliOptions } from '../options.js';

interface AddCliOptions extends VideoAnalysisCliOptions {
  redis: string;
  queue: string;
  attempts: number;
  backoff: number;
  json?: boolean;
}

/** The settings a job carries: a run folder as an absolute path, the default model by its name. */
function settingsFrom(o: VideoAnalysisCliOptions): AnalysisSettings {
  const model = o.model === undefined ? DEFAULT_MODEL : BUNDLED_MODELS[o.model] ? o.model : path.resolve(o.model);
  return { model, fps: o.fps, detector: o.detector, minFaceScore: o.minFaceScore, margin: o.margin ?? null, tta: o.tta === true };
}

export function registerQueue(program: Command): void {
  const queue = program.command('queue').description('a job queue (BullMQ on Redis) for video corpora: add videos, see how far the workers are');
  addHelpFooter(queue, {
    note: 'Start workers with `visemo worker`, on as many machines as you like, against the same Redis.',
    examples: ['visemo queue add videos/ --redis redis://queue-host:6379', 'visemo queue status --redis redis://queue-host:6379'],
  });

  const add = queue
    .command('add')
    .description('enqueue one job per video (files, or folders searched recursively); its result is what `visemo predict VIDEO --format json` prints')
    .argument('<videos...>', 'video files and folders of videos')
    .addOption(redisOption())
    .addOption(queueNameOption());
  addVideoAnalysisOptions(add)
    .option('--attempts <n>', 'tries per video before its job is kept as failed', intOption('--attempts', 1, 100), 3)
    .option('--backoff <ms>', 'wait before the first retry, doubled for each next one', intOption('--backoff', 0), 5000)
    .option('--json', 'print what was added as JSON');
  addHelpFooter(add, {
    note:
      'Videos are named by absolute path: every worker must see them at that path (shared storage). Adding a video\n' +
      'again with the same size, modification time and options adds nothing; results are keyed by content, so a copy\n' +
      'of a finished video completes at once. Long videos are one job each (they are not cut into segments).',
    exit: 'Exit status: 0 when every input was queued (or was already), 1 when some were skipped (named on stderr), 2 on a usage error or when Redis cannot be reached.',
    examples: ['visemo queue add corpus/ --redis redis://10.0.0.5:6379', 'visemo queue add a.mp4 b.mp4 --model runs/ck50 --fps 2 --attempts 5'],
  }).action(
    action(async (inputs: string[], o: AddCliOptions) => {
      const { addVideoJobs } = await importOptional('bullmq', () => import('../../queue/queue-client.js'));
      const r = await addVideoJobs(inputs, { redis: o.redis, queue: o.queue, settings: settingsFrom(o), attempts: o.attempts, backoffMs: o.backoff });
      for (const p of r.problems) process.stderr.write(`visemo: skipped ${p.path}: ${p.reason}\n`);
      if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else {
        process.stdout.write(
          `queued ${r.added.length} video${r.added.length === 1 ? '' : 's'} on ${o.queue} at ${redactRedisUrl(o.redis)}` +
            `${r.alreadyQueued.length ? `; ${r.alreadyQueued.length} already queued` : ''}${r.problems.length ? `; ${r.problems.length} skipped` : ''}\n` +
            (r.added.length ? `next: visemo worker --redis ${redactRedisUrl(o.redis)} --out RESULTS   (and visemo queue status)\n` : ''),
        );
      }
      return r.problems.length > 0 ? 1 : 0;
    }),
  );

  const status = queue
    .command('status')
    .description('jobs waiting, active, completed and failed; throughput of the latest finished jobs; recent failures')
    .addOption(redisOption())
    .addOption(queueNameOption())
    .option('--json', 'print the status as JSON');
  addHelpFooter(status, {
    examples: ['visemo queue status --redis redis://10.0.0.5:6379', 'visemo queue status --json'],
  }).action(
    action(async (o: { redis: string; queue: string; json?: boolean }) => {
      const { queueStatus } = await importOptional('bullmq', () => import('../../queue/queue-client.js'));
      const s = await queueStatus(o);
      process.stdout.write(o.json ? `${JSON.stringify(s, null, 2)}\n` : formatStatus(s));
    }),
  );
}

export function formatStatus(s: QueueStatus): string {
  const c = s.counts;
  const total = c.waiting + c.active + c.completed + c.failed + c.delayed;
  const lines = [
    `queue ${s.queue} on ${s.redis}: ${s.workers} worker${s.workers === 1 ? '' : 's'} connected`,
    `waiting ${c.waiting}  active ${c.active}  completed ${c.completed}  failed ${c.failed}  delayed (retry back-off) ${c.delayed}` +
      (total > 0 ? `  (${pct((c.completed + c.failed) / total, 0)} finished)` : ''),
  ];
  const t = s.throughput;
  if (t) {
    lines.push(
      `throughput ${t.videosPerMinute.toFixed(1)} videos/min, ${t.framesPerSecond.toFixed(1)} frames/s over the latest ${t.jobs} completed` +
        ` (${t.stored} already stored; ${t.seconds.toFixed(1)} s from first start to last finish; ${t.secondsPerVideo.toFixed(1)} s per computed video in a worker)`,
    );
  }
  if (s.failed.length > 0) {
    lines.push('failed (latest first):');
    for (const f of s.failed)
      lines.push(`  ${f.reason.startsWith(f.file) ? f.reason : `${f.file}: ${f.reason}`} (${f.attempts} attempt${f.attempts === 1 ? '' : 's'})`);
  }
  return `${lines.join('\n')}\n`;
}
