import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeMetrics } from './metrics.js';

test('metrics equal a hand-computed case', () => {
  // truth:     a a a a b b b c c c
  // predicted: a a b c b b a c c b
  const truth = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2];
  const predicted = [0, 0, 1, 2, 1, 1, 0, 2, 2, 1];
  const m = computeMetrics(truth, predicted, ['a', 'b', 'c']);
  assert.deepEqual(m.confusion, [
    [2, 1, 1],
    [1, 2, 0],
    [0, 1, 2],
  ]);
  assert.equal(m.accuracy, 0.6);
  const close = (x: number, y: number) => assert.ok(Math.abs(x - y) < 1e-12, `${x} != ${y}`);
  // a: precision 2/3, recall 2/4; b: 2/4, 2/3; c: 2/3, 2/3
  close(m.perClass[0]!.precision, 2 / 3);
  close(m.perClass[0]!.recall, 0.5);
  close(m.perClass[0]!.f1, (2 * (2 / 3) * 0.5) / (2 / 3 + 0.5));
  close(m.perClass[1]!.precision, 0.5);
  close(m.perClass[1]!.recall, 2 / 3);
  close(m.perClass[2]!.f1, 2 / 3);
  assert.deepEqual(
    m.perClass.map((c) => c.support),
    [4, 3, 3],
  );
  close(m.macro.recall, (0.5 + 2 / 3 + 2 / 3) / 3);
  close(m.weighted.recall, (4 * 0.5 + 3 * (2 / 3) + 3 * (2 / 3)) / 10); // = accuracy
  close(m.weighted.recall, m.accuracy);
});

test('a class never predicted has precision 0, not NaN', () => {
  const m = computeMetrics([0, 1, 1], [1, 1, 1], ['a', 'b']);
  assert.equal(m.perClass[0]!.precision, 0);
  assert.equal(m.perClass[0]!.recall, 0);
  assert.equal(m.perClass[0]!.f1, 0);
  assert.equal(m.perClass[1]!.precision, 2 / 3);
});
