import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assignSplits, subjectFromName, type SplittableItem } from './split.js';
import { DEFAULT_SUBJECT_PATTERN } from '../config/recipe.js';

/** 40 subjects × 6 classes × 3 frames, like a small CK+. */
function fakeItems(): SplittableItem[] {
  const items: SplittableItem[] = [];
  for (let s = 0; s < 40; s++)
    for (const label of ['a', 'b', 'c', 'd', 'e', 'f']) for (let f = 0; f < 3; f++) items.push({ label, subject: `S${s}`, group: `S${s}-${label}` });
  return items;
}

const count = (splits: string[], name: string) => splits.filter((s) => s === name).length;

test('the same seed gives the same split; another seed another', () => {
  const items = fakeItems();
  for (const mode of ['random', 'subject'] as const) {
    assert.deepEqual(assignSplits(items, { mode, seed: 7 }), assignSplits(items, { mode, seed: 7 }));
    assert.notDeepEqual(assignSplits(items, { mode, seed: 7 }), assignSplits(items, { mode, seed: 8 }));
  }
});

test('subject split: no subject on two sides, about 80/10/10, every class in test', () => {
  const items = fakeItems();
  const splits = assignSplits(items, { mode: 'subject', seed: 1 });
  const sides = new Map<string, Set<string>>();
  items.forEach((it, i) => sides.set(it.subject!, (sides.get(it.subject!) ?? new Set()).add(splits[i]!)));
  assert.ok(
    [...sides.values()].every((s) => s.size === 1),
    'a subject is on two sides',
  );
  const n = items.length;
  assert.ok(Math.abs(count(splits, 'test') - n * 0.1) <= 18, `test ${count(splits, 'test')} of ${n}`);
  assert.ok(Math.abs(count(splits, 'val') - n * 0.1) <= 18, `val ${count(splits, 'val')} of ${n}`);
  for (const label of ['a', 'b', 'c', 'd', 'e', 'f'])
    assert.ok(
      items.some((it, i) => it.label === label && splits[i] === 'test'),
      `no ${label} in test`,
    );
});

test("random split: per-class 80/10/10 as the paper's Table 1, groups never cut", () => {
  const items: SplittableItem[] = [];
  for (const [label, n] of [
    ['x', 100],
    ['y', 50],
  ] as const)
    for (let i = 0; i < n; i++) items.push({ label });
  const splits = assignSplits(items, { mode: 'random', seed: 3 });
  const per = (label: string, name: string) => items.filter((it, i) => it.label === label && splits[i] === name).length;
  assert.deepEqual([per('x', 'train'), per('x', 'val'), per('x', 'test')], [80, 10, 10]);
  assert.deepEqual([per('y', 'train'), per('y', 'val'), per('y', 'test')], [40, 5, 5]);

  const grouped = fakeItems();
  const g = assignSplits(grouped, { mode: 'random', seed: 3 });
  const sideOf = new Map<string, string>();
  grouped.forEach((it, i) => {
    assert.equal(sideOf.get(it.group!) ?? g[i], g[i], `group ${it.group} cut`);
    sideOf.set(it.group!, g[i]!);
  });
});

test('subject split refuses items without a subject', () => {
  assert.throws(() => assignSplits([{ label: 'a' }, { label: 'b' }], { mode: 'subject', seed: 1 }), /subject/);
});

test('subject ids come from the file name', () => {
  const re = new RegExp(DEFAULT_SUBJECT_PATTERN);
  assert.equal(subjectFromName('S005_001_00000011.png', re), 'S005');
  assert.equal(subjectFromName('image.png', re), undefined);
  assert.equal(subjectFromName('s12_an_1.avi', /^s(\d+)_/), '12');
});

test('subject split with only a few subjects still fills test and val', () => {
  const items: SplittableItem[] = [];
  for (let s = 0; s < 4; s++) for (const label of ['a', 'b']) for (let f = 0; f < 5; f++) items.push({ label, subject: `S${s}` });
  const splits = assignSplits(items, { mode: 'subject', seed: 2 });
  assert.ok(count(splits, 'test') > 0 && count(splits, 'val') > 0 && count(splits, 'train') > 0, splits.join(','));
});
