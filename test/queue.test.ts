/**
 * End to end: a real redis-server on a free loopback port, 8 small videos made with ffmpeg from
 * CK+ faces (one of them corrupt), `visemo queue add`, two `visemo worker` processes, one of them
 * killed with SIGKILL in the middle of a job. Every good video must end with exactly one result,
 * equal to `visemo predict`'s on the same file; the corrupt one must be a failed job naming it;
 * nothing may be left active in Redis.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promises as fs, readdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Queue, type Job } from 'bullmq';
import { CKPLUS, hasDatasets, hasFfmpeg, testModel, REPO } from './predict-helpers.js';
import type { PredictReport } from '../src/inference/predict.js';
import type { VideoJobData, VideoJobResult } from '../src/queue/job.js';
import type { QueueStatus } from '../src/queue/queue-client.js';
import { hashFileHex } from '../src/util/hash.js';
import { JOB_FILE, RESULT_FILE } from '../src/queue/result-store.js';
import { freePort } from '../src/util/free-port.js';

const run = promisify(execFile);
const CLI = ['--import', 'tsx', path.join(REPO, 'src/cli/main.ts')];
const hasRedis = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
const skipReason = !hasRedis
  ? 'redis-server is not installed (apt-get install redis-server; scripts/setup.sh does it)'
  : !hasFfmpeg
    ? 'ffmpeg is not installed'
    : !hasDatasets
      ? 'the shared datasets (../shared/datasets/ckplus48) are not there'
      : '';

const QUEUE = 'visemo-test';
const FPS = '2';
// The tiny detector and 2 frames a clip keep the test short; the queue does not care which options predict gets, only that they are the same.
const ANALYSIS = ['--fps', FPS, '--detector', 'tiny'];
// Short locks so a killed worker's job comes back within seconds; --max-stalled leaves room for a
// lock that a busy machine's event loop renews late (that job is run again and finds its result).
const WORKER_OPTS = ['--queue', QUEUE, '--lock-duration', '8000', '--stalled-interval', '2000', '--max-stalled', '3'];

/** True once the server answers PING. */
async function redisAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.setTimeout(1000, () => (s.destroy(), resolve(false)));
    s.on('error', () => resolve(false));
    s.on('connect', () => s.write('PING\r\n'));
    s.on('data', (d) => (s.destroy(), resolve(d.toString().startsWith('+PONG'))));
  });
}

/** The job processes (BullMQ children) still alive of the worker process `pid`, by the settings in their environment. */
async function jobProcessesOf(pid: number): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await fs.readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const env = await fs.readFile(`/proc/${entry}/environ`, 'utf8').catch(() => '');
    if (env.includes('VISEMO_WORKER_SANDBOX=') && env.includes(`:${pid}"`)) found.push(Number(entry));
  }
  return found;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | false>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** A 320x240 clip, 0.8 s at 25 fps (frames at 0 and 0.5 s sampled), of one face on a plain background. */
async function makeVideo(face: string, file: string, x: number): Promise<void> {
  await run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-loop',
    '1',
    '-i',
    face,
    '-t',
    '0.8',
    '-r',
    '25',
    '-vf',
    `scale=180:180,pad=320:240:${x}:30:color=0x5a6e82,format=yuv420p`,
    '-c:v',
    'libx264',
    '-preset',
    'ultrafast',
    file,
  ]);
}

interface Spawned {
  child: ChildProcess;
  stderr: () => string;
  exit: Promise<number | null>;
}

function startWorker(redis: string, out: string): Spawned {
  const child = spawn(process.execPath, [...CLI, 'worker', '--redis', redis, '--out', out, ...WORKER_OPTS], {
    cwd: REPO,
    env: { ...process.env, VISEMO_PROGRESS: '0' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, stderr: () => err, exit };
}

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const rel = e.name;
    out.push(rel);
    if (e.isDirectory()) out.push(...(await listTree(path.join(dir, e.name))).map((f) => path.join(rel, f)));
  }
  return out.sort();
}

test("queue: 8 videos, two workers, one killed mid-job: one result per good video equal to predict's, the corrupt one failed, nothing stuck", {
  timeout: 900_000,
}, async (t) => {
  if (skipReason) {
    t.skip(skipReason);
    return;
  }
  const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'visemo-queue-'));
  const port = await freePort();
  const redisUrl = `redis://127.0.0.1:${port}`;
  const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp], { stdio: 'ignore' });
  const workers: Spawned[] = [];
  let queue: Queue | undefined;
  t.after(async () => {
    for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
    await queue?.close();
    redis.kill('SIGTERM');
    await fs.rm(tmp, { recursive: true, force: true });
  });
  await until('redis-server to answer', 20_000, () => redisAnswers(port));

  const model = (await testModel()).dir;
  const videos = path.join(tmp, 'videos');
  await fs.mkdir(videos);
  const classes = ['happiness', 'surprise', 'anger', 'sadness', 'disgust', 'fear', 'happiness'];
  const good: string[] = [];
  for (const [i, cls] of classes.entries()) {
    const faces = readdirSync(path.join(CKPLUS, cls)).sort();
    const file = path.join(videos, `clip${i + 1}-${cls}.mp4`);
    await makeVideo(path.join(CKPLUS, cls, faces[(i * 5) % faces.length]!), file, 20 + 15 * i);
    good.push(file);
  }
  // The corrupt one: the first 2 kB of a good clip, then garbage. Queued last.
  const corrupt = path.join(videos, 'clip8-corrupt.mp4');
  await fs.writeFile(corrupt, Buffer.concat([(await fs.readFile(good[0]!)).subarray(0, 2048), Buffer.alloc(4096, 0x5a)]));
  const all = [...good, corrupt];

  const added = await run(
    process.execPath,
    [...CLI, 'queue', 'add', ...all, '--redis', redisUrl, '--queue', QUEUE, '--model', model, ...ANALYSIS, '--attempts', '2', '--backoff', '200', '--json'],
    { cwd: REPO },
  );
  assert.equal((JSON.parse(added.stdout) as { added: string[] }).added.length, 8);

  const out = path.join(tmp, 'results');
  const killed = startWorker(redisUrl, out);
  const survivor = startWorker(redisUrl, out);
  workers.push(killed, survivor);

  // Kill the first worker a moment into its first job on a good video (its lock is held in Redis).
  const startLine = await until(
    'the first worker to start a job',
    300_000,
    async () => killed.stderr().match(/start {2}(\S+) \(job (\S+), attempt/) ?? undefined,
  );
  const [, killedFile, killedJobId] = startLine;
  assert.notEqual(killedFile, corrupt, 'the corrupt clip is queued last');
  await new Promise((r) => setTimeout(r, 1000));
  assert.doesNotMatch(killed.stderr(), /done {3}/, 'still in its first job');
  killed.child.kill('SIGKILL');
  assert.equal(await killed.exit, null, 'killed by the signal');
  // Its job process ends too, instead of spinning on its closed channel (BullMQ's child did, at 100 % of a core).
  await until("the killed worker's job process to end", 20_000, async () => (await jobProcessesOf(killed.child.pid!)).length === 0);

  queue = new Queue(QUEUE, { connection: { host: '127.0.0.1', port } });
  const counts = await until('every job to finish', 600_000, async () => {
    const c = await queue.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized');
    return c.completed! + c.failed! === 8 && c.active === 0 ? c : undefined;
  });
  assert.deepEqual(
    [counts.waiting, counts.prioritized, counts.delayed, counts.active, counts.completed, counts.failed],
    [0, 0, 0, 0, 7, 1],
    JSON.stringify(counts),
  );

  // The job the killed worker held was taken back (stalled) and finished by the other worker.
  const taken = (await queue.getJob(killedJobId!)) as Job<VideoJobData, VideoJobResult>;
  assert.equal(await taken.getState(), 'completed');
  assert.ok(taken.stalledCounter >= 1, `the killed worker's job stalled and was retried (stalledCounter ${taken.stalledCounter})`);
  assert.notEqual(taken.returnvalue.worker.split(':')[1], String(killed.child.pid));
  assert.match(survivor.stderr(), /stalled job/);

  // The corrupt clip: a failed job whose reason names the file, after its 2 attempts.
  const [failed] = (await queue.getFailed()) as Job<VideoJobData, VideoJobResult>[];
  assert.equal(failed!.data.file, corrupt);
  assert.ok(failed!.failedReason.includes(corrupt), failed!.failedReason);
  assert.match(failed!.failedReason, /not a readable video/);
  assert.equal(failed!.attemptsMade, 2);

  const status = JSON.parse(
    (await run(process.execPath, [...CLI, 'queue', 'status', '--redis', redisUrl, '--queue', QUEUE, '--json'], { cwd: REPO })).stdout,
  ) as QueueStatus;
  assert.deepEqual(status.counts, { waiting: 0, active: 0, completed: 7, failed: 1, delayed: 0 });
  assert.equal(status.throughput?.jobs, 7);
  assert.ok(status.throughput.videosPerMinute > 0 && status.throughput.framesPerSecond > 0);
  assert.equal(status.failed.length, 1);
  assert.ok(status.failed[0]!.reason.includes(corrupt));

  // Adding the same files again adds nothing; a copy of a finished clip completes from its stored result.
  const again = JSON.parse(
    (
      await run(process.execPath, [...CLI, 'queue', 'add', ...good, '--redis', redisUrl, '--queue', QUEUE, '--model', model, ...ANALYSIS, '--json'], {
        cwd: REPO,
      })
    ).stdout,
  ) as { added: string[]; alreadyQueued: string[] };
  assert.deepEqual([again.added.length, again.alreadyQueued.length], [0, 7]);
  const copy = path.join(videos, 'copy-of-clip1.mp4');
  await fs.copyFile(good[0]!, copy);
  await run(process.execPath, [...CLI, 'queue', 'add', copy, '--redis', redisUrl, '--queue', QUEUE, '--model', model, ...ANALYSIS], { cwd: REPO });
  const copyJob = await until('the copy to complete', 120_000, async () => {
    const [j] = (await queue.getCompleted(0, 0)) as Job<VideoJobData, VideoJobResult>[];
    return j?.data.file === copy ? j : undefined;
  });
  assert.equal(copyJob.returnvalue.stored, true, 'found stored, not computed');

  survivor.child.kill('SIGTERM');
  assert.equal(await survivor.exit, 0, survivor.stderr());
  assert.match(survivor.stderr(), /worker stopped: \d+ videos completed/);
  assert.equal(await queue.getActiveCount(), 0, 'no job left active in Redis');

  // Exactly one result per good clip (the copy shares clip 1's), nothing half-written.
  const shas = await Promise.all(good.map((f) => hashFileHex(f)));
  assert.deepEqual((await fs.readdir(out)).sort(), [...new Set(shas)].sort(), 'one folder per distinct good clip, none for the corrupt one');
  const tree = await listTree(out);
  assert.equal(tree.filter((p) => path.basename(p).startsWith('.')).length, 0, `no temporary folders: ${tree.join(', ')}`);
  const predict = await run(process.execPath, [...CLI, 'predict', ...good, '--model', model, ...ANALYSIS, '--format', 'json'], {
    cwd: REPO,
    maxBuffer: 64 << 20,
  });
  const expected = JSON.parse(predict.stdout) as PredictReport;
  let faces = 0;
  for (const [i, file] of good.entries()) {
    const keys = await fs.readdir(path.join(out, shas[i]!));
    assert.equal(keys.length, 1, `one result for ${file}`);
    const dir = path.join(out, shas[i]!, keys[0]!);
    assert.deepEqual((await fs.readdir(dir)).sort(), [JOB_FILE, RESULT_FILE].sort());
    const stored = JSON.parse(await fs.readFile(path.join(dir, RESULT_FILE), 'utf8')) as PredictReport;
    const mine = expected.results.find((r) => r.file === file);
    assert.ok(mine && mine.kind === 'video', `predict read ${file}`);
    // Everything but the wall-clock timing of the analysis, which no two runs share.
    const untimed = (r: PredictReport['results'][number]) => (r.kind === 'video' ? { ...r, timing: undefined } : r);
    assert.deepEqual(stored.results.map(untimed), [untimed(mine)], `the stored result of ${file} is predict's`);
    assert.deepEqual(stored.model, expected.model);
    faces += stored.stats.faces;
  }
  assert.ok(faces > 0, 'faces were found (the comparison is not of empty timelines)');

  // Killed once idle, the other worker leaves no job process behind either.
  survivor.child.kill('SIGKILL');
  await survivor.exit;
  await until("the surviving worker's job process to end", 20_000, async () => (await jobProcessesOf(survivor.child.pid!)).length === 0);
});
