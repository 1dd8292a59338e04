/**
 * The ONNX graph of a LayersModel, run on onnxruntime-node against tfjs on the same inputs: both
 * architectures (batch norm with trained-looking statistics), TensorFlow's asymmetric 'same'
 * padding, the metadata, and refusals by layer name.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useBackend } from '../engine/backend.js';
import { openOnnxSession } from '../engine/onnx.js';
import { tf } from '../engine/tf.js';
import { buildModel } from '../model/architectures.js';
import type { RunMetadata } from '../model/run-folder.js';
import { argmax } from '../util/argmax.js';
import { VisemoError } from '../util/errors.js';
import { tfPadding } from './onnx-graph.js';
import { describeOnnx, modelToOnnx, ONNX_FORMAT, ONNX_IR_VERSION, ONNX_OPSET } from './onnx-model.js';

function metaFor(model: tf.LayersModel, classes: string[], arch: 'paper' | 'visemo' = 'visemo'): RunMetadata {
  const [, size, , channels] = model.inputs[0]!.shape as number[];
  return {
    arch,
    classes,
    inputSize: size!,
    channels: channels as 1 | 3,
    normalisation: { mean: new Array(channels).fill(0.5), std: new Array(channels).fill(0.25) },
    faceCut: { method: 'box', margin: 0.1 },
  } as RunMetadata;
}

/** Max |Δ| and argmax agreement of tfjs and onnxruntime on `n` random inputs. */
async function compareRuntimes(model: tf.LayersModel, classes: string[], n = 6): Promise<{ maxDiff: number; sameArgmax: boolean; rows: number }> {
  const bytes = modelToOnnx(model, 'test', metaFor(model, classes));
  const [, h, w, c] = model.inputs[0]!.shape as number[];
  const x = tf.randomNormal([n, h!, w!, c!], 0, 1, 'float32', 3);
  const expected = tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
  const nchw = tf.tidy(() => tf.transpose(x, [0, 3, 1, 2]).dataSync() as Float32Array);
  x.dispose();
  const session = await openOnnxSession(bytes);
  const got = await session.run(nchw, [n, c!, h!, w!]);
  await session.release();
  assert.equal(got.length, expected.length);
  let maxDiff = 0;
  let sameArgmax = true;
  const k = got.length / n;
  for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - expected[i]!));
  for (let r = 0; r < n; r++) sameArgmax &&= argmax(got.subarray(r * k, (r + 1) * k)) === argmax(expected.subarray(r * k, (r + 1) * k));
  return { maxDiff, sameArgmax, rows: n };
}

/** Batch norm as after training: statistics and affine parameters far from their 0/1 start. */
function randomiseBatchNorm(model: tf.LayersModel): void {
  let seed = 10;
  const draw: Record<string, (n: number) => tf.Tensor> = {
    gamma: (n) => tf.randomUniform([n], 0.5, 1.5, 'float32', seed++),
    beta: (n) => tf.randomNormal([n], 0, 0.3, 'float32', seed++),
    moving_mean: (n) => tf.randomNormal([n], 0, 0.5, 'float32', seed++),
    moving_variance: (n) => tf.randomUniform([n], 0.2, 2, 'float32', seed++),
  };
  for (const layer of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    layer.setWeights(layer.weights.map((w) => draw[w.originalName.split('/').pop()!]!(w.shape[0]!)));
  }
}

test('tfPadding: TensorFlow "same" padding, the odd pixel at the end', () => {
  assert.deepEqual(tfPadding('same', 48, 3, 1), [1, 1]);
  assert.deepEqual(tfPadding('same', 16, 3, 2), [0, 1]);
  assert.deepEqual(tfPadding('same', 15, 3, 2), [1, 1]);
  assert.deepEqual(tfPadding('same', 15, 2, 2), [0, 1]);
  assert.deepEqual(tfPadding('same', 7, 3, 1, 2), [2, 2]);
  assert.deepEqual(tfPadding('valid', 15, 3, 2), [0, 0]);
});

test('both architectures: onnxruntime-node gives tfjs probabilities (batch norm statistics included)', async () => {
  await useBackend('cpu', { quiet: true });
  for (const [arch, size, channels, classes] of [
    ['paper', 20, 3, 6],
    ['visemo', 16, 1, 7],
  ] as const) {
    const model = buildModel({ arch, size, numClasses: classes, channels, seed: 5 });
    randomiseBatchNorm(model);
    const r = await compareRuntimes(
      model,
      Array.from({ length: classes }, (_, i) => `c${i}`),
    );
    model.dispose();
    assert.ok(r.maxDiff <= 1e-5, `${arch}: max |Δp| ${r.maxDiff}`);
    assert.ok(r.sameArgmax, `${arch}: argmax differs`);
  }
});

test('strided and asymmetric "same" padding, valid convolutions, dilation, a non-square kernel, linear and sigmoid dense layers', async () => {
  await useBackend('cpu', { quiet: true });
  const model = tf.sequential({
    layers: [
      // 16 → 8 with stride 2: TensorFlow pads 0 before and 1 after.
      tf.layers.conv2d({ inputShape: [16, 16, 2], filters: 4, kernelSize: 3, strides: 2, padding: 'same', activation: 'tanh', useBias: false }),
      tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
      tf.layers.batchNormalization({ center: false }),
      tf.layers.conv2d({ filters: 3, kernelSize: [2, 3], padding: 'valid', activation: 'relu' }),
      tf.layers.conv2d({ filters: 3, kernelSize: 3, dilationRate: 2, padding: 'same' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 5, activation: 'sigmoid' }),
      tf.layers.dropout({ rate: 0.5 }),
      tf.layers.dense({ units: 4, activation: 'softmax' }),
    ],
  });
  randomiseBatchNorm(model);
  const r = await compareRuntimes(model, ['a', 'b', 'c', 'd'], 8);
  model.dispose();
  assert.ok(r.maxDiff <= 1e-5, `max |Δp| ${r.maxDiff}`);
  assert.ok(r.sameArgmax);
});

test('the file states opset, IR version, input shape and the preprocessing in metadata_props', async () => {
  await useBackend('cpu', { quiet: true });
  const model = buildModel({ arch: 'visemo', size: 16, numClasses: 3, channels: 1, seed: 1 });
  const meta = { ...metaFor(model, ['anger', 'happiness', 'surprise']), faceCut: { method: 'landmarks' } } as RunMetadata;
  const d = describeOnnx(modelToOnnx(model, 'mine', meta));
  model.dispose();
  assert.equal(d.opset, ONNX_OPSET);
  assert.equal(d.irVersion, ONNX_IR_VERSION);
  assert.deepEqual(d.inputDims, ['batch', 1, 16, 16]);
  assert.equal(d.metadata.format, ONNX_FORMAT);
  assert.equal(d.metadata.model, 'mine');
  assert.equal(d.metadata.arch, 'visemo');
  assert.deepEqual(JSON.parse(d.metadata.classes!), ['anger', 'happiness', 'surprise']);
  assert.equal(d.metadata.input_size, '16');
  assert.equal(d.metadata.channels, '1');
  assert.equal(d.metadata.input_layout, 'NCHW');
  assert.deepEqual(JSON.parse(d.metadata.normalisation!), { mean: [0.5], std: [0.25] });
  assert.deepEqual(JSON.parse(d.metadata.face_cut!), { method: 'landmarks' });
  assert.match(d.metadata.preprocessing!, /landmarks.*16x16.*\(p \/ 255 - mean\) \/ std/s);
});

test('a calibrated model states its class-prior offsets beside the graph', async () => {
  await useBackend('cpu', { quiet: true });
  const model = buildModel({ arch: 'visemo', size: 16, numClasses: 3, channels: 1, seed: 1 });
  const meta = metaFor(model, ['anger', 'happiness', 'surprise']);
  assert.equal(describeOnnx(modelToOnnx(model, 'mine', meta)).metadata.calibration_offsets, undefined);
  const calibration = { offsets: [0.5, -0.25, -0.25], method: 'balanced-nll' as const, fittedOn: { path: '/v', images: 9 }, createdAt: '' };
  const d = describeOnnx(modelToOnnx(model, 'mine', { ...meta, calibration }));
  model.dispose();
  assert.deepEqual(JSON.parse(d.metadata.calibration_offsets!), [0.5, -0.25, -0.25]);
  assert.match(d.metadata.preprocessing!, /before calibration: visemo multiplies them by exp\(calibration_offsets\)/);
});

test('a layer the exporter does not know is refused by name', async () => {
  await useBackend('cpu', { quiet: true });
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [8, 8, 1], filters: 2, kernelSize: 3, name: 'c1' }),
      tf.layers.averagePooling2d({ poolSize: 2, name: 'avg_pool' }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2, activation: 'softmax' }),
    ],
  });
  assert.throws(
    () => modelToOnnx(model, 'x', metaFor(model, ['a', 'b'])),
    (err: Error) => err instanceof VisemoError && /avg_pool.*AveragePooling2D/.test(err.message),
  );
  const elu = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [4, 4, 1] }), tf.layers.dense({ units: 2, activation: 'elu', name: 'd_elu' })] });
  assert.throws(
    () => modelToOnnx(elu, 'x', metaFor(elu, ['a', 'b'])),
    (err: Error) => err instanceof VisemoError && /d_elu.*activation 'elu'/.test(err.message),
  );
  model.dispose();
  elu.dispose();
});
