/**
 * BlazeFace in Node: its weights read from the installed @vladmandic/human package (nothing is
 * downloaded), run on raw images by blazeface-net.ts.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { tf } from '../engine/tf.js';
import { readModelArtifacts } from '../engine/model-artifacts.js';
import { runBlazeFace, type BlazeFaceDetection, type BlazeFaceNet, type BlazeFaceOptions } from './blazeface-net.js';
import type { RawImage } from './geometry.js';
import { toRgbTensor } from './rgb-tensor.js';

export { BLAZEFACE_INPUT, blazeFaceAnchors, SSD_LIKE, type BlazeFaceDetection, type BlazeFaceOptions } from './blazeface-net.js';

const require = createRequire(import.meta.url);

/** The folder of model files inside the installed @vladmandic/human package. */
export function humanModelDir(): string {
  // Its exports map hides every subpath; resolving (not loading) its main file finds the package's folder.
  return path.join(path.dirname(require.resolve('@vladmandic/human')), '..', 'models');
}

let loading: Promise<BlazeFaceNet> | null = null;
// The loaded network, so that disposing needs no await.
let net: BlazeFaceNet | null = null;

async function loadNet(): Promise<BlazeFaceNet> {
  const artifacts = await readModelArtifacts(humanModelDir(), 'blazeface.json', {
    missing: "reinstall visemo's packages: npm ci",
    damaged: "reinstall visemo's packages: npm ci",
  });
  net = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  return net;
}

/** Frees the detector's weights (once loaded); the next detection loads them again. */
export function disposeBlazeFace(): void {
  net?.dispose();
  net = null;
  loading = null;
}

/** The faces in `image`, best score first, boxes in image coordinates (SSD-like unless `calibration` says otherwise). */
export async function detectBlazeFaces(image: RawImage, opts: BlazeFaceOptions = {}): Promise<BlazeFaceDetection[]> {
  const loaded = net ?? (await (loading ??= loadNet()));
  const frame = toRgbTensor(image);
  try {
    return await runBlazeFace(loaded, frame, opts);
  } finally {
    frame.dispose();
  }
}
