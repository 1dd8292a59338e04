import type { Command } from 'commander';
import type { WorkerOptions } from '../../queue/worker.js';
import { action } from '../run-action.js';
import { importOptional } from '../../util/optional-package.js';
import { addHelpFooter } from '../help.js';
import { backendOption, intOption, queueNameOption, redisOption } from '../options.js';
import { INFERENCE_DEFAULTS } from '../../config/inference.js';

/** What the flags parse to: the worker's options, --until-empty absent when not given. */
type WorkerCliOptions = Omit<WorkerOptions, 'untilEmpty'> & { untilEmpty?: boolean };

export function registerWorker(program: Command): void {
  const cmd = program
    .command('worker')
    .description("take video jobs from the queue (visemo queue add) and write each result under --out, keyed by the video's content and the model")
    .addOption(redisOption())
    .addOption(queueNameOption())
    .requiredOption(
      '-o, --out <root>',
      'results root: ROOT/<sha256 of the video>/<model key>/result.json (and job.json); share it between machines or merge the folders later',
    )
    .option(
      '--concurrency <n>',
      'jobs this worker runs at once, each in a child process of its own (about one core each)',
      intOption('--concurrency', 1, 64),
      1,
    )
    .addOption(backendOption(INFERENCE_DEFAULTS.backend, "compute backend, as predict's: 'auto' takes the fastest available (native oneDNN, else wasm)"))
    .option('--batch <n>', 'video frames whose faces go through the model together', intOption('--batch', 1), 16)
    .option(
      '--lock-duration <ms>',
      'a job whose worker stops renewing its lock this long counts as stalled (killed worker) and is retried',
      intOption('--lock-duration', 1000),
      30000,
    )
    .option('--stalled-interval <ms>', 'how often this worker looks for stalled jobs', intOption('--stalled-interval', 500), 30000)
    .option('--max-stalled <n>', 'times a job may stall and be retried before it fails', intOption('--max-stalled', 0), 1)
    .option('--until-empty', 'stop once no job is waiting, delayed or active (batch runs); otherwise run until SIGINT/SIGTERM');
  addHelpFooter(cmd, {
    note:
      'Jobs run in child processes, so the worker renews their locks in Redis however busy the CPU is. One line per job\n' +
      'on stderr. SIGINT or SIGTERM stop taking jobs and wait for the active ones; a worker killed outright loses\n' +
      'nothing: its children stop too, and its jobs are retried by the other workers after --lock-duration.',
    exit: 'Exit status: 0 after a clean stop, 2 on a usage error or when Redis cannot be reached as the worker starts (refused, no answer within 5 s, no such database), 1 on an unexpected failure.',
    examples: ['visemo worker --redis redis://10.0.0.5:6379 --out /mnt/results', 'visemo worker --concurrency 2 --out results --until-empty'],
  }).action(
    action(async (o: WorkerCliOptions) => {
      // Loaded here: BullMQ, an optional package, is needed by this command only.
      const { runWorker, workerSummaryLine } = await importOptional('bullmq', () => import('../../queue/worker.js'));
      const summary = await runWorker({
        redis: o.redis,
        queue: o.queue,
        out: o.out,
        concurrency: o.concurrency,
        backend: o.backend,
        batch: o.batch,
        lockDuration: o.lockDuration,
        stalledInterval: o.stalledInterval,
        maxStalled: o.maxStalled,
        untilEmpty: o.untilEmpty === true,
        log: (line) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`),
      });
      process.stderr.write(`${workerSummaryLine(summary)}\n`);
    }),
  );
}
