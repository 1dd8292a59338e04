import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useBackend } from '../engine/backend.js';
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
    const freshHead = model.layers.at(-1)!.getWeights().map((w) => w.arraySync() as number[][] | number[]);
    const report = initWeightsFrom(model, start, six, seven);
    assert.deepEqual(report.fresh, ['neutral']);
    assert.deepEqual(report.copied, six);
    // Every layer but the classifier is equal, batch-norm statistics included.
    model.layers.slice(0, -1).forEach((layer, i) => {
      const a = start.layers[i]!.getWeights();
      layer.getWeights().forEach((w, j) => assert.deepEqual(w.dataSync(), a[j]!.dataSync(), `${arch} ${layer.name} weight ${j}`));
    });
    const [kStart, bStart] = start.layers.at(-1)!.getWeights().map((w) => w.arraySync()) as [number[][], number[]];
    const [kNew, bNew] = model.layers.at(-1)!.getWeights().map((w) => w.arraySync()) as [number[][], number[]];
    seven.forEach((c, k) => {
      const s = six.indexOf(c);
      const col = kNew.map((row) => row[k]);
      if (s >= 0) {
        assert.deepEqual(col, kStart.map((row) => row[s]), `${arch} ${c} kernel column`);
        assert.equal(bNew[k], bStart[s]);
      } else {
        assert.deepEqual(col, (freshHead[0] as number[][]).map((row) => row[k]), 'neutral keeps its fresh initialisation');
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
  assert.throws(() => initWeightsFrom(model, start, ['a', 'b', 'c', 'd', 'e', 'f'], ['a', 'b', 'c', 'd', 'e', 'f']), /stage1_conv1: weight 0 is 3x3x3x32 in the start model, 3x3x1x32 here/);
  start.dispose();
  model.dispose();
});
