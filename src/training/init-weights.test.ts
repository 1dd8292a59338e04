import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useBackend } from '../engine/backend.js';
import { tf } from '../engine/tf.js';
import { buildModel } from '../model/architectures.js';
import { initWeightsFrom } from './init-weights.js';

test('--init from a six-class model: every layer copied, classifier columns matched by class name, neutral fresh', async () => {
  await useBackend('cpu', { quiet: true });
  const six = ['anger', 'disgust', 'fear', 'happiness', 'sadness', 'surprise'];
  const seven = ['anger', 'disgust', 'fear', 'happiness', 'neutral', 'sadness', 'surprise'];
  for (const arch of ['visemo', 'paper'] as const) {
    const size = arch === 'visemo' ? 16 : 20;
    const start = buildModel({ arch, size, numClasses: 6, channels: 1, seed: 1 });
    const model = buildModel({ arch, size, numClasses: 7, channels: 1, seed: 2 });
    const freshHead = model.layers
      .at(-1)!
      .getWeights()
      .map((w) => w.arraySync() as number[][] | number[]);
    const report = initWeightsFrom(model, start, six, seven);
    assert.deepEqual(report.fresh, ['neutral']);
    assert.deepEqual(report.copied, six);
    // Every layer but the classifier is equal, batch-norm statistics included.
    model.layers.slice(0, -1).forEach((layer, i) => {
      const a = start.layers[i]!.getWeights();
      layer.getWeights().forEach((w, j) => assert.deepEqual(w.dataSync(), a[j]!.dataSync(), `${arch} ${layer.name} weight ${j}`));
    });
    const [kStart, bStart] = start.layers
      .at(-1)!
      .getWeights()
      .map((w) => w.arraySync()) as [number[][], number[]];
    const [kNew, bNew] = model.layers
      .at(-1)!
      .getWeights()
      .map((w) => w.arraySync()) as [number[][], number[]];
    seven.forEach((c, k) => {
      const s = six.indexOf(c);
      const col = kNew.map((row) => row[k]);
      if (s >= 0) {
        assert.deepEqual(
          col,
          kStart.map((row) => row[s]),
          `${arch} ${c} kernel column`,
        );
        assert.equal(bNew[k], bStart[s]);
      } else {
        assert.deepEqual(
          col,
          (freshHead[0] as number[][]).map((row) => row[k]),
          'neutral keeps its fresh initialisation',
        );
        assert.equal(bNew[k], (freshHead[1] as number[])[k]);
      }
    });
    start.dispose();
    model.dispose();
  }
});

test('--init refuses a model whose layers do not match', async () => {
  await useBackend('cpu', { quiet: true });
  const start = buildModel({ arch: 'visemo', size: 16, numClasses: 6, channels: 3 });
  const model = buildModel({ arch: 'visemo', size: 16, numClasses: 6, channels: 1 });
  assert.throws(
    () => initWeightsFrom(model, start, ['a', 'b', 'c', 'd', 'e', 'f'], ['a', 'b', 'c', 'd', 'e', 'f']),
    /stage1_conv1: weight 0 is 3x3x3x32 in the start model, 3x3x1x32 here/,
  );
  start.dispose();
  model.dispose();
});

test('--init into a wider visemo net keeps what the narrow one computes, and its copies start apart', async () => {
  await useBackend('cpu', { quiet: true });
  const classes = ['anger', 'disgust', 'fear', 'happiness', 'sadness', 'surprise'];
  const seven = [...classes.slice(0, 4), 'neutral', ...classes.slice(4)];
  const start = buildModel({ arch: 'visemo', size: 16, numClasses: 6, channels: 1, seed: 1 });
  // Batch norm with statistics of its own, so the test would see a channel gathered wrongly there.
  for (const layer of start.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    layer.setWeights(layer.getWeights().map((w, j) => tf.randomUniform(w.shape, j === 3 ? 0.5 : -1, 1.5, 'float32', 10 + j)));
  }
  const wide = buildModel({ arch: 'visemo', size: 16, numClasses: 7, channels: 1, seed: 2, width: 1.5 });
  assert.deepEqual(
    wide.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => (l.getWeights()[0]!.shape as number[])[3]),
    [48, 48, 96, 96, 192, 192, 288, 288],
  );
  initWeightsFrom(wide, start, classes, seven, 3);
  const x = tf.randomUniform([4, 16, 16, 1], -2, 2, 'float32', 5);
  const before = start.predict(x) as tf.Tensor;
  const after = wide.predict(x) as tf.Tensor;
  // The wide net's six old classes, renormalised without neutral, equal the narrow net's outputs.
  const neutral = seven.indexOf('neutral');
  const p = after.arraySync() as number[][];
  const q = before.arraySync() as number[][];
  p.forEach((row, n) => {
    const six = row.filter((_, k) => k !== neutral);
    const sum = six.reduce((a, b) => a + b, 0);
    six.forEach((v, k) => assert.ok(Math.abs(v / sum - q[n]![k]!) < 1e-4, `image ${n} class ${classes[k]}: ${v / sum} against ${q[n]![k]}`));
  });
  // A copied filter (output 32 … 47 of the first convolution copies one of 0 … 31) gets its own share of the next layer's weights.
  const k1 = wide.layers[0]!.getWeights()[0]!.arraySync() as number[][][][];
  const k2 = wide.layers[1]!.getWeights()[0]!.arraySync() as number[][][][];
  const copyOf = (j: number) => [...Array(32).keys()].find((s) => k1[1]![1]![0]![s] === k1[1]![1]![0]![j]);
  const src = copyOf(40)!;
  assert.ok(src !== undefined && src < 32, 'filter 40 copies an old one');
  assert.notEqual(k2[1]![1]![40]![0], k2[1]![1]![src]![0], 'the copies split the next weights unevenly');
  [start, wide, x, before, after].forEach((t) => t.dispose());
});
