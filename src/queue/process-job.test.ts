import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../../test/helpers.js';
import { TRACKING_DEFAULTS } from '../config/tracking.js';
import type { InputResult, PredictReport } from '../inference/predict.js';
import { formatReport } from '../inference/predict-format.js';
import { hashFileHex } from '../util/hash.js';
import { videoJobId, type AnalysisSettings } from './job.js';
import { processVideoJob, type Analyser } from './process-job.js';
import { parseRedisUrl, redactRedisUrl } from './redis-url.js';
import { JOB_FILE, RESULT_FILE, type JobRecord } from './result-store.js';
import { throughputOf } from './queue-client.js';

const SETTINGS: AnalysisSettings = { model: 'visemo7', fps: 2, detector: 'ssd', minFaceScore: 0.5, margin: null, tta: false };

/** An analyser that answers like predict on a video, or with predict's error for `bad`, counting its calls. */
function fakeAnalyser(opts: { bad?: string; delayMs?: number } = {}): Analyser & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    modelKey: async (s) => `fake-${s.fps}`,
    predict: async (file) => {
      calls.push(file);
      await new Promise((r) => setTimeout(r, opts.delayMs ?? 0));
      const scores = { happiness: 0.8, sadness: 0.2 };
      const face = {
        box: { x: 1, y: 2, width: 30, height: 30 },
        faceScore: 0.9,
        emotion: 'happiness',
        confidence: 0.8,
        scores,
        track: 1,
        source: 'detect' as const,
        smoothed: scores,
        label: 'happiness',
        labelConfidence: 0.8,
      };
      const timing = { decodeMs: 1, detectMs: 1, trackMs: 1, classifyMs: 1, annotateMs: 0, totalMs: 4, fps: 500, detectedFrames: 1 };
      const result: InputResult =
        file === opts.bad
          ? { kind: 'error', file, reason: 'not a readable video (ffprobe cannot read it)' }
          : {
              kind: 'video',
              file,
              width: 64,
              height: 48,
              videoFps: 25,
              sampledFps: 2,
              classes: ['happiness', 'sadness'],
              detector: 'blazeface',
              tracking: { ...TRACKING_DEFAULTS },
              timeline: [
                { time: 0, index: 0, faces: [face] },
                { time: 0.5, index: 12, faces: [] },
              ],
              tracks: [],
              summary: { frames: 2, framesWithFaces: 1, shares: { happiness: 1, sadness: 0 }, dominant: 'happiness' },
              timing,
            };
      const report: PredictReport = {
        model: {
          name: 'fake',
          dir: '/models/fake',
          classes: ['happiness', 'sadness'],
          inputSize: 48,
          faceCut: { method: 'box', margin: 0.1 },
          runtime: 'tfjs',
          backend: 'wasm',
          runtimeLabel: 'tfjs wasm',
        },
        results: [result],
        stats: {
          images: 0,
          videos: 1,
          frames: 2,
          faces: 1,
          failed: result.kind === 'error' ? 1 : 0,
          seconds: 0.1,
          facesPerSecond: 10,
          modelFacesPerSecond: 100,
        },
      };
      return report;
    },
  };
}

async function listTree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    out.push(path.relative(dir, p));
    if (e.isDirectory()) out.push(...(await listTree(p)).map((f) => path.join(e.name, f)));
  }
  return out.sort();
}

test("a job stores predict's JSON under ROOT/<sha256>/<model key>; run again, it completes from the stored result", async () => {
  const dir = tempDir();
  const video = path.join(dir, 'a.mp4');
  await fs.writeFile(video, 'pretend video bytes');
  const root = path.join(dir, 'out');
  const analyser = fakeAnalyser();

  const first = await processVideoJob({ file: video, settings: SETTINGS }, root, analyser);
  const sha = await hashFileHex(video);
  assert.equal(first.sha256, sha);
  assert.equal(first.resultDir, path.join(root, sha, 'fake-2'));
  assert.equal(first.stored, false);
  assert.deepEqual([first.frames, first.faces], [2, 1]);
  const expected = formatReport(await fakeAnalyser().predict(video, SETTINGS), 'json');
  assert.equal(await fs.readFile(path.join(first.resultDir, RESULT_FILE), 'utf8'), expected, 'result.json is what predict --format json prints');
  const record = JSON.parse(await fs.readFile(path.join(first.resultDir, JOB_FILE), 'utf8')) as JobRecord;
  assert.deepEqual([record.file, record.sha256, record.modelKey, record.frames, record.backend], [video, sha, 'fake-2', 2, 'wasm']);
  assert.deepEqual([first.model, first.backend], ['fake', 'wasm'], "the job's result names the model and the backend that ran");

  const again = await processVideoJob({ file: video, settings: SETTINGS }, root, analyser);
  assert.equal(again.stored, true);
  assert.equal(again.resultDir, first.resultDir);
  assert.equal(analyser.calls.length, 1, 'a stored result is not computed again');

  // Other settings (another model key) are another result beside the first.
  await processVideoJob({ file: video, settings: { ...SETTINGS, fps: 5 } }, root, analyser);
  assert.deepEqual(await fs.readdir(path.join(root, sha)), ['fake-2', 'fake-5'].sort());
});

test('copies of one video racing in two jobs leave exactly one result and no temporary folder', async () => {
  const dir = tempDir();
  const a = path.join(dir, 'a.mp4');
  const b = path.join(dir, 'copy-of-a.mp4');
  await fs.writeFile(a, 'same bytes');
  await fs.copyFile(a, b);
  const root = path.join(dir, 'out');
  const analyser = fakeAnalyser({ delayMs: 50 });
  const results = await Promise.all([a, b, a].map((file) => processVideoJob({ file, settings: SETTINGS }, root, analyser)));
  assert.equal(analyser.calls.length, 3, 'all three computed at once (none had finished)');
  assert.equal(results.filter((r) => !r.stored).length, 1, 'one stored its result, the others found it there');
  assert.equal(new Set(results.map((r) => r.resultDir)).size, 1);
  const sha = await hashFileHex(a);
  assert.deepEqual(await listTree(root), [sha, path.join(sha, 'fake-2'), path.join(sha, 'fake-2', JOB_FILE), path.join(sha, 'fake-2', RESULT_FILE)].sort());
});

test('a video predict cannot read fails the job with a reason naming the file, and stores nothing', async () => {
  const dir = tempDir();
  const bad = path.join(dir, 'broken.mp4');
  await fs.writeFile(bad, 'garbage');
  const root = path.join(dir, 'out');
  await assert.rejects(
    processVideoJob({ file: bad, settings: SETTINGS }, root, fakeAnalyser({ bad })),
    (err: Error) => err.message === `${bad}: not a readable video (ffprobe cannot read it)`,
  );
  await assert.rejects(processVideoJob({ file: path.join(dir, 'gone.mp4'), settings: SETTINGS }, root, fakeAnalyser()), (err: Error) =>
    err.message.startsWith(`${path.join(dir, 'gone.mp4')}: cannot read it`),
  );
  assert.equal(await fs.readdir(root).catch(() => 'absent'), 'absent');
});

test('job ids change with the file, its size, time and the settings; nothing else', () => {
  const id = videoJobId('/v/a.mp4', 10, 1000, SETTINGS);
  assert.equal(videoJobId('/v/a.mp4', 10, 1000, { ...SETTINGS }), id);
  assert.match(id, /^video-[0-9a-f]{32}$/);
  for (const other of [
    videoJobId('/v/b.mp4', 10, 1000, SETTINGS),
    videoJobId('/v/a.mp4', 11, 1000, SETTINGS),
    videoJobId('/v/a.mp4', 10, 2000, SETTINGS),
    videoJobId('/v/a.mp4', 10, 1000, { ...SETTINGS, tta: true }),
  ]) {
    assert.notEqual(other, id);
  }
});

test('redis URLs: parsed with defaults, refused with a reason, shown without the password', () => {
  assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6390'), { host: '127.0.0.1', port: 6390, db: 0, tls: false });
  assert.deepEqual(parseRedisUrl('rediss://u:p%40ss@queue.example/3'), {
    host: 'queue.example',
    port: 6379,
    username: 'u',
    password: 'p@ss',
    db: 3,
    tls: true,
  });
  assert.throws(() => parseRedisUrl('localhost:6379'), /not a redis:\/\/ or rediss:\/\/ URL|not a URL/);
  assert.throws(() => parseRedisUrl('http://host'), /not a redis:\/\/ or rediss:\/\/ URL/);
  assert.throws(() => parseRedisUrl('redis://host/x'), /database number/);
  assert.equal(redactRedisUrl('redis://u:secret@host:6379/1'), 'redis://u:***@host:6379/1');
});

test('throughput counts every finished job over the span from the first start to the last finish', () => {
  const job = (processedOn: number, finishedOn: number, frames: number, stored = false) => ({
    processedOn,
    finishedOn,
    returnvalue: { frames, stored, seconds: (finishedOn - processedOn) / 1000 } as never,
  });
  const t = throughputOf([job(0, 10_000, 50), job(5_000, 20_000, 70), job(20_000, 20_010, 0, true)])!;
  assert.deepEqual([t.jobs, t.stored, t.frames, t.seconds], [3, 1, 120, 20.01]);
  assert.ok(Math.abs(t.videosPerMinute - (60 * 3) / 20.01) < 1e-9);
  assert.ok(Math.abs(t.framesPerSecond - 120 / 20.01) < 1e-9);
  assert.equal(t.secondsPerVideo, 12.5);
  assert.equal(throughputOf([]), null);
});
