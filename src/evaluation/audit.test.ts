/** The audit's arithmetic on a made-up set with known groups and predictions, and its --group-by rules. */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../../test/helpers.js';
import { VisemoError } from '../util/errors.js';
import { assignGroups, datasetNames, parseCsv, parseGroupRule, regexGroup, type GroupedItem } from './audit-groups.js';
import { auditBreakdown, listSome, mostOverPredicted } from './audit.js';
import { formatBreakdown } from './audit-format.js';
import { newcombeDifference } from './intervals.js';

const close = (actual: number, expected: number, tol: number, what = '') =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what} ${actual} is not ${expected} ± ${tol}`);
const CLASSES = ['happiness', 'neutral', 'sadness'];

/**
 * 75 images: A 0–29 and B 30–59 (ten of each class), C 60–69 (4 happiness, 3 neutral, 3 sadness),
 * and 5 without a group. Model X is right on all of A; on B it calls every sad face neutral
 * (20/30); on C it gets the first 5 right. Model Y is right on B and C and on half of A (0–14).
 */
function madeSet() {
  const truth = Array.from({ length: 75 }, (_, i) => i % 3);
  const groups = truth.map((_, i) => (i < 30 ? 'A' : i < 60 ? 'B' : i < 70 ? 'C' : null));
  const x = truth.map((t, i) => (i < 30 ? t : i < 60 ? (t === 2 ? 1 : t) : i < 65 ? t : (t + 1) % 3));
  const y = truth.map((t, i) => (i < 15 || i >= 30 ? t : (t + 1) % 3));
  return { truth, groups, x, y };
}

test('per group: n, accuracy with its Wilson interval, recall per class, confusion, predicted against true classes', () => {
  const { truth, groups, x, y } = madeSet();
  const b = auditBreakdown({
    name: 'origin',
    groups,
    truth,
    predictions: [
      { model: 'X', predicted: x },
      { model: 'Y', predicted: y },
    ],
    classes: CLASSES,
    minGroup: 20,
  });
  assert.equal(b.n, 70);
  assert.equal(b.ungrouped, 5);
  assert.deepEqual(b.leftOut, ['C']);
  const [mx, my] = b.models;
  assert.deepEqual(
    mx!.groups.map((g) => [g.group, g.n, g.correct, g.tested]),
    [
      ['A', 30, 30, true],
      ['B', 30, 20, true],
      ['C', 10, 5, false],
    ],
  );
  assert.deepEqual(mx!.overall.n, 70);
  assert.equal(mx!.overall.correct, 55);
  const B = mx!.groups[1]!;
  close(B.accuracy, 2 / 3, 1e-12);
  // Wilson 95 % for 20/30: 0.4878–0.8077.
  close(B.interval.lower, 0.4878, 1e-4);
  close(B.interval.upper, 0.8077, 1e-4);
  assert.deepEqual(B.recall, [1, 1, 0]);
  assert.deepEqual(B.confusion, [
    [10, 0, 0],
    [0, 10, 0],
    [0, 10, 0],
  ]);
  assert.deepEqual(B.trueCounts, [10, 10, 10]);
  assert.deepEqual(B.predictedCounts, [10, 20, 0], 'the sad faces of B show up as neutral');
  // F1: happiness 1, neutral 2·0.5·1/1.5 = 2/3, sadness 0.
  close(B.macroF1, (1 + 2 / 3 + 0) / 3, 1e-12);
  assert.deepEqual(mostOverPredicted(B, CLASSES), { class: 'neutral', excess: 10 / 30 });
  assert.equal(mostOverPredicted(mx!.groups[0]!, CLASSES), null, 'all right: nothing over-called');
  const C = mx!.groups[2]!;
  assert.deepEqual(C.trueCounts, [4, 3, 3]);
  // C's first five (h, n, s, h, n) are right; 65–69 (s, h, n, s, h) are called the next class.
  assert.deepEqual(C.recall, [2 / 4, 2 / 3, 1 / 3]);
  assert.equal(my!.groups[0]!.correct, 15);
  assert.equal(my!.overall.correct, 55);
});

test('between groups: chi-square over the tested groups, Newcombe interval and Fisher p per pair, Holm, the sentence', () => {
  const { truth, groups, x, y } = madeSet();
  const b = auditBreakdown({
    name: 'origin',
    groups,
    truth,
    predictions: [
      { model: 'X', predicted: x },
      { model: 'Y', predicted: y },
    ],
    classes: CLASSES,
    minGroup: 20,
  });
  const mx = b.models[0]!;
  // C (10 images) is left out. Right/wrong: A 30/0, B 20/10; expected 25/5 each:
  // X² = (25 + 25)/25 + (25 + 25)/5 = 12 on 1 df, p = 0.000532.
  assert.equal(mx.homogeneity!.statistic, 12);
  assert.equal(mx.homogeneity!.df, 1);
  close(mx.homogeneity!.p, 0.000532, 1e-6);
  assert.equal(mx.pairs.length, 1);
  const [pair] = mx.pairs;
  assert.equal(pair!.first, 'A');
  assert.equal(pair!.second, 'B');
  assert.deepEqual(pair!.difference, newcombeDifference(30, 30, 20, 30));
  close(pair!.difference.lower, 0.1523, 1e-4);
  close(pair!.difference.upper, 0.5122, 1e-4);
  // Fisher's exact two-sided for 30/30 against 20/30 (R: fisher.test(matrix(c(30, 0, 20, 10), 2))$p.value = 0.000797).
  close(pair!.p, 0.000797, 1e-6);
  assert.equal(pair!.pHolm, pair!.p, 'one pair: nothing to correct');
  assert.ok(pair!.significant);
  assert.match(
    mx.summary,
    /^Accuracy differs between the groups beyond chance \(χ² = 12\.00, 1 df, p = 0\.0005\)\. Significant at 5 % \(Fisher's exact test, Holm-corrected over 1 pair\): A above B by 33\.3 pp \(p = 0\.0008\)\. Left out of the tests, under 20 images: C \(10\)\.$/,
  );
  // Y: A 15/30, B 30/30.
  assert.match(b.models[1]!.summary, /B above A by 50\.0 pp/);

  // Every two models within each group: exact McNemar.
  assert.deepEqual(
    b.modelPairs.map((t) => [t.group, t.b, t.c]),
    [
      ['A', 15, 0],
      ['B', 0, 10],
      ['C', 0, 5],
    ],
  );
  close(b.modelPairs[0]!.p, 2 * 0.5 ** 15, 1e-15);
  close(b.modelPairs[1]!.p, 2 * 0.5 ** 10, 1e-15);

  const text = formatBreakdown(b, { classes: CLASSES, minGroup: 20, models: [{ model: 'X' }, { model: 'Y' }] as never });
  assert.match(text, /^by origin: 3 groups, 70 images \(5 without a origin left out\)/);
  assert.match(text, /B\s+30\s+66\.7 % \(48\.8–80\.8\)\s+0\.556\s+1\.00\s+1\.00\s+0\.00\s+neutral \+33 pp/);
  assert.match(text, /C\*\s+10\s+50\.0 %/);
  assert.match(text, /A − B\s+\+33\.3 pp \(\+15\.2 to \+51\.2\)\s+0\.0008\s+0\.0008\s+yes/);
  assert.match(text, /A\s+X vs Y\s+15\s+0\s+< 0\.0001\s+yes/);
});

test('Holm over three groups, and no test with fewer than two tested groups', () => {
  // Three groups of 40: 36, 30 and 28 right.
  const truth = new Array(120).fill(0);
  const groups = truth.map((_, i) => ['G1', 'G2', 'G3'][Math.floor(i / 40)]!);
  const right = [36, 30, 28];
  const predicted = truth.map((_, i) => (i % 40 < right[Math.floor(i / 40)]! ? 0 : 1));
  const m = auditBreakdown({ name: 'g', groups, truth, predictions: [{ model: 'M', predicted }], classes: ['a', 'b'] }).models[0]!;
  assert.deepEqual(
    m.pairs.map((p) => `${p.first}-${p.second}`),
    ['G1-G2', 'G1-G3', 'G2-G3'],
  );
  const raw = m.pairs.map((p) => p.p);
  const order = [...raw].sort((a, b) => a - b);
  // Holm by hand: the smallest times 3, the next times 2 (at least the previous), the largest times 1.
  const h0 = Math.min(1, 3 * order[0]!);
  const h1 = Math.max(h0, Math.min(1, 2 * order[1]!));
  const h2 = Math.max(h1, Math.min(1, order[2]!));
  assert.deepEqual(
    m.pairs.map((p) => p.pHolm).sort((a, b) => a - b),
    [h0, h1, h2],
  );
  assert.equal(m.homogeneity!.df, 2);
  const one = auditBreakdown({
    name: 'g',
    groups: groups.map((g, i) => (i < 40 ? g : i < 50 ? 'small' : null)),
    truth,
    predictions: [{ model: 'M', predicted }],
    classes: ['a', 'b'],
  }).models[0]!;
  assert.equal(one.homogeneity, null);
  assert.deepEqual(one.pairs, []);
  assert.match(one.summary, /^Fewer than two groups have 20 images or more: no between-group test\. Left out of the tests, under 20 images: small \(10\)\.$/);
  const single = auditBreakdown({ name: 'dataset', groups: groups.map(() => 'all'), truth, predictions: [{ model: 'M', predicted }], classes: ['a', 'b'] })
    .models[0]!;
  assert.equal(single.summary, 'Only one group: nothing to compare it with.');
});

test('--group-by: regex with a capture group, dataset, CSV; the errors name what to do', async () => {
  const re = await parseGroupRule('_[FM]-([A-Z]+)-');
  assert.equal(re.kind, 'regex');
  if (re.kind !== 'regex') return;
  assert.equal(regexGroup(re.pattern, 'anger/x_F-ASN-01.png'), 'ASN');
  assert.equal(regexGroup(re.pattern, 'anger/x.png'), null);
  assert.equal(regexGroup(/(?<origin>[A-Z]{3})|(\d+)/, 'a/42'), '42', 'the group that took part in the match');
  await assert.rejects(
    parseGroupRule('_[FM]-[A-Z]+-'),
    (e: unknown) => e instanceof VisemoError && /has no capture group/.test(e.message) && /in parentheses/.test(e.hint!),
  );
  await assert.rejects(parseGroupRule('(unclosed'), /not a valid regular expression/);
  await assert.rejects(parseGroupRule('nowhere.csv'), /--group-by nowhere\.csv: no such CSV file/);
  assert.deepEqual(await parseGroupRule('dataset'), { kind: 'dataset' });

  const items: GroupedItem[] = [
    { path: '/d/one/anger/a_F-ASN-1.png', rel: 'anger/a_F-ASN-1.png', data: 0 },
    { path: '/d/two/anger/b_M-EUR-2.png', rel: 'anger/b_M-EUR-2.png', data: 1 },
    { path: '/d/two/anger/c.png', rel: 'anger/c.png', data: 1 },
  ];
  const [byRegex] = await assignGroups(re, '_[FM]-([A-Z]+)-', items, ['/d/one', '/d/two']);
  assert.deepEqual(byRegex, { name: 'group', groups: ['ASN', 'EUR', null] });
  const named = await parseGroupRule('_[FM]-(?<origin>[A-Z]+)-');
  assert.equal((await assignGroups(named, '', items, ['/d/one', '/d/two']))[0]!.name, 'origin');
  await assert.rejects(
    assignGroups(await parseGroupRule('_([0-9]+)\\.png$'), '_([0-9]+)\\.png$', items, ['/d/one', '/d/two']),
    (e: unknown) =>
      e instanceof VisemoError && /^no image matched --group-by '_\(\[0-9\]\+\)\\\.png\$' \(3 images, e\.g\. anger\/a_F-ASN-1\.png\)/.test(e.message),
  );
  assert.deepEqual(await assignGroups({ kind: 'dataset' }, 'dataset', items, ['/d/one', '/d/two/']), [{ name: 'dataset', groups: ['one', 'two', 'two'] }]);
  assert.deepEqual(datasetNames(['a/test', 'b/test/', 'c']), ['a/test', 'b/test', 'c']);

  assert.deepEqual(parseCsv('\uFEFFfile,origin\r\n"a, b.png","x ""y"""\n\nc.png,\n'), [
    ['file', 'origin'],
    ['a, b.png', 'x "y"'],
    ['c.png', ''],
  ]);
  const dir = tempDir();
  const data = path.join(dir, 'faces');
  await fs.mkdir(path.join(data, 'anger'), { recursive: true });
  for (const f of ['p1.png', 'p2.png', 'p3.png']) await fs.writeFile(path.join(data, 'anger', f), 'x');
  const csvItems: GroupedItem[] = ['p1.png', 'p2.png', 'p3.png'].map((f) => ({ path: path.join(data, 'anger', f), rel: `anger/${f}`, data: 0 }));
  const csv = path.join(dir, 'people.csv');
  // Paths relative to the CSV's folder or to the DATA folder; an empty cell is no group; p3 unnamed.
  await fs.writeFile(csv, 'file,origin,gender\nfaces/anger/p1.png,ASN,F\nanger/p2.png,EUR,\n');
  const rule = await parseGroupRule(csv);
  assert.deepEqual(rule, { kind: 'csv', file: csv });
  assert.deepEqual(await assignGroups(rule, csv, csvItems, [data]), [
    { name: 'origin', groups: ['ASN', 'EUR', null] },
    { name: 'gender', groups: ['F', null, null] },
  ]);
  await fs.writeFile(csv, 'file,origin\nanger/p1.png,ASN\nanger/gone.png,EUR\nanger/lost.png,AFR\n');
  await assert.rejects(
    assignGroups(rule, csv, csvItems, [data]),
    (e: unknown) => e instanceof VisemoError && e.message === `${csv} names 2 files that do not exist: anger/gone.png (line 3), anger/lost.png (line 4)`,
  );
  await fs.writeFile(csv, 'file\nanger/p1.png\n');
  await assert.rejects(assignGroups(rule, csv, csvItems, [data]), /has no attribute column/);
  await fs.writeFile(csv, 'file,origin\n');
  await assert.rejects(assignGroups(rule, csv, csvItems, [data]), /gives a group to none of the 3 images/);
});

test('many groups: the terminal lists only the significant pairs; small expected counts make p approximate', () => {
  // 12 groups of 20: G01 all wrong, the others all right but one face each. 66 pairs.
  const truth = new Array(240).fill(0);
  const groups = truth.map((_, i) => `G${String(Math.floor(i / 20) + 1).padStart(2, '0')}`);
  const predicted = truth.map((_, i) => (i < 20 || i % 20 === 0 ? 1 : 0));
  const b = auditBreakdown({ name: 'person', groups, truth, predictions: [{ model: 'M', predicted }], classes: ['a', 'b'] });
  const m = b.models[0]!;
  assert.equal(m.pairs.length, 66);
  // G01 (0/20) against each other (19/20): Fisher p = 2·C(20,1)·… tiny, Holm ×66 still far under 0.05; the others are level.
  assert.deepEqual(
    m.pairs.filter((p) => p.significant).map((p) => p.first),
    new Array(11).fill('G01'),
  );
  // 11 wrong of 240 expected per group of 20 wrong: 20·(20 + 11)/240 = 2.58 < 5.
  close(m.homogeneity!.minExpected, (20 * 31) / 240, 1e-12);
  assert.match(m.summary, /an expected count is 2\.6, under 5, so p is approximate\)\./);
  const text = formatBreakdown(b, { classes: ['a', 'b'], minGroup: 20, models: [{ model: 'M' }] as never });
  assert.match(text, /66 pairs of groups: the significant ones below; every pair is in audit\.json/);
  assert.equal((text.match(/^G01 − G\d\d /gm) ?? []).length, 11);
  assert.doesNotMatch(text, /^G02 − G03/m);
});

test('long lists of groups are cut short', () => {
  assert.equal(listSome(['a', 'b']), 'a, b');
  assert.equal(
    listSome(
      Array.from({ length: 25 }, (_, i) => `p${i}`),
      3,
    ),
    'p0, p1, p2 and 22 more',
  );
});
