/// <reference lib="dom" />
/**
 * The visemo page: face detection (face-api's SSD MobileNet on pictures, @vladmandic/human's
 * BlazeFace on live video) and the emotion model (tfjs) run in
 * the browser on the webcam, an uploaded image or an uploaded video. Faces are cropped and
 * preprocessed as `visemo predict` does in Node (square around the box with the model's margin,
 * edge pixels repeated, monochrome by sRGB luminance, resized, normalised with the run's mean
 * and std) by src/image/pixels.ts, which a Node test holds to sharp's output, so the page and
 * the CLI agree.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as faceapi from '@vladmandic/face-api/dist/face-api.esm-nobundle.js';
// geometry.ts imports nothing, so the page crops with Node's own functions and nothing of Node
// (sharp, fs) reaches the bundle.
import { alignedPixelMap, alignmentFromLandmarks, type Point } from '../../align/geometry.js';
import { clipBox, squareAround, type FaceBox } from '../../image/geometry.js';
// The one image pipeline (pure JS): the page cuts, grays, resizes and normalises faces with it.
import { faceModelInput, warpAffine, type PixelNormalisation as Normalisation, type Pixels } from '../../image/pixels.js';
// BlazeFace's decoding has no Node imports either: live video detects with Node's own code.
import { runBlazeFace, type BlazeFaceNet } from '../../image/blazeface-net.js';
import { DETECTOR_CHOICES, detectorFor, type DetectorChoice, type DetectorModel } from '../../image/detector-choice.js';
import { pct } from '../../util/table.js';
import { colourFor } from '../../inference/colours.js';
import type { ModelInfo, RunEntry } from '../../server/api-types.js';
import { buildResult, type RecognizedFace, type TrackedFace } from '../../inference/result.js';
import { RUN_FILES } from '../../model/run-files.js';
import { applyCalibration, type Calibration } from '../../model/calibration.js';
// The tracker and smoothing of `visemo predict` (pure modules, no Node imports): live video keeps
// one id per person, finds faces in small windows between full detections, and smooths labels.
import { TRACKING_DEFAULTS } from '../../config/tracking.js';
import { INFERENCE_DEFAULTS } from '../../config/inference.js';
import { FaceFollower, type FrameDetectors } from '../../tracking/follower.js';
import { TrackSmoothers } from '../../tracking/smoother.js';

/** A face as shown: a picture's, or a live video's with its track id and smoothed scores. */
type Face = RecognizedFace | TrackedFace;
const isTracked = (f: Face): f is TrackedFace => 'track' in f;
/** What a face card and its box show: the smoothed label and scores of a tracked face, else the face's own. */
const shown = (f: Face) =>
  isTracked(f) ? { label: f.label, confidence: f.labelConfidence, scores: f.smoothed } : { label: f.emotion, confidence: f.confidence, scores: f.scores };

/** Seconds of label history the live timeline strip of each face shows. */
const STRIP_SECONDS = 10;

/** What the page is doing, readable from the console (and by the browser test). */
const state = {
  ready: false,
  backend: '',
  model: '',
  detector: INFERENCE_DEFAULTS.detector as DetectorChoice,
  /** The detector that finds faces in live video frames under that choice. */
  videoDetector: 'blazeface' as DetectorModel,
  source: 'none' as 'none' | 'webcam' | 'image' | 'video',
  /** Frames analysed since the source started. */
  frames: 0,
  /** Frames analysed per second over the last two seconds. */
  fps: 0,
  faces: [] as Face[],
  /** Track ids handed out since the source started (1 while one person stays in view). */
  tracks: 0,
  /** Milliseconds spent on live video so far: finding and following faces, cutting faces and the emotion model (crop: the cutting alone), drawing; and all of a frame's analysis. */
  timing: { trackMs: 0, cropMs: 0, classifyMs: 0, drawMs: 0, totalMs: 0 },
  error: null as string | null,
};
(window as unknown as { visemo: typeof state }).visemo = state;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const els = {
  model: $<HTMLSelectElement>('model'),
  detector: $<HTMLSelectElement>('detector'),
  webcam: $<HTMLButtonElement>('webcam'),
  stop: $<HTMLButtonElement>('stop'),
  file: $<HTMLInputElement>('file'),
  status: $<HTMLSpanElement>('status'),
  stage: $<HTMLElement>('stage'),
  drop: $<HTMLDivElement>('drop'),
  video: $<HTMLVideoElement>('video'),
  canvas: $<HTMLCanvasElement>('canvas'),
  fps: $<HTMLDivElement>('fps'),
  faces: $<HTMLDivElement>('faces'),
  runs: $<HTMLDivElement>('runs'),
  about: $<HTMLSpanElement>('about'),
};

function setStatus(text: string, isError = false): void {
  els.status.textContent = text;
  els.status.classList.toggle('error', isError);
  if (isError) state.error = text;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: ${res.status} ${(await res.text()).slice(0, 200)}`);
  return (await res.json()) as T;
}

// ---------------------------------------------------------------- backend and models

/** WebGL when a real GPU is behind it; else WebAssembly (a software WebGL is slower than wasm). */
async function chooseBackend(): Promise<string> {
  setWasmPaths('/vendor/wasm/');
  const wanted = new URLSearchParams(location.search).get('backend');
  const order = wanted ? [wanted] : softwareWebGl() ? ['wasm', 'cpu'] : ['webgl', 'wasm', 'cpu'];
  for (const name of order) {
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return name;
      }
    } catch {
      // try the next one
    }
  }
  throw new Error(`no tfjs backend could start (tried ${order.join(', ')})`);
}

function softwareWebGl(): boolean {
  const gl = document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
  if (!gl) return true;
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
  return /swiftshader|llvmpipe|software/i.test(renderer);
}

let model: tf.LayersModel | null = null;
let modelInfo: ModelInfo | null = null;
let norm: Normalisation | null = null;
/** The model's class-prior offsets (visemo calibrate), applied as in Node; null when it has none. */
let calibrationOffsets: number[] | null = null;
let detectorOptions: faceapi.SsdMobilenetv1Options | faceapi.TinyFaceDetectorOptions = new faceapi.SsdMobilenetv1Options({
  minConfidence: INFERENCE_DEFAULTS.minFaceScore,
  maxResults: INFERENCE_DEFAULTS.maxFaces,
});
let blazeFace: BlazeFaceNet | null = null;

/** The detector for still pictures and for live video frames under the chosen name (as `visemo predict --detector`). */
const detectorOn = (on: 'image' | 'video') => detectorFor(state.detector, on);

/** Loads what the chosen detector needs: face-api's SSD or tiny net for pictures, BlazeFace (from @vladmandic/human) for video. */
async function useDetector(name: DetectorChoice): Promise<void> {
  state.detector = name;
  state.videoDetector = detectorOn('video');
  const nets = new Set([detectorOn('image'), detectorOn('video')]);
  if (nets.has('blazeface')) blazeFace ??= await tf.loadGraphModel('/human-models/blazeface.json');
  // face-api's net for pictures; with BlazeFace chosen, SSD still finds the faces of aligned models (it comes with their landmarks).
  if (detectorOn('image') === 'tiny') {
    if (!faceapi.nets.tinyFaceDetector.isLoaded) await faceapi.nets.tinyFaceDetector.loadFromUri('/face-models');
    detectorOptions = new faceapi.TinyFaceDetectorOptions({ inputSize: 416, scoreThreshold: INFERENCE_DEFAULTS.minFaceScore });
  } else {
    if (!faceapi.nets.ssdMobilenetv1.isLoaded) await faceapi.nets.ssdMobilenetv1.loadFromUri('/face-models');
    detectorOptions = new faceapi.SsdMobilenetv1Options({ minConfidence: INFERENCE_DEFAULTS.minFaceScore, maxResults: INFERENCE_DEFAULTS.maxFaces });
  }
}

/** Every face in a frame by the detector for live video, as { box, score } clipped to the frame. */
async function detectVideoFrame(frame: tf.Tensor3D, width: number, height: number): Promise<{ box: FaceBox; score: number }[]> {
  const found =
    detectorOn('video') === 'blazeface' && blazeFace ? await runBlazeFace(blazeFace, frame) : await faceapi.detectAllFaces(frame as never, detectorOptions);
  return found.map((d) => boxOf(d, width, height)).filter((d) => d.box.width > 0 && d.box.height > 0);
}

/** The window detector of tracking: the tiny face detector on small squares around each face. */
const windowOptions = new faceapi.TinyFaceDetectorOptions({ inputSize: TRACKING_DEFAULTS.windowInputSize, scoreThreshold: TRACKING_DEFAULTS.windowMinScore });

async function loadModel(info: ModelInfo): Promise<void> {
  setStatus(`loading model ${info.label}…`);
  const [loaded, meta] = await Promise.all([
    tf.loadLayersModel(`${info.url}${RUN_FILES.model}`),
    getJson<{ normalisation: Normalisation; calibration?: Calibration }>(`${info.url}${RUN_FILES.metadata}`),
  ]);
  // Aligned models need face-api's 68-point landmark net as well (served with the detectors).
  if (info.faceCut.method === 'landmarks' && !faceapi.nets.faceLandmark68Net.isLoaded) await faceapi.nets.faceLandmark68Net.loadFromUri('/face-models');
  model?.dispose();
  model = loaded;
  modelInfo = info;
  norm = meta.normalisation;
  calibrationOffsets = meta.calibration?.offsets ?? null;
  state.model = info.id;
  // One warm-up pass so the first frame is not slow.
  tf.tidy(() => loaded.predict(tf.zeros([1, info.inputSize, info.inputSize, info.channels])));
  setStatus(`ready: model ${info.label} (${info.classes.length} emotions, ${info.inputSize}×${info.inputSize}), backend ${state.backend}`);
}

// ---------------------------------------------------------------- preprocessing and recognition

/** The model's probabilities for a batch of face inputs (disposed here), calibrated as in Node (src/model/calibration.ts). */
async function classifyBatch(net: tf.LayersModel, input: tf.Tensor): Promise<number[][]> {
  const output = net.predict(input) as tf.Tensor2D;
  const probs = (await output.array()) as number[][];
  tf.dispose([input, output]);
  const offsets = calibrationOffsets;
  return offsets ? probs.map((p) => Array.from(applyCalibration(p, offsets))) : probs;
}

/** Face i's probabilities of a batch (one row per face). */
function probAt(probs: number[][], i: number): number[] {
  const p = probs[i];
  if (!p) throw new Error(`the model gave ${probs.length} rows for face ${i + 1}`);
  return p;
}

/** A frame's pixels (int32 RGB, row-major) as src/image/pixels.ts takes them. */
function framePixels(frame: tf.Tensor3D): Pixels {
  const [height, width] = frame.shape;
  return { data: frame.dataSync() as Int32Array, width, height, channels: 3 };
}

/**
 * The model input for one face, [size, size, channels], cut and preprocessed by the one image
 * pipeline (src/image/pixels.ts) as Node cuts it. By box: the box clipped to the image as the
 * Node detector clips it, then squareAround with the margin, edge pixels repeated. By landmarks
 * (a model trained on aligned faces): the square of src/align/geometry.ts, turned so the eyes
 * are level, sampled with edge pixels beyond the frame.
 */
function faceInput(image: Pixels, box: FaceBox, landmarks: Point[] | null, info: ModelInfo, n: Normalisation): tf.Tensor3D {
  let values: Float32Array;
  if (info.faceCut.method === 'landmarks' && landmarks) {
    const a = alignmentFromLandmarks(landmarks);
    const side = Math.max(1, Math.round(a.side));
    values = faceModelInput(warpAffine(image, alignedPixelMap(a, side), side), { x: 0, y: 0, width: side, height: side }, info.inputSize, n, info.channels);
  } else {
    values = faceModelInput(image, squareAround(clipBox(box, image.width, image.height), info.margin), info.inputSize, n, info.channels);
  }
  return tf.tensor3d(values, [info.inputSize, info.inputSize, info.channels]);
}

/** Every face in a picture (video, image or canvas) with its emotion probabilities. */
async function recognise(source: HTMLVideoElement | HTMLImageElement | HTMLCanvasElement): Promise<Face[]> {
  if (!model || !modelInfo || !norm) return [];
  const frame = tf.browser.fromPixels(source);
  try {
    const info = modelInfo;
    const n = norm;
    const aligned = info.faceCut.method === 'landmarks';
    const found = aligned
      ? (await faceapi.detectAllFaces(frame as never, detectorOptions).withFaceLandmarks()).map((r) => ({
          detection: r.detection,
          landmarks: r.landmarks.positions.map((p) => ({ x: p.x, y: p.y })),
        }))
      : detectorOn('image') === 'blazeface' && blazeFace
        ? (await runBlazeFace(blazeFace, frame)).map((detection) => ({ detection, landmarks: null }))
        : (await faceapi.detectAllFaces(frame as never, detectorOptions)).map((detection) => ({ detection, landmarks: null }));
    if (found.length === 0) return [];
    const pixels = framePixels(frame);
    const input = tf.tidy(() => tf.stack(found.map((f) => faceInput(pixels, f.detection.box, f.landmarks, info, n))));
    const probs = await classifyBatch(model, input);
    return found.map(({ detection: d }, i) => {
      const { x, y, width, height } = d.box;
      return buildResult(info.classes, { x, y, width, height }, d.score, probAt(probs, i));
    });
  } finally {
    frame.dispose();
  }
}

let follower: FaceFollower | null = null;
let smoothers = new TrackSmoothers(TRACKING_DEFAULTS.smoothSeconds);
/** Each track's recent smoothed labels, for its timeline strip. */
const histories = new Map<number, { time: number; label: string }[]>();

function resetTracking(): void {
  follower = null;
  smoothers = new TrackSmoothers(TRACKING_DEFAULTS.smoothSeconds);
  histories.clear();
  state.tracks = 0;
}

const boxOf = (d: { box: FaceBox; score: number }, width: number, height: number, dx = 0, dy = 0) => {
  const b = clipBox({ x: d.box.x + dx, y: d.box.y + dy, width: d.box.width, height: d.box.height }, width, height);
  return { box: b, score: d.score };
};

/**
 * A frame of a live video: faces followed by the tracker (full detection every few frames, the
 * tiny detector on small windows in between), classified in one batch, smoothed per track.
 * Models cut by landmarks need them on every face, so they keep the per-frame path.
 */
async function recogniseTracked(source: HTMLVideoElement, time: number): Promise<Face[]> {
  if (!model || !modelInfo || !norm) return [];
  if (modelInfo.faceCut.method === 'landmarks') return recognise(source);
  const frame = tf.browser.fromPixels(source);
  try {
    const [height, width] = frame.shape;
    if (!follower || follower.width !== width || follower.height !== height)
      // A live source's time is wall time: a budget in seconds would make a slow page detect ever more often, so frames count here.
      follower = new FaceFollower(width, height, { detectSeconds: Infinity });
    const detectors: FrameDetectors = {
      detectAll: () => detectVideoFrame(frame, width, height),
      detectIn: async (w) => {
        const crop = tf.slice(frame, [w.y, w.x, 0], [w.height, w.width, 3]);
        try {
          return (await faceapi.detectAllFaces(crop as never, windowOptions))
            .map((d) => boxOf(d, width, height, w.x, w.y))
            .filter((d) => d.box.width > 0 && d.box.height > 0);
        } finally {
          crop.dispose();
        }
      },
    };
    let t0 = performance.now();
    const followed = await follower.step(time, detectors);
    state.timing.trackMs += performance.now() - t0;
    state.tracks = follower.tracker.created;
    smoothers.keepOnly(follower.tracker.kept.map((t) => t.id));
    if (followed.length === 0) return [];
    const info = modelInfo;
    const n = norm;
    t0 = performance.now();
    const pixels = framePixels(frame);
    const input = tf.tidy(() => tf.stack(followed.map((f) => faceInput(pixels, f.box, null, info, n))));
    // wasm computes as ops are called, so this is the crops' and preprocessing's time.
    state.timing.cropMs += performance.now() - t0;
    const probs = await classifyBatch(model, input);
    state.timing.classifyMs += performance.now() - t0;
    return followed.map((f, i) => {
      const p = probAt(probs, i);
      const face = buildResult(info.classes, f.box, f.score, p, { track: f.track, source: f.source, smoothed: smoothers.update(f.track, time, p) });
      const history = histories.get(f.track) ?? [];
      history.push({ time, label: face.label });
      while (history.length && (history[0]?.time ?? time) < time - STRIP_SECONDS) history.shift();
      histories.set(f.track, history);
      return face;
    });
  } finally {
    frame.dispose();
  }
}

/** The last STRIP_SECONDS of a track's labels as coloured bands, newest on the right. */
function timelineStrip(track: number): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.className = 'strip';
  c.width = 240;
  c.height = 14;
  c.title = `face ${track}: its emotion over the last ${STRIP_SECONDS} s`;
  const g = c.getContext('2d')!;
  const history = histories.get(track) ?? [];
  const now = history.length ? history[history.length - 1]!.time : 0;
  g.fillStyle = '#eee';
  g.fillRect(0, 0, c.width, c.height);
  history.forEach((h, i) => {
    const next = history[i + 1]?.time ?? now + 0.1;
    const x0 = ((h.time - (now - STRIP_SECONDS)) / STRIP_SECONDS) * c.width;
    const x1 = ((next - (now - STRIP_SECONDS)) / STRIP_SECONDS) * c.width;
    g.fillStyle = colourFor(h.label);
    g.fillRect(Math.floor(x0), 0, Math.max(1, Math.ceil(x1 - x0)), c.height);
  });
  return c;
}

// ---------------------------------------------------------------- drawing

function draw(source: CanvasImageSource, width: number, height: number, faces: Face[]): void {
  const c = els.canvas;
  if (c.width !== width || c.height !== height) [c.width, c.height] = [width, height];
  const g = c.getContext('2d')!;
  g.drawImage(source, 0, 0, width, height);
  const line = Math.max(2, Math.round(Math.min(width, height) / 200));
  for (const f of faces) {
    const show = shown(f);
    const colour = colourFor(show.label);
    const { x, y, width: w, height: h } = f.box;
    g.lineWidth = line;
    g.strokeStyle = colour;
    g.strokeRect(x, y, w, h);
    const font = Math.max(12, Math.round(w / 8));
    g.font = `${font}px "DejaVu Sans", sans-serif`;
    const label = `${isTracked(f) ? `#${f.track} ` : ''}${show.label} ${Math.round(show.confidence * 100)}%`;
    const lw = g.measureText(label).width + font * 0.6;
    const ly = y - font * 1.4 >= 0 ? y - font * 1.4 : y;
    g.fillStyle = colour;
    g.fillRect(x, ly, lw, font * 1.4);
    g.fillStyle = '#000';
    g.fillText(label, x + font * 0.3, ly + font * 1.05);
    // Small bars beside the box: one per emotion.
    const classes = Object.keys(f.scores);
    const barH = Math.max(4, Math.round(h / (classes.length * 2)));
    const bx = x + w + line * 2;
    classes.forEach((cls, i) => {
      const by = y + i * barH * 1.5;
      g.fillStyle = 'rgba(0,0,0,.45)';
      g.fillRect(bx, by, w / 2, barH);
      g.fillStyle = colourFor(cls);
      g.fillRect(bx, by, (w / 2) * (show.scores[cls] ?? 0), barH);
    });
  }
  c.hidden = false;
  els.drop.hidden = true;
}

function showFaces(faces: Face[]): void {
  state.faces = faces;
  if (faces.length === 0) {
    els.faces.innerHTML = '<p class="muted">No face found.</p>';
    return;
  }
  els.faces.replaceChildren(
    ...faces.map((f, i) => {
      const card = document.createElement('div');
      card.className = 'face-card';
      const show = shown(f);
      card.dataset.emotion = show.label;
      const title = document.createElement('h3');
      title.textContent = `Face ${isTracked(f) ? f.track : i + 1}: ${show.label} (${pct(show.confidence, 1)})`;
      card.append(title);
      if (isTracked(f)) {
        card.dataset.track = String(f.track);
        card.append(timelineStrip(f.track));
      }
      for (const [cls, p] of Object.entries(show.scores)) {
        const row = document.createElement('div');
        row.className = 'bar-row';
        row.dataset.emotion = cls;
        const name = document.createElement('span');
        name.textContent = cls;
        const bar = document.createElement('div');
        bar.className = 'bar';
        const fill = document.createElement('span');
        fill.style.width = pct(p, 1);
        fill.style.background = colourFor(cls);
        bar.append(fill);
        const value = document.createElement('span');
        value.textContent = pct(p, 1);
        row.append(name, bar, value);
        card.append(row);
      }
      return card;
    }),
  );
}

// ---------------------------------------------------------------- sources: webcam, video, image

let loopToken = 0;
let frameTimes: number[] = [];

function tick(): void {
  const now = performance.now();
  state.frames++;
  frameTimes.push(now);
  frameTimes = frameTimes.filter((t) => now - t <= 2000);
  state.fps = frameTimes.length > 1 ? ((frameTimes.length - 1) * 1000) / (now - frameTimes[0]!) : 0;
  els.fps.textContent = `${state.fps.toFixed(1)} fps`;
}

/** Analyses the playing video continuously, one frame after another, until stopped. */
async function runVideoLoop(token: number): Promise<void> {
  const v = els.video;
  while (token === loopToken) {
    if (v.readyState >= 2 && v.videoWidth > 0 && !v.paused) {
      try {
        const t0 = performance.now();
        const faces = await recogniseTracked(v, performance.now() / 1000);
        if (token !== loopToken) break;
        const t1 = performance.now();
        draw(v, v.videoWidth, v.videoHeight, faces);
        showFaces(faces);
        state.timing.drawMs += performance.now() - t1;
        state.timing.totalMs += performance.now() - t0;
        tick();
      } catch (err) {
        setStatus(`recognition failed: ${(err as Error).message}`, true);
        break;
      }
    }
    await new Promise((r) => requestAnimationFrame(() => r(null)));
  }
}

function stopSource(): void {
  loopToken++;
  const stream = els.video.srcObject as MediaStream | null;
  stream?.getTracks().forEach((t) => t.stop());
  els.video.pause();
  els.video.srcObject = null;
  if (els.video.src) URL.revokeObjectURL(els.video.src);
  els.video.removeAttribute('src');
  els.stop.disabled = true;
  state.source = 'none';
  state.frames = 0;
  frameTimes = [];
  resetTracking();
  els.fps.textContent = '';
}

async function startWebcam(): Promise<void> {
  stopSource();
  if (!navigator.mediaDevices?.getUserMedia) {
    setStatus('this browser gives no camera access here (open the page as http://127.0.0.1 or localhost)', true);
    return;
  }
  try {
    els.video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
  } catch (err) {
    setStatus(`no webcam: ${(err as Error).message}`, true);
    return;
  }
  await els.video.play();
  state.source = 'webcam';
  els.stop.disabled = false;
  void runVideoLoop(++loopToken);
}

async function openFile(file: File): Promise<void> {
  stopSource();
  const url = URL.createObjectURL(file);
  if (file.type.startsWith('video/')) {
    els.video.src = url;
    els.video.loop = true;
    try {
      await els.video.play();
    } catch (err) {
      setStatus(`cannot play ${file.name}: ${(err as Error).message}`, true);
      return;
    }
    state.source = 'video';
    els.stop.disabled = false;
    void runVideoLoop(++loopToken);
  } else if (file.type.startsWith('image/')) {
    const img = new Image();
    img.src = url;
    try {
      await img.decode();
    } catch {
      setStatus(`cannot read ${file.name} as an image`, true);
      return;
    }
    const faces = await recognise(img);
    draw(img, img.naturalWidth, img.naturalHeight, faces);
    showFaces(faces);
    state.frames++;
    state.source = 'image';
    setStatus(`${file.name}: ${faces.length} face${faces.length === 1 ? '' : 's'}`);
    URL.revokeObjectURL(url);
  } else {
    setStatus(`${file.name} is neither an image nor a video`, true);
  }
}

// ---------------------------------------------------------------- runs

function showRuns(runs: RunEntry[], runsDir: string): void {
  if (runs.length === 0) {
    els.runs.innerHTML = '';
    const p = document.createElement('p');
    p.className = 'muted';
    p.textContent = `No training runs in ${runsDir} yet: train one with \`visemo train DATASET --out runs/NAME\`.`;
    els.runs.append(p);
    return;
  }
  const table = document.createElement('table');
  table.innerHTML = '<thead><tr><th>run</th><th>classes</th><th>size</th><th>best val acc</th><th>test acc</th><th>created</th><th>report</th></tr></thead>';
  const body = document.createElement('tbody');
  for (const r of runs) {
    const tr = document.createElement('tr');
    const cells = [
      r.id,
      r.classes?.length ? String(r.classes.length) : '',
      r.inputSize ? `${r.inputSize}²` : '',
      r.bestValAcc !== undefined ? pct(r.bestValAcc, 1) : '',
      r.testAcc !== undefined ? pct(r.testAcc, 1) : '',
      r.createdAt?.slice(0, 16).replace('T', ' ') ?? '',
    ];
    for (const c of cells) {
      const td = document.createElement('td');
      td.textContent = c;
      tr.append(td);
    }
    const td = document.createElement('td');
    if (r.report) {
      const a = document.createElement('a');
      a.href = r.report;
      a.target = '_blank';
      a.rel = 'noopener';
      a.textContent = 'open report';
      td.append(a);
    } else td.textContent = r.kind === 'run' ? 'no report yet' : '';
    tr.append(td);
    body.append(tr);
  }
  table.append(body);
  els.runs.replaceChildren(table);
}

// ---------------------------------------------------------------- start

async function main(): Promise<void> {
  state.backend = await chooseBackend();
  setStatus(`loading the face detector (backend ${state.backend})…`);
  const params = new URLSearchParams(location.search);
  const asked = params.get('detector') as DetectorChoice | null;
  await useDetector(asked && DETECTOR_CHOICES.includes(asked) ? asked : INFERENCE_DEFAULTS.detector);
  // The window detector of live tracking.
  if (!faceapi.nets.tinyFaceDetector.isLoaded) await faceapi.nets.tinyFaceDetector.loadFromUri('/face-models');
  els.detector.value = state.detector;
  const models = await getJson<ModelInfo[]>('/api/models');
  if (models.length === 0) throw new Error('no model available: the bundled model is missing and the runs folder has none');
  els.model.replaceChildren(
    ...models.map((m) => {
      const o = document.createElement('option');
      o.value = m.id;
      o.textContent = m.label;
      return o;
    }),
  );
  const wanted = params.get('model');
  const first = models.find((m) => m.id === wanted) ?? models[0]!;
  els.model.value = first.id;
  await loadModel(first);
  els.model.onchange = () => void loadModel(models.find((m) => m.id === els.model.value)!).catch((e: Error) => setStatus(e.message, true));
  els.detector.onchange = () => void useDetector(els.detector.value as DetectorChoice).catch((e: Error) => setStatus(e.message, true));
  for (const el of [els.model, els.detector, els.webcam, els.file]) el.disabled = false;
  els.webcam.onclick = () => void startWebcam();
  els.stop.onclick = () => stopSource();
  els.file.onchange = () => {
    const f = els.file.files?.[0];
    if (f) void openFile(f);
  };
  els.stage.addEventListener('dragover', (e) => {
    e.preventDefault();
    els.stage.classList.add('dragging');
  });
  els.stage.addEventListener('dragleave', () => els.stage.classList.remove('dragging'));
  els.stage.addEventListener('drop', (e) => {
    e.preventDefault();
    els.stage.classList.remove('dragging');
    const f = e.dataTransfer?.files[0];
    if (f) void openFile(f);
  });
  els.about.textContent = `TensorFlow.js ${tf.version.tfjs}, backend ${state.backend}; face detectors from face-api (SSD MobileNet v1, Tiny Face Detector) and @vladmandic/human (BlazeFace).`;
  state.ready = true;
  getJson<{ runsDir: string; runs: RunEntry[] }>('/api/runs')
    .then((r) => showRuns(r.runs, r.runsDir))
    .catch((e: Error) => (els.runs.textContent = `cannot list runs: ${e.message}`));
}

main().catch((err: Error) => setStatus(`cannot start: ${err.message}`, true));
