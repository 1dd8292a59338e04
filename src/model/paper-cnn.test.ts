import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { useBackend } from '../engine/backend.js';
import { buildPaperCnn } from './paper-cnn.js';
import { formatSummary, summarise } from './summary.js';

before(async () => {
  await useBackend('cpu', { quiet: true });
});

test('parameter totals match the paper (Figs. 3.1–3.3) for six classes', () => {
  const expected: Record<number, number> = { 100: 4_813_638, 50: 1_274_694, 20: 226_118 };
  for (const [size, total] of Object.entries(expected)) {
    const model = buildPaperCnn({ size: Number(size), numClasses: 6 });
    assert.equal(model.countParams(), total, `size ${size}`);
    model.dispose();
  }
});

test('layers are named and shaped as in Keras (Fig. 3.2, 50×50)', () => {
  const model = buildPaperCnn({ size: 50, numClasses: 6 });
  const s = summarise(model);
  assert.deepEqual(
    s.layers.map((l) => [l.name, l.type, l.outputShape.slice(1).join('x'), l.params]),
    [
      ['conv2d', 'Conv2D', '50x50x32', 896],
      ['max_pooling2d', 'MaxPooling2D', '25x25x32', 0],
      ['conv2d_1', 'Conv2D', '25x25x64', 18496],
      ['conv2d_2', 'Conv2D', '25x25x128', 73856],
      ['dropout', 'Dropout', '25x25x128', 0],
      ['max_pooling2d_1', 'MaxPooling2D', '12x12x128', 0],
      ['max_pooling2d_2', 'MaxPooling2D', '6x6x128', 0],
      ['flatten', 'Flatten', '4608', 0],
      ['dense', 'Dense', '256', 1179904],
      ['dense_1', 'Dense', '6', 1542],
    ],
  );
  const text = formatSummary(s);
  assert.match(text, /Total params: 1,274,694/);
  assert.match(text, /conv2d \(Conv2D\)\s+\(None, 50, 50, 32\)\s+896/);
  model.dispose();
});

test('one-channel input drops the first layer to 320 parameters', () => {
  const model = buildPaperCnn({ size: 20, numClasses: 6, channels: 1 });
  assert.equal(summarise(model).layers[0]!.params, 3 * 3 * 1 * 32 + 32);
  model.dispose();
});

test('sizes under 8 are refused', () => {
  assert.throws(() => buildPaperCnn({ size: 7, numClasses: 6 }), /at least 8/);
});
