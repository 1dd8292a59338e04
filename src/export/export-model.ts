/**
 * `visemo export`: a bundled model or run folder as an ONNX file for other runtimes. The file is
 * checked before it is written (onnxruntime-node must give tfjs's probabilities on random
 * inputs), written atomically, and never over an existing file without `force`.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { batchArray, type DecodedSet } from '../data/decoded-set.js';
import { useBackend } from '../engine/backend.js';
import { openOnnxSession } from '../engine/onnx.js';
import { tf } from '../engine/tf.js';
import { loadEmotionModel } from '../model/model-io.js';
import type { RunMetadata } from '../model/run-folder.js';
import { writeFileAtomic } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';
import { createRng } from '../util/random.js';
import { modelToOnnx, onnxMetadata, ONNX_IR_VERSION, ONNX_OPSET, type OnnxMetadata } from './onnx-model.js';

export const EXPORT_FORMATS = ['onnx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Random images the export is checked on, and how far onnxruntime may be from tfjs on them. */
const CHECK_IMAGES = 8;
const CHECK_TOLERANCE = 1e-4;

export interface ExportResult {
  model: string;
  dir: string;
  out: string;
  bytes: number;
  opset: number;
  irVersion: number;
  metadataKeys: (keyof OnnxMetadata)[];
  /** Largest |Δp| between onnxruntime-node and tfjs over the check images. */
  check: { images: number; maxDiff: number; runtime: string; tfjsBackend: string };
}

/** Refuses `out` when it is a folder, or a file and `force` is not given; changes nothing. */
export async function checkExportTarget(out: string, force: boolean): Promise<void> {
  const stat = await fs.stat(out).catch(() => null);
  if (stat?.isDirectory()) throw new VisemoError(`${out} is a folder`, `give a file name, e.g. ${path.join(out, 'model.onnx')}`);
  if (stat && !force) throw new VisemoError(`${out} already exists`, 'choose another --out, or pass --force to replace it');
}

export async function exportModel(nameOrPath: string, out: string, opts: { format?: ExportFormat; force?: boolean } = {}): Promise<ExportResult> {
  const format = opts.format ?? 'onnx';
  if (!EXPORT_FORMATS.includes(format)) throw new VisemoError(`unknown export format '${String(format)}'`, `use ${EXPORT_FORMATS.join(', ')}`);
  const file = path.resolve(out);
  await checkExportTarget(file, opts.force === true);
  const tfjsBackend = await useBackend('auto', { quiet: true });
  const loaded = await loadEmotionModel(nameOrPath);
  try {
    const bytes = modelToOnnx(loaded.model, loaded.name, loaded.metadata);
    const check = await checkAgainstTfjs(loaded.model, bytes, loaded.metadata);
    if (!(check.maxDiff <= CHECK_TOLERANCE)) {
      throw new Error(`the ONNX graph of ${loaded.name} differs from tfjs by ${check.maxDiff} on random inputs (over ${CHECK_TOLERANCE}): nothing written`);
    }
    await writeFileAtomic(file, bytes);
    return {
      model: loaded.name,
      dir: loaded.dir,
      out: file,
      bytes: bytes.byteLength,
      opset: ONNX_OPSET,
      irVersion: ONNX_IR_VERSION,
      metadataKeys: Object.keys(onnxMetadata(loaded.name, loaded.metadata)) as (keyof OnnxMetadata)[],
      check: { ...check, images: CHECK_IMAGES, tfjsBackend },
    };
  } finally {
    loaded.model.dispose();
  }
}

/** Both runtimes on the same random uint8 faces, each fed as visemo feeds it (NHWC tensors, NCHW arrays). */
async function checkAgainstTfjs(
  model: tf.LayersModel,
  bytes: Uint8Array,
  meta: Pick<RunMetadata, 'inputSize' | 'channels' | 'normalisation'>,
): Promise<{ maxDiff: number; runtime: string }> {
  const { inputSize: s, channels, normalisation } = meta;
  const rng = createRng(7);
  const set: DecodedSet = {
    size: s,
    pixels: Uint8Array.from({ length: CHECK_IMAGES * s * s }, () => Math.floor(rng() * 256)),
    labels: new Int32Array(CHECK_IMAGES),
    rels: [],
  };
  const idx = Array.from({ length: CHECK_IMAGES }, (_, i) => i);
  const expected = tf.tidy(() =>
    (model.predict(tf.tensor4d(batchArray(set, idx, normalisation, channels), [CHECK_IMAGES, s, s, channels])) as tf.Tensor).dataSync(),
  );
  const session = await openOnnxSession(bytes);
  try {
    const got = await session.run(batchArray(set, idx, normalisation, channels, 'nchw'), [CHECK_IMAGES, channels, s, s]);
    if (got.length !== expected.length) return { maxDiff: Infinity, runtime: `onnxruntime-node ${session.version}` };
    let maxDiff = 0;
    for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - expected[i]!));
    return { maxDiff, runtime: `onnxruntime-node ${session.version}` };
  } finally {
    await session.release();
  }
}
