/**
 * `visemo audit` end to end: a small made face set whose file names carry an origin code — real
 * CK+ crops (linked from ../shared, never copied) for three origins, flat generated images for a
 * fourth, a group under --min-group, a file without a code — through visemo7 and faceapi with
 * --crops; then a few CFEE photos through the detector; then the errors the house rules promise.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { CKPLUS, hasShared, runCli, SHARED, tempDir, writeGrayPng } from './helpers.js';
import type { AuditResult } from '../src/evaluation/run-audit.js';
import { parseCsv } from '../src/evaluation/audit-groups.js';

const CLASSES = ['anger', 'happiness', 'sadness', 'surprise'];
const CFEE = path.join(SHARED, 'cfee', 'basic');

/** Links `n` CK+ crops of each class (from the `from`-th) as <class>/<name>_F-<origin>-01.png. */
async function linkOrigin(root: string, origin: string, from: number, n: number): Promise<void> {
  for (const c of CLASSES) {
    await fs.mkdir(path.join(root, c), { recursive: true });
    const files = (await fs.readdir(path.join(CKPLUS, c)))
      .sort()
      .filter((_, i) => i % 3 === 0)
      .slice(from, from + n);
    for (const f of files) await fs.symlink(path.join(CKPLUS, c, f), path.join(root, c, `${path.basename(f, '.png')}_F-${origin}-01.png`));
  }
}

describe('audit of a made face set by origin code', { skip: hasShared ? false : 'needs ../shared/datasets/ckplus48' }, () => {
  const dir = tempDir('visemo-audit-');
  const faces = path.join(dir, 'faces');
  const out = path.join(dir, 'audit');
  let run: ReturnType<typeof runCli>;
  let result: AuditResult;

  before(async () => {
    await linkOrigin(faces, 'ASN', 0, 8); // 32
    await linkOrigin(faces, 'EUR', 8, 6); // 24
    await linkOrigin(faces, 'XYZ', 14, 1); // 4: under --min-group
    // NOI: the same flat image six times per class, so every model gives all 24 one answer: 6 right.
    for (const c of CLASSES) for (let i = 0; i < 6; i++) await writeGrayPng(path.join(faces, c, `flat${i}_M-NOI-01.png`), 48, 48, (x, y) => 120 + (x + y) / 8);
    await writeGrayPng(path.join(faces, 'anger', 'no-code.png'), 48, 48, () => 100);
    run = runCli(['audit', faces, '--crops', '--models', 'visemo7,faceapi', '--group-by', '_[FM]-([A-Z]+)-', '-o', out]);
    result = JSON.parse(await fs.readFile(path.join(out, 'audit.json'), 'utf8')) as AuditResult;
  });

  test('per group: n, accuracy with its interval, recall per class; the flat group is all one class', () => {
    assert.equal(run.code, 0, run.stderr);
    assert.equal(result.format, 'visemo-audit@1');
    assert.deepEqual(result.classes, CLASSES);
    assert.equal(result.images, 84, 'the file without an origin code has no group');
    assert.equal(result.scored, 84);
    const [b] = result.breakdowns;
    assert.equal(b!.name, 'group');
    assert.equal(b!.ungrouped, 0, 'images without a group are dropped before scoring');
    assert.deepEqual(b!.leftOut, ['XYZ']);
    assert.deepEqual(
      result.models.map((m) => m.model),
      ['visemo7', 'faceapi'],
    );
    for (const m of b!.models) {
      assert.deepEqual(
        m.groups.map((g) => [g.group, g.n, g.tested]),
        [
          ['ASN', 32, true],
          ['EUR', 24, true],
          ['NOI', 24, true],
          ['XYZ', 4, false],
        ],
      );
      const noi = m.groups[2]!;
      assert.equal(noi.correct, 6, `${m.model}: one answer for 24 flat images, right for the 6 of its class`);
      assert.equal(Math.max(...noi.predictedCounts), 24);
      assert.deepEqual(noi.trueCounts, [6, 6, 6, 6]);
      // Posed CK+ crops are easy for both (> 80 %): far above the flat group, beyond chance.
      for (const g of m.groups.slice(0, 2)) assert.ok(g.accuracy > 0.8, `${m.model} ${g.group} ${g.accuracy}`);
      assert.ok(m.homogeneity!.p < 0.001 && m.homogeneity!.df === 2, JSON.stringify(m.homogeneity));
      assert.deepEqual(
        m.pairs.map((p) => `${p.first}-${p.second}`),
        ['ASN-EUR', 'ASN-NOI', 'EUR-NOI'],
      );
      assert.ok(m.pairs[1]!.significant && m.pairs[2]!.significant);
      assert.match(
        m.summary,
        /Accuracy differs between the groups beyond chance .* (ASN|EUR) above NOI by .*Left out of the tests, under 20 images: XYZ \(4\)\.$/,
      );
    }
    // The terminal table says the same.
    const v = b!.models[0]!.groups[0]!;
    const p1 = (x: number) => (x * 100).toFixed(1);
    assert.match(run.stdout, new RegExp(`ASN\\s+32\\s+${p1(v.accuracy)} % \\(${p1(v.interval.lower)}–${p1(v.interval.upper)}\\)`));
    assert.match(run.stdout, /XYZ\*\s+4/);
    assert.match(run.stdout, /within each group, exact McNemar between models/);
    assert.match(run.stderr, /audited 84 images in 4 groups by group with 2 models/);
  });

  test("the numbers agree with predictions.csv, and McNemar per group with the two models' answers", async () => {
    const rows = parseCsv(await fs.readFile(path.join(out, 'predictions.csv'), 'utf8'));
    assert.deepEqual(rows[0], ['image', 'true', 'group', 'visemo7', 'faceapi']);
    assert.equal(rows.length, 1 + 84);
    const b = result.breakdowns[0]!;
    for (const [m, model] of b.models.entries()) {
      for (const g of model.groups) {
        const mine = rows.slice(1).filter((r) => r[2] === g.group);
        assert.equal(mine.length, g.n);
        assert.equal(mine.filter((r) => r[1] === r[3 + m]).length, g.correct, `${model.model} ${g.group}`);
      }
    }
    for (const t of b.modelPairs) {
      const mine = rows.slice(1).filter((r) => r[2] === t.group);
      assert.equal(t.b, mine.filter((r) => r[3] === r[1] && r[4] !== r[1]).length);
      assert.equal(t.c, mine.filter((r) => r[4] === r[1] && r[3] !== r[1]).length);
    }
    assert.equal(b.modelPairs.length, 4, 'one pair of models in each of the 4 groups');
  });

  test('the report: HTML with its charts, Markdown, CSV tables, figures', async () => {
    const html = await fs.readFile(path.join(out, 'report.html'), 'utf8');
    assert.ok((html.match(/<svg/g) ?? []).length >= 3, 'accuracy chart and a recall heat map per model');
    assert.match(html, /Groups under 20 images \(--min-group\) are shown but left out of the between-group tests: XYZ/);
    assert.match(html, /Fisher&#39;s exact test|Fisher's exact test/);
    for (const f of ['group-accuracy', 'group-visemo7-recall', 'group-faceapi-recall']) {
      assert.ok((await fs.stat(path.join(out, 'figures', `${f}.png`))).size > 1000, f);
      assert.match(await fs.readFile(path.join(out, 'figures', `${f}.svg`), 'utf8'), /^<svg/);
    }
    const groups = parseCsv(await fs.readFile(path.join(out, 'tables', 'group-visemo7-groups.csv'), 'utf8'));
    assert.deepEqual(groups[0], ['group', 'n', 'accuracy (95% CI)', 'macro F1', ...CLASSES.map((c) => `${c} recall`), 'tested']);
    assert.deepEqual(
      groups.slice(1).map((r) => [r[0], r[1], r[2]]),
      result.breakdowns[0]!.models[0]!.groups.map((g) => [g.group, String(g.n), String(g.accuracy)]),
    );
    const pairs = parseCsv(await fs.readFile(path.join(out, 'tables', 'group-faceapi-pairs.csv'), 'utf8'));
    assert.equal(pairs.length, 4);
    assert.ok(existsSync(path.join(out, 'tables', 'group-mcnemar.csv')));
    assert.ok(existsSync(path.join(out, 'report.md')));
  });

  test('--group-by dataset: one group per DATA folder', async () => {
    const other = path.join(dir, 'lab');
    await linkOrigin(other, 'LAB', 20, 5);
    const r = runCli(['audit', faces, other, '--crops', '--models', 'visemo7', '--group-by', 'dataset', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const a = JSON.parse(r.stdout) as AuditResult;
    assert.deepEqual(a.data, [faces, other]);
    const [b] = a.breakdowns;
    assert.equal(b!.name, 'dataset');
    assert.deepEqual(
      b!.models[0]!.groups.map((g) => [g.group, g.n]),
      [
        ['faces', 85],
        ['lab', 20],
      ],
      'every image of each folder, the one without an origin code included',
    );
    assert.equal(b!.models[0]!.pairs.length, 1);
  });

  test('an audit folder is replaced only with --force', async () => {
    const again = runCli(['audit', faces, '--crops', '--models', 'visemo7', '--group-by', '_[FM]-([A-Z]+)-', '-o', out]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /^visemo: -o .*audit already holds an earlier audit — choose another -o, or pass --force/);
    const forced = runCli(['audit', faces, '--crops', '--models', 'visemo7', '--group-by', '_[FM]-([A-Z]+)-', '-o', out, '--force', '--json']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(
      (JSON.parse(forced.stdout) as AuditResult).models.map((m) => m.model),
      ['visemo7'],
    );
  });
});

test("photos go through the face detector and each model's cut", { skip: existsSync(CFEE) ? false : 'needs ../shared/datasets/cfee' }, async () => {
  const dir = tempDir('visemo-audit-photos-');
  for (const c of ['happiness', 'surprise']) {
    await fs.mkdir(path.join(dir, c));
    for (const f of (await fs.readdir(path.join(CFEE, c))).sort().slice(0, 5)) await fs.symlink(path.join(CFEE, c, f), path.join(dir, c, f));
  }
  const r = runCli(['audit', dir, '--models', 'visemo7,faceapi', '--group-by', '/id(\\d)\\d\\d_', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const a = JSON.parse(r.stdout) as AuditResult;
  assert.equal(a.crops, false);
  assert.equal(a.detector, 'ssd');
  assert.equal(a.scored + a.skipped.length, 10);
  assert.ok(a.scored >= 9, `faces found in ${a.scored} of 10 portraits`);
  // visemo7 cuts as its training faces were cut (its metadata); face-api's net takes the detector's box as is.
  assert.ok(a.models[0]!.faceCut);
  assert.deepEqual(a.models[1]!.faceCut, { method: 'box', margin: 0 });
  // Posed happy and surprised faces, well lit: both models get most right.
  for (const m of a.breakdowns[0]!.models) assert.ok(m.overall.accuracy >= 0.7, `${m.model} ${m.overall.accuracy}`);
});

describe('audit errors: exit 2, one line naming the problem and what to do', () => {
  const dir = tempDir('visemo-audit-bad-');
  const data = path.join(dir, 'faces');
  before(async () => {
    for (const c of ['anger', 'happiness']) for (let i = 0; i < 2; i++) await writeGrayPng(path.join(data, c, `p${i}_F-ASN-01.png`), 48, 48, () => 90 + 40 * i);
  });
  const oneLine = (stderr: string) => assert.equal(stderr.trim().split('\n').length, 1, stderr);

  test('no image matched the regex', () => {
    const r = runCli(['audit', data, '--crops', '--models', 'visemo7', '--group-by', '_([0-9]{5})\\.png$', '-o', path.join(dir, 'out')]);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^visemo: no image matched --group-by '_\(\[0-9\]\{5\}\)\\\.png\$' \(4 images, e\.g\. anger\/p0_F-ASN-01\.png\) — the expression is matched against each image's path inside its DATA folder/,
    );
    oneLine(r.stderr);
    assert.ok(!existsSync(path.join(dir, 'out')), 'nothing written');
  });

  test('a regex without a capture group', () => {
    const r = runCli(['audit', data, '--crops', '--models', 'visemo7', '--group-by', '_[FM]-[A-Z]+-']);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^visemo: --group-by '_\[FM\]-\[A-Z\]\+-' has no capture group, so it names no group — put the part of the path that names the group in parentheses/,
    );
    oneLine(r.stderr);
  });

  test('a CSV naming files that are not there', async () => {
    const csv = path.join(dir, 'people.csv');
    await fs.writeFile(csv, 'file,origin\nanger/p0_F-ASN-01.png,ASN\nanger/gone.png,EUR\n');
    const r = runCli(['audit', data, '--crops', '--models', 'visemo7', '--group-by', csv]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^visemo: .*people\.csv names 1 file that does not exist: anger\/gone\.png \(line 3\) — fix or remove those rows/);
    oneLine(r.stderr);
  });

  test('a bad --min-group and a missing CSV', () => {
    const r = runCli(['audit', data, '--models', 'visemo7', '--group-by', 'dataset', '--min-group', '0']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--min-group must be an integer of at least 1, got '0'/);
    const m = runCli(['audit', data, '--models', 'visemo7', '--group-by', 'nowhere.csv']);
    assert.equal(m.code, 2);
    assert.match(m.stderr, /--group-by nowhere\.csv: no such CSV file/);
  });
});
