/**
 * `npm run bench -- queue`: throughput of `visemo worker` with 1 and 2 worker processes on the same
 * videos, in one run, through a real redis-server on a free loopback port. Each configuration gets
 * its own queue and results folder, so nothing is found already stored; `visemo predict` over the
 * same clips in one process is the reference without the queue. The clips are CK+ faces
 * made into videos with ffmpeg (as test/queue.test.ts makes them). Timed: from starting the worker
 * processes to the last one exiting (--until-empty), model loading included, and the queue's own
 * figure from the first job's start to the last job's end.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { existsSync, promises as fs, readdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { addVideoJobs, queueStatus } from '../src/queue/queue-client.js';
import { DEFAULT_MODEL } from '../src/model/run-folder.js';
import { writeJsonAtomic } from '../src/util/atomic.js';
import { freePort } from '../src/util/free-port.js';

const run = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CKPLUS = path.resolve(REPO, '../shared/datasets/ckplus48');
const CLASSES = ['anger', 'disgust', 'fear', 'happiness', 'sadness', 'surprise'];

export interface QueueBenchOptions {
  videos: number;
  clipSeconds: number;
  fps: number;
  workers: number[];
  backend: string;
  out: string;
}

interface QueueBenchRow {
  run: string;
  /** Worker processes (0: the predict reference). */
  workers: number;
  videos: number;
  frames: number;
  wallSeconds: number;
  videosPerMinute: number;
  framesPerSecond: number;
  /** The queue's span: first job started to last job finished. */
  queueSeconds: number;
  queueVideosPerMinute: number;
}

async function waitForRedis(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => resolve(false));
      s.on('connect', () => s.write('PING\r\n'));
      s.on('data', (d) => (s.destroy(), resolve(d.toString().startsWith('+PONG'))));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`redis-server on port ${port} did not answer`);
}

function missing(): string | null {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) return 'redis-server is not installed (bash scripts/setup.sh installs it)';
  if (spawnSync('ffmpeg', ['-version'], { stdio: 'ignore' }).status !== 0) return 'ffmpeg is not installed';
  if (!existsSync(CKPLUS)) return `the CK+ faces are not at ${CKPLUS}`;
  return null;
}

/** The clips: one CK+ face per clip, classes in turn, padded into 320×240 at a different place each. */
async function makeClips(o: QueueBenchOptions, tmp: string): Promise<string[]> {
  const videos: string[] = [];
  for (let i = 0; i < o.videos; i++) {
    const cls = CLASSES[i % CLASSES.length]!;
    const faces = readdirSync(path.join(CKPLUS, cls)).sort();
    const file = path.join(tmp, `clip${i + 1}.mp4`);
    await run('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-loop',
      '1',
      '-i',
      path.join(CKPLUS, cls, faces[(i * 7) % faces.length]!),
      '-t',
      String(o.clipSeconds),
      '-r',
      '25',
      '-vf',
      `scale=180:180,pad=320:240:${20 + 10 * (i % 10)}:30:color=0x5a6e82,format=yuv420p`,
      '-c:v',
      'libx264',
      '-preset',
      'ultrafast',
      file,
    ]);
    videos.push(file);
  }
  return videos;
}

function startRedis(port: number, dir: string): ChildProcess {
  return spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
}

/** The reference: the same analysis without the queue, `visemo predict` over all clips in one process. */
async function timePredict(o: QueueBenchOptions, videos: string[]): Promise<QueueBenchRow> {
  const t0 = performance.now();
  const r = await run(
    process.execPath,
    ['--import', 'tsx', path.join(REPO, 'src/cli/main.ts'), 'predict', ...videos, '--fps', String(o.fps), '--backend', o.backend, '--format', 'json'],
    { cwd: REPO, maxBuffer: 256 << 20 },
  );
  const wallSeconds = (performance.now() - t0) / 1000;
  const frames = (JSON.parse(r.stdout) as { stats: { frames: number } }).stats.frames;
  return {
    run: 'predict, no queue',
    workers: 0,
    videos: o.videos,
    frames,
    wallSeconds,
    videosPerMinute: (60 * o.videos) / wallSeconds,
    framesPerSecond: frames / wallSeconds,
    queueSeconds: NaN,
    queueVideosPerMinute: NaN,
  };
}

/** One `visemo worker --until-empty` process; resolves with its exit code. */
function runWorker(redisUrl: string, queue: string, out: string, backend: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        path.join(REPO, 'src/cli/main.ts'),
        'worker',
        '--redis',
        redisUrl,
        '--queue',
        queue,
        '--out',
        out,
        '--backend',
        backend,
        '--until-empty',
      ],
      { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, VISEMO_PROGRESS: '0' } },
    );
    child.on('exit', (code) => resolve(code));
  });
}

/** `n` workers on a queue of their own holding every clip, timed from their start to the last exit. */
async function timeWorkers(o: QueueBenchOptions, videos: string[], n: number, redisUrl: string, tmp: string): Promise<QueueBenchRow> {
  const queue = `bench-${n}-workers`;
  const settings = { model: DEFAULT_MODEL, fps: o.fps, detector: 'ssd' as const, minFaceScore: 0.5, margin: null, tta: false };
  await addVideoJobs(videos, { redis: redisUrl, queue, settings, attempts: 1, backoffMs: 1000 });
  const out = path.join(tmp, `results-${n}`);
  const t0 = performance.now();
  const codes = await Promise.all(Array.from({ length: n }, () => runWorker(redisUrl, queue, out, o.backend)));
  const wallSeconds = (performance.now() - t0) / 1000;
  if (codes.some((c) => c !== 0)) throw new Error(`a worker exited with ${codes.join(', ')}`);
  const s = await queueStatus({ redis: redisUrl, queue });
  if (s.counts.completed !== o.videos) throw new Error(`${queue}: ${s.counts.completed} of ${o.videos} completed, ${s.counts.failed} failed`);
  const t = s.throughput!;
  return {
    run: `${n} worker${n === 1 ? '' : 's'}`,
    workers: n,
    videos: o.videos,
    frames: t.frames,
    wallSeconds,
    videosPerMinute: (60 * o.videos) / wallSeconds,
    framesPerSecond: t.frames / wallSeconds,
    queueSeconds: t.seconds,
    queueVideosPerMinute: t.videosPerMinute,
  };
}

/** The table (wall time set against the first worker count's), its legend, and the JSON rows. */
async function reportQueue(o: QueueBenchOptions, rows: QueueBenchRow[], loadAtStart: number[]): Promise<void> {
  const base = rows.find((r) => r.workers === o.workers[0])!;
  console.log(
    `\nrun                  videos  frames  wall s  videos/min  frames/s  queue span s  videos/min (span)  vs ${o.workers[0]} worker${o.workers[0] === 1 ? '' : 's'}`,
  );
  for (const r of rows) {
    const span = (x: number, width: number) => (Number.isNaN(x) ? '-' : x.toFixed(width === 12 ? 1 : 2)).padStart(width);
    console.log(
      `${r.run.padEnd(19)}  ${String(r.videos).padStart(6)}  ${String(r.frames).padStart(6)}  ${r.wallSeconds.toFixed(1).padStart(6)}  ${r.videosPerMinute.toFixed(2).padStart(10)}  ${r.framesPerSecond.toFixed(2).padStart(8)}  ${span(r.queueSeconds, 12)}  ${span(r.queueVideosPerMinute, 17)}  ${(base.wallSeconds / r.wallSeconds).toFixed(2)}x`,
    );
  }
  const loadAtEnd = os.loadavg();
  console.log(
    `\nwall: the processes started to the last exit (model loading included); span: first job started to last finished;\n"predict, no queue" is visemo predict over all clips in one process. Load average at the end ${loadAtEnd.map((x) => x.toFixed(1)).join(' ')}.`,
  );
  await writeJsonAtomic(o.out, {
    mode: 'queue',
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, loadAverage: { start: loadAtStart, end: loadAtEnd } },
    config: o,
    results: rows,
  });
  console.log(`written ${o.out}`);
}

export async function runQueueBench(o: QueueBenchOptions): Promise<void> {
  const why = missing();
  if (why) {
    console.log(`queue bench skipped: ${why}`);
    return;
  }
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'visemo-bench-queue-'));
  let redis: ChildProcess | undefined;
  try {
    const port = await freePort();
    const redisUrl = `redis://127.0.0.1:${port}`;
    redis = startRedis(port, tmp);
    const loadAtStart = os.loadavg();
    await waitForRedis(port);
    const videos = await makeClips(o, tmp);
    console.log(
      `${o.videos} clips of ${o.clipSeconds} s (320x240) sampled at ${o.fps} fps, model ${DEFAULT_MODEL}, backend ${o.backend}, ${os.cpus().length} cores, load average ${loadAtStart.map((x) => x.toFixed(1)).join(' ')}`,
    );
    const rows = [await timePredict(o, videos)];
    for (const n of o.workers) rows.push(await timeWorkers(o, videos, n, redisUrl, tmp));
    await reportQueue(o, rows, loadAtStart);
  } finally {
    redis?.kill('SIGTERM');
    await fs.rm(tmp, { recursive: true, force: true });
  }
}
