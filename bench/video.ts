/**
 * `npm run bench -- video`: frames per second end to end on two 640×480 videos made at run time
 * with ffmpeg from shared faces (one face, and three), for visemo's video analysis (tracking:
 * full detection every k frames, window following, batched emotion model) and for face-api.js's
 * own pipeline (`detectAllFaces(...).withFaceExpressions()`, SSD and tiny detectors) on the same
 * tfjs wasm backend, over the same frames, decoded by the same ffmpeg pipe; and where visemo's
 * time goes. The videos are temporary and never stored. On a machine shared with other jobs
 * only the ratios of one run mean much.
 */
import { createRequire } from 'node:module';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { useBackend } from '../src/engine/backend.js';
import { tf } from '../src/engine/tf.js';
import { faceApiModelDir } from '../src/image/face-detector.js';
import { probeVideo, streamFrames } from '../src/image/video.js';
import { EmotionRecognizer } from '../src/inference/recognizer.js';
import { allFrames, analyseVideo } from '../src/inference/video-analysis.js';
import { TRACKING_DEFAULTS } from '../src/config/tracking.js';
import { writeJsonAtomic } from '../src/util/atomic.js';

const run = promisify(execFile);
const require = createRequire(import.meta.url);
const SFEW = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'shared', 'datasets', 'sfew', 'val');

export interface VideoBenchOptions {
  seconds: number;
  detectEvery: number;
  out: string;
  faceapi: boolean;
}

interface Row {
  video: string;
  pipeline: string;
  frames: number;
  seconds: number;
  fps: number;
  facesPerFrame: number;
}

/**
 * Three shared SFEW faces (colour film frames, cut tightly around the face): the first of three
 * classes whose first face SSD finds at this size (those of surprise and anger it misses or barely finds).
 */
export function pickFaces(): string[] {
  return ['happiness', 'neutral', 'fear'].map((c) => path.join(SFEW, c, readdirSync(path.join(SFEW, c)).sort()[0]!));
}

/** A 640×480 25 fps clip of `seconds` with the faces drifting slowly across a plain background. */
export async function makeVideo(file: string, faces: string[], seconds: number): Promise<void> {
  const size = faces.length === 1 ? [200, 253] : [170, 215];
  // x, y, and their speeds in pixels per second: slow drifts, inside the frame for 10 s.
  const paths =
    faces.length === 1
      ? [[200, 110, 15, -5]]
      : [
          [20, 30, 12, 4],
          [235, 240, -10, -4],
          [450, 30, -10, 5],
        ];
  const graph = faces
    .map((_, i) => `[${i + 1}]scale=${size[0]}:${size[1]},format=rgb24[f${i}]`)
    .concat(
      faces.map(
        (_, i) =>
          `[${i === 0 ? '0' : `v${i - 1}`}][f${i}]overlay=x='${paths[i]![0]}+${paths[i]![2]}*t':y='${paths[i]![1]}+${paths[i]![3]}*t'${i === faces.length - 1 ? '' : `[v${i}]`}`,
      ),
    )
    .join(';');
  await run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    `color=c=0x5a6e82:s=640x480:d=${seconds}:r=25`,
    ...faces.flatMap((f) => ['-loop', '1', '-i', f]),
    '-filter_complex',
    graph,
    '-t',
    String(seconds),
    '-c:v',
    'libx264',
    '-pix_fmt',
    'yuv420p',
    '-crf',
    '20',
    file,
  ]);
}

interface FaceApi {
  nets: Record<string, { isLoaded: boolean; loadFromDisk(dir: string): Promise<void> }>;
  SsdMobilenetv1Options: new (o: { minConfidence: number; maxResults?: number }) => object;
  TinyFaceDetectorOptions: new (o: { inputSize: number; scoreThreshold: number }) => object;
  detectAllFaces(input: unknown, options: object): { withFaceExpressions(): Promise<unknown[]> };
}

/** face-api.js as its users run it: per frame, detect every face and classify its expression, on tfjs wasm. */
async function faceApiPipeline(file: string, detector: 'ssd' | 'tiny'): Promise<{ frames: number; faces: number; ms: number }> {
  const api = require('@vladmandic/face-api/dist/face-api.node-wasm.js') as FaceApi;
  for (const net of ['ssdMobilenetv1', 'tinyFaceDetector', 'faceExpressionNet'])
    if (!api.nets[net]!.isLoaded) await api.nets[net]!.loadFromDisk(faceApiModelDir());
  const options =
    detector === 'ssd'
      ? new api.SsdMobilenetv1Options({ minConfidence: 0.5, maxResults: 20 })
      : new api.TinyFaceDetectorOptions({ inputSize: 416, scoreThreshold: 0.5 });
  const info = await probeVideo(file);
  const classify = async (data: Uint8Array) => {
    const t = tf.tensor3d(data, [info.height, info.width, 3], 'int32');
    try {
      return (await api.detectAllFaces(t, options).withFaceExpressions()).length;
    } finally {
      t.dispose();
    }
  };
  // Warm-up on one frame (kernel set-up), untimed.
  for await (const f of streamFrames(file, info, allFrames(info).slice(0, 1))) await classify(f.image.data);
  let frames = 0;
  let faces = 0;
  const t0 = performance.now();
  for await (const f of streamFrames(file, info, allFrames(info))) {
    faces += await classify(f.image.data);
    frames++;
  }
  return { frames, faces, ms: performance.now() - t0 };
}

interface Clip {
  name: string;
  file: string;
  faces: string[];
}

/** visemo's tracked analysis of one clip with one recogniser: its row, and where its time went. */
async function timeVisemo(
  recognizer: EmotionRecognizer,
  detector: string,
  v: Clip,
  detectEvery: number,
): Promise<{ row: Row; profile: Record<string, number> }> {
  // Warm-up (model and detector loading, kernel set-up) on a short analysis, untimed.
  await analyseVideo(recognizer, v.file, { fps: 2, tracking: { detectEvery } });
  const a = await analyseVideo(recognizer, v.file, { tracking: { detectEvery } });
  const t = a.timing;
  const faceCount = a.timeline.reduce((n, f) => n + f.faces.length, 0);
  const name = `visemo, ${detector === 'ssd' ? 'SSD' : 'BlazeFace'} every ${detectEvery}`;
  const row = { video: v.name, pipeline: name, frames: a.timeline.length, seconds: t.totalMs / 1000, fps: t.fps, facesPerFrame: faceCount / a.timeline.length };
  const other = t.totalMs - t.decodeMs - t.detectMs - t.trackMs - t.classifyMs;
  const profile = {
    decode: t.decodeMs,
    detect: t.detectMs,
    track: t.trackMs,
    classify: t.classifyMs,
    other,
    total: t.totalMs,
    tracks: a.tracks.length,
    detectedFrames: t.detectedFrames,
  };
  console.log(`${v.name}: ${name}: ${t.fps.toFixed(2)} fps, ${a.tracks.length} tracks`);
  return { row, profile };
}

/** face-api.js's pipeline on one clip with one detector, as a row. */
async function timeFaceApi(v: Clip, detector: 'ssd' | 'tiny'): Promise<Row> {
  const r = await faceApiPipeline(v.file, detector);
  console.log(`${v.name}: face-api.js ${detector} ${(r.frames / (r.ms / 1000)).toFixed(2)} fps`);
  return {
    video: v.name,
    pipeline: `face-api.js ${detector === 'ssd' ? 'SSD' : 'tiny 416'} + expressions`,
    frames: r.frames,
    seconds: r.ms / 1000,
    fps: r.frames / (r.ms / 1000),
    facesPerFrame: r.faces / r.frames,
  };
}

/** The table (fps set against face-api.js SSD's on the same clip), visemo's profiles, the JSON, and the load average. */
async function reportVideo(opts: VideoBenchOptions, rows: Row[], profiles: Record<string, Record<string, number>>, loadAtStart: number[]): Promise<void> {
  console.log(`\nvideo    pipeline                             frames  seconds     fps  faces/frame  vs face-api SSD`);
  for (const r of rows) {
    const ref = rows.find((x) => x.video === r.video && x.pipeline.startsWith('face-api.js SSD'));
    console.log(
      `${r.video.padEnd(8)} ${r.pipeline.padEnd(36)} ${String(r.frames).padStart(6)}  ${r.seconds.toFixed(1).padStart(7)}  ${r.fps.toFixed(2).padStart(6)}  ${r.facesPerFrame.toFixed(2).padStart(11)}  ${ref && ref !== r ? `${(r.fps / ref.fps).toFixed(2)}x` : ''}`,
    );
  }
  for (const [name, p] of Object.entries(profiles)) {
    const share = (ms: number) => `${(ms / 1000).toFixed(1)} s (${((100 * ms) / p.total!).toFixed(0)}%)`;
    console.log(
      `\nwhere visemo's time goes, ${name} (${p.detectedFrames} full detections, ${p.tracks} tracks): decode ${share(p.decode!)}, detect ${share(p.detect!)}, track ${share(p.track!)}, classify ${share(p.classify!)}, other ${share(p.other!)}`,
    );
  }
  await writeJsonAtomic(opts.out, {
    mode: 'video',
    date: new Date().toISOString(),
    machine: { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version, loadAverage: { start: loadAtStart, end: os.loadavg() } },
    config: { seconds: opts.seconds, width: 640, height: 480, fps: 25, detectEvery: opts.detectEvery, tracking: TRACKING_DEFAULTS, backend: 'wasm' },
    results: rows,
    profiles,
  });
  console.log(
    `\nload average ${loadAtStart.map((x) => x.toFixed(1)).join(' ')} at the start, ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} at the end\nwritten ${opts.out}`,
  );
}

export async function benchVideo(opts: VideoBenchOptions): Promise<void> {
  if (!existsSync(SFEW)) {
    console.log(`video: the shared faces (${SFEW}) are not there, skipped`);
    return;
  }
  await useBackend('wasm', { quiet: true });
  const loadAtStart = os.loadavg();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'visemo-bench-video-'));
  const rows: Row[] = [];
  const profiles: Record<string, Record<string, number>> = {};
  // visemo as it runs by default (BlazeFace on video frames), and with SSD as the full-frame detector.
  const recognizers: Partial<Record<'blazeface' | 'ssd', EmotionRecognizer>> = {};
  try {
    const faces = pickFaces();
    const videos: Clip[] = [
      { name: '1 face', file: path.join(dir, 'one.mp4'), faces: faces.slice(0, 1) },
      { name: '3 faces', file: path.join(dir, 'three.mp4'), faces },
    ];
    for (const v of videos) await makeVideo(v.file, v.faces, opts.seconds);
    recognizers.blazeface = await EmotionRecognizer.load({ backend: 'wasm' });
    recognizers.ssd = await EmotionRecognizer.load({ backend: 'wasm', detector: 'ssd' });
    for (const v of videos) {
      for (const [detector, recognizer] of Object.entries(recognizers)) {
        const { row, profile } = await timeVisemo(recognizer, detector, v, opts.detectEvery);
        rows.push(row);
        profiles[`${v.name}, ${row.pipeline}`] = profile;
      }
      if (opts.faceapi) for (const detector of ['ssd', 'tiny'] as const) rows.push(await timeFaceApi(v, detector));
    }
  } finally {
    for (const r of Object.values(recognizers)) r.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
  await reportVideo(opts, rows, profiles, loadAtStart);
}
