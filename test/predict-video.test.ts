/**
 * End to end: a video made at run time from shared CK+ faces — two people crossing the frame,
 * one of them flickering between happiness and surprise — through `visemo predict` with
 * tracking, smoothing, outputs and an annotated MP4.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { CKPLUS, hasDatasets, hasFfmpeg, iou, REPO, testModel } from './predict-helpers.js';
import type { TrackedFrame } from '../src/inference/video-result.js';
import { labelFlips } from '../src/tracking/track-summary.js';

const run = promisify(execFile);
const skip = !hasDatasets ? 'the shared datasets (../shared/datasets/ckplus48) are not there' : !hasFfmpeg ? 'ffmpeg is not installed' : false;

const FPS = 10;
const FRAMES = 30;
const SIDE = 170;
/** Where each person's face is in frame i: A walks right along the top, B walks left lower down; their boxes overlap in the middle frames. */
const placeA = (i: number) => ({ left: 20 + Math.round((430 * i) / (FRAMES - 1)), top: 40 });
const placeB = (i: number) => ({ left: 450 - Math.round((430 * i) / (FRAMES - 1)), top: 150 });

describe('visemo predict on a video: tracks, smoothing, timeline files', { skip }, () => {
  let dir: string;
  let video: string;
  let modelDir: string;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'visemo-video-'));
    modelDir = (await testModel()).dir;
    const face = async (file: string) => sharp(path.join(CKPLUS, file)).resize(SIDE, SIDE).toColourspace('srgb').png().toBuffer();
    const a = await face('happiness/S010_006_00000015.png');
    const bHappy = await face('happiness/S011_006_00000013.png');
    const bSurprised = await face('surprise/S011_001_00000016.png');
    await fs.mkdir(path.join(dir, 'frames'));
    for (let i = 0; i < FRAMES; i++) {
      // B looks surprised in every third frame: a label that flickers unless smoothed.
      const b = i % 3 === 2 ? bSurprised : bHappy;
      await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 90, g: 110, b: 130 } } })
        .composite([
          { input: b, ...placeB(i) },
          { input: a, ...placeA(i) },
        ])
        .png()
        .toFile(path.join(dir, 'frames', `f${String(i).padStart(3, '0')}.png`));
    }
    video = path.join(dir, 'crossing.mp4');
    await run('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-framerate',
      String(FPS),
      '-i',
      path.join(dir, 'frames', 'f%03d.png'),
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      '-crf',
      '18',
      video,
    ]);
  });

  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('keeps one id per person through the crossing, writes timeline, summary and chart, and smoothing cuts the flicker', async () => {
    const out = path.join(dir, 'out');
    const annotate = path.join(dir, 'annotated');
    const args = [
      '--import',
      'tsx',
      path.join(REPO, 'src/cli/main.ts'),
      'predict',
      video,
      '--model',
      modelDir,
      '--fps',
      '0',
      '--detect-every',
      '5',
      '--smooth',
      '0.5s',
      '--out',
      out,
      '--annotate',
      annotate,
      '--format',
      'json',
    ];
    const { stdout, stderr } = await run(process.execPath, args, { cwd: REPO, env: { ...process.env, VISEMO_PROGRESS: '0' }, maxBuffer: 1 << 26 });
    assert.match(stderr, /crossing\.mp4: \d+ tracks?, [\d.]+ frames\/s; written/);
    const report = JSON.parse(stdout) as { results: { kind: string; detector: string; timeline: TrackedFrame[]; tracks: { track: number }[] }[] };
    const v = report.results[0]!;
    assert.equal(v.kind, 'video');
    assert.equal(v.detector, 'blazeface', 'video frames are detected with BlazeFace by default, and the result says so');
    assert.equal(v.timeline.length, FRAMES);

    // Which person each tracked face is: the placed face its box overlaps most.
    const ids: Record<'A' | 'B', number[]> = { A: [], B: [] };
    let found = 0;
    v.timeline.forEach((frame, i) => {
      const truth = {
        A: { x: placeA(i).left, y: placeA(i).top, width: SIDE, height: SIDE },
        B: { x: placeB(i).left, y: placeB(i).top, width: SIDE, height: SIDE },
      };
      for (const f of frame.faces) {
        const who = iou(f.box, truth.A) >= iou(f.box, truth.B) ? 'A' : 'B';
        assert.ok(iou(f.box, truth[who]) > 0.3, `frame ${i}: box ${JSON.stringify(f.box)} is on no face`);
        ids[who].push(f.track);
        found++;
      }
      assert.ok(new Set(frame.faces.map((f) => f.track)).size === frame.faces.length, `frame ${i}: one id twice`);
    });
    // Nearly every face is found in every frame (occlusion in the crossing may hide B briefly).
    assert.ok(found >= 2 * FRAMES - 6, `only ${found} of ${2 * FRAMES} faces found`);
    const switches = (list: number[]) => list.slice(1).filter((id, k) => id !== list[k]).length;
    assert.equal(switches(ids.A), 0, `A's ids: ${ids.A}`);
    assert.equal(switches(ids.B), 0, `B's ids: ${ids.B}`);
    assert.notEqual(ids.A[0], ids.B[0]);
    assert.equal(v.tracks.length, 2);

    // Smoothing: B's raw label flickers with the surprised frames, the smoothed label far less; raw scores are kept.
    const bFrames = v.timeline.flatMap((fr) => fr.faces.filter((f) => f.track === ids.B[0]).map((f) => ({ time: fr.time, f })));
    const rawFlips = labelFlips(bFrames.map(({ time, f }) => ({ time, label: f.emotion })));
    const smoothFlips = labelFlips(bFrames.map(({ time, f }) => ({ time, label: f.label })));
    assert.ok(rawFlips >= 8, `the made flicker did not show in the raw labels (${rawFlips} flips)`);
    assert.ok(smoothFlips <= rawFlips / 3, `smoothed ${smoothFlips} flips vs raw ${rawFlips}`);
    assert.ok(
      bFrames.some(({ f }) => Math.abs(f.scores.surprise! - f.smoothed.surprise!) > 0.1),
      'raw and smoothed scores are the same',
    );

    // The files: timeline JSON and CSV agree, the summary covers both tracks, the chart has a panel per track.
    const timeline = JSON.parse(await fs.readFile(path.join(out, 'crossing.timeline.json'), 'utf8')) as { format: string; timeline: TrackedFrame[] };
    assert.equal(timeline.format, 'visemo-video-timeline@1');
    assert.equal(timeline.timeline.length, FRAMES);
    const csv = (await fs.readFile(path.join(out, 'crossing.timeline.csv'), 'utf8')).trim().split('\n');
    const header = csv[0]!.split(',');
    for (const col of ['time', 'track', 'x', 'y', 'width', 'height', 'label', 'raw_happiness', 'smooth_happiness'])
      assert.ok(header.includes(col), `CSV lacks ${col}`);
    assert.equal(csv.length - 1, found);
    const rows = csv.slice(1).map((l) => Object.fromEntries(l.split(',').map((c, k) => [header[k], c])));
    assert.deepEqual(new Set(rows.map((r) => Number(r.track))), new Set([ids.A[0], ids.B[0]]));
    const summary = JSON.parse(await fs.readFile(path.join(out, 'crossing.summary.json'), 'utf8')) as {
      tracks: { track: number; dominant: string; shares: Record<string, number>; segments: { emotion: string; start: number; end: number }[] }[];
    };
    assert.equal(summary.tracks.length, 2);
    for (const t of summary.tracks) {
      assert.ok(Math.abs(Object.values(t.shares).reduce((a, b) => a + b, 0) - 1) < 1e-3);
      assert.equal(t.dominant, 'happiness', `track ${t.track}: ${JSON.stringify(t.shares)}`);
      assert.ok(t.segments.length >= 1 && t.segments[0]!.start < t.segments[0]!.end);
    }
    const svg = await fs.readFile(path.join(out, 'crossing.timeline.svg'), 'utf8');
    assert.match(svg, /^<svg/);
    for (const t of summary.tracks) assert.ok(svg.includes(`face ${t.track}`), `no panel for face ${t.track}`);
    const png = await sharp(path.join(out, 'crossing.timeline.png')).metadata();
    assert.equal(png.format, 'png');
    assert.ok(png.height > 300, 'one panel per track makes the chart tall');

    const { stdout: probe } = await run('ffprobe', [
      '-v',
      'error',
      '-count_frames',
      '-show_entries',
      'stream=nb_read_frames,width,height',
      '-of',
      'csv=p=0',
      path.join(annotate, 'crossing.annotated.mp4'),
    ]);
    assert.equal(probe.trim(), `640,480,${FRAMES}`);

    // Outputs are never replaced without --force.
    const withoutAnnotate = args.filter((x, k) => x !== '--annotate' && args[k - 1] !== '--annotate');
    const again = await run(process.execPath, withoutAnnotate, { cwd: REPO }).then(
      () => 0,
      (err: { code: number; stderr: string }) => (assert.match(err.stderr, /already exists — .*--force/), err.code),
    );
    assert.equal(again, 2);
  });
});
