import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assignFolds, type FoldItem } from './folds.js';
import { assignSplits } from './split.js';

/** 37 subjects of uneven sizes, each posing a few of six classes with 3 frames per pose (like CK+). */
function ckLike(): FoldItem[] {
  const items: FoldItem[] = [];
  const labels = ['anger', 'disgust', 'fear', 'happiness', 'sadness', 'surprise'];
  for (let s = 0; s < 37; s++) {
    const poses = labels.filter((_, j) => (s * 7 + j * 3) % 5 !== 0);
    for (const label of poses) for (let f = 0; f < 3; f++) items.push({ label, group: `S${String(s).padStart(3, '0')}` });
  }
  return items;
}

test('folds: no subject in two folds, every image in exactly one, no empty fold', () => {
  const items = ckLike();
  for (const k of [2, 5, 10]) {
    const folds = assignFolds(items, k, 42);
    assert.equal(folds.length, items.length);
    assert.ok(
      folds.every((f) => Number.isInteger(f) && f >= 0 && f < k),
      'a fold index out of range',
    );
    const foldOf = new Map<string, number>();
    items.forEach((it, i) => {
      assert.equal(foldOf.get(it.group!) ?? folds[i], folds[i], `subject ${it.group} in two folds (k=${k})`);
      foldOf.set(it.group!, folds[i]!);
    });
    for (let f = 0; f < k; f++) assert.ok(folds.includes(f), `fold ${f} of ${k} is empty`);
    // The test sets of the k folds partition the images: each tested once.
    const tested = new Array(items.length).fill(0);
    for (let f = 0; f < k; f++) folds.forEach((g, i) => (g === f ? tested[i]++ : 0));
    assert.ok(tested.every((n) => n === 1));
  }
});

test('folds are stratified by class as far as subjects allow, and repeat for a seed', () => {
  const items = ckLike();
  const k = 5;
  const folds = assignFolds(items, k, 7);
  assert.deepEqual(folds, assignFolds(items, k, 7));
  assert.notDeepEqual(folds, assignFolds(items, k, 8));
  // A subject holds at most 3 images of a class, so a fold can miss its share by a few images.
  for (const label of new Set(items.map((it) => it.label))) {
    const total = items.filter((it) => it.label === label).length;
    for (let f = 0; f < k; f++) {
      const n = items.filter((it, i) => it.label === label && folds[i] === f).length;
      assert.ok(Math.abs(n - total / k) <= 6, `${label}: fold ${f} has ${n} of ${total}`);
    }
  }
  const sizes = Array.from({ length: k }, (_, f) => folds.filter((x) => x === f).length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 15, `fold sizes ${sizes.join(',')}`);
});

test('ungrouped items (the random split) are stratified exactly', () => {
  const items: FoldItem[] = [];
  for (const [label, n] of [
    ['x', 100],
    ['y', 50],
    ['z', 7],
  ] as const)
    for (let i = 0; i < n; i++) items.push({ label });
  const folds = assignFolds(items, 10, 3);
  for (let f = 0; f < 10; f++) {
    assert.equal(items.filter((it, i) => it.label === 'x' && folds[i] === f).length, 10);
    assert.equal(items.filter((it, i) => it.label === 'y' && folds[i] === f).length, 5);
    assert.ok(items.filter((it, i) => it.label === 'z' && folds[i] === f).length <= 1);
  }
});

test('more folds than subjects is refused', () => {
  assert.throws(
    () =>
      assignFolds(
        [
          { label: 'a', group: 's1' },
          { label: 'b', group: 's2' },
        ],
        3,
        1,
      ),
    /3 folds need at least 3 groups/,
  );
  assert.throws(() => assignFolds([{ label: 'a' }], 1, 1), /at least 2 folds/);
});

test('a fold split: fold f is the test set, validation subjects come from the other folds', () => {
  const items = ckLike().map((it) => ({ label: it.label, subject: it.group }));
  const k = 5;
  const folds = assignFolds(
    items.map((it) => ({ label: it.label, group: it.subject })),
    k,
    42,
  );
  for (let fold = 1; fold <= k; fold++) {
    const splits = assignSplits(items, { mode: 'subject', seed: 42, folds: { k, fold } });
    items.forEach((_, i) => assert.equal(splits[i] === 'test', folds[i] === fold - 1, `image ${i}, fold ${fold}`));
    const sides = new Map<string, Set<string>>();
    items.forEach((it, i) => sides.set(it.subject!, (sides.get(it.subject!) ?? new Set()).add(splits[i]!)));
    assert.ok(
      [...sides.values()].every((s) => s.size === 1),
      'a subject on two sides',
    );
    assert.ok(splits.includes('val') && splits.includes('train'));
  }
});
