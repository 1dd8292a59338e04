/**
 * BlazeFace in Node: its weights read from the installed @vladmandic/human package (nothing is
 * downloaded), run on raw images by blazeface-net.ts.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { tf } from '../engine/tf.js';
import { runBlazeFace, type BlazeFaceDetection, type BlazeFaceNet, type BlazeFaceOptions } from './blazeface-net.js';
import type { RawImage } from './geometry.js';

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
  const dir = humanModelDir();
  const json = JSON.parse(await readFile(path.join(dir, 'blazeface.json'), 'utf8')) as { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };
  const buffers = await Promise.all(json.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(path.join(dir, p))));
  const all = Buffer.concat(buffers);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  net = await tf.loadGraphModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest.flatMap((g) => g.weights), weightData }));
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
  const { data, width, height, channels } = image;
  if (data.length !== width * height * channels) throw new Error(`image data has ${data.length} bytes, expected ${width}x${height}x${channels}`);
  const frame = tf.tensor3d(data, [height, width, channels], 'int32');
  try {
    return await runBlazeFace(loaded, frame, opts);
  } finally {
    frame.dispose();
  }
}
