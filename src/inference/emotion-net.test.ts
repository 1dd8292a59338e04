/** EmotionNet: one model folder run on tfjs and on onnxruntime-node gives the same probabilities, with and without test-time flip. */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../../test/helpers.js';
import { batchArray, type DecodedSet } from '../data/decoded-set.js';
import { useBackend } from '../engine/backend.js';
import { tf } from '../engine/tf.js';
import { buildModel } from '../model/architectures.js';
import { saveModel } from '../model/model-io.js';
import type { RunMetadata } from '../model/run-folder.js';
import { createRng } from '../util/random.js';
import { loadEmotionNet, mirrorRows } from './emotion-net.js';

const SIZE = 16;

/** An untrained three-channel visemo net (batch norm statistics moved off 0/1) saved as a run folder. */
async function writeRun(): Promise<string> {
  const dir = tempDir('visemo-net-');
  const model = buildModel({ arch: 'visemo', size: SIZE, numClasses: 4, channels: 3, seed: 3 });
  for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    const n = layer.getWeights()[0]!.shape[0];
    layer.setWeights([tf.fill([n], 1.3), tf.fill([n], 0.2), tf.randomNormal([n], 0, 0.3, 'float32', 1), tf.randomUniform([n], 0.3, 2, 'float32', 2)]);
  }
  await saveModel(model, dir);
  model.dispose();
  const meta = {
    format: 'visemo-run@1',
    arch: 'visemo',
    classes: ['anger', 'happiness', 'sadness', 'surprise'],
    inputSize: SIZE,
    channels: 3,
    normalisation: { mean: [0.4, 0.4, 0.4], std: [0.2, 0.2, 0.2] },
    faceCut: { method: 'box', margin: 0 },
    dataset: { path: '/nowhere' },
    training: {},
  } as unknown as RunMetadata;
  await fs.writeFile(path.join(dir, 'metadata.json'), JSON.stringify(meta));
  return dir;
}

function randomSet(n: number): DecodedSet {
  const rng = createRng(11);
  return { size: SIZE, pixels: Uint8Array.from({ length: n * SIZE * SIZE }, () => Math.floor(rng() * 256)), labels: new Int32Array(n), rels: [] };
}

const maxDiff = (a: Float32Array[], b: Float32Array[]) => Math.max(...a.map((row, i) => Math.max(...row.map((v, j) => Math.abs(v - b[i]![j]!)))));

test('batchArray: NCHW holds the NHWC values, channel planes apart', () => {
  const set = randomSet(2);
  const norm = { mean: [0.4, 0.4, 0.4], std: [0.2, 0.2, 0.2] };
  const nhwc = batchArray(set, [1, 0], norm, 3);
  const nchw = batchArray(set, [1, 0], norm, 3, 'nchw');
  const px = SIZE * SIZE;
  for (const [b, p, c] of [
    [0, 0, 0],
    [0, 5, 2],
    [1, px - 1, 1],
  ] as const)
    assert.equal(nchw[b * 3 * px + c * px + p], nhwc[(b * px + p) * 3 + c]);
  assert.ok(Math.abs(nhwc[0]! - (set.pixels[px]! / 255 - 0.4) / 0.2) < 1e-6, 'image 1 first, normalised');
});

test('mirrorRows reverses each row of every plane', () => {
  assert.deepEqual(Array.from(mirrorRows(new Float32Array([1, 2, 3, 4, 5, 6]), 3)), [3, 2, 1, 6, 5, 4]);
});

test('a model folder on onnxruntime-node gives its tfjs probabilities, flip averaging included', async () => {
  await useBackend('cpu', { quiet: true });
  const dir = await writeRun();
  const set = randomSet(10);
  const onTfjs = await loadEmotionNet(dir, 'tfjs');
  const onOnnx = await loadEmotionNet(dir, 'onnx');
  assert.equal(onOnnx.runtime, 'onnx');
  assert.match(onOnnx.runtimeLabel, /^onnxruntime-node \d/);
  assert.deepEqual(onOnnx.metadata.classes, onTfjs.metadata.classes);
  for (const tta of [false, true]) {
    // Batches of 4 over 10 images: a short last batch too.
    const a = await onTfjs.classify(set, { batch: 4, tta });
    const b = await onOnnx.classify(set, { batch: 4, tta });
    assert.equal(b.length, 10);
    assert.equal(b[0]!.length, 4);
    assert.ok(maxDiff(a, b) <= 1e-5, `tta ${tta}: max |Δp| ${maxDiff(a, b)}`);
  }
  // The flip did something: averaged and plain scores differ.
  assert.ok(maxDiff(await onOnnx.classify(set), await onOnnx.classify(set, { tta: true })) > 1e-4);
  onTfjs.dispose();
  onOnnx.dispose();
  await fs.rm(dir, { recursive: true, force: true });
});
