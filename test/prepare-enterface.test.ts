/**
 * End to end: a miniature eNTERFACE'05 tree of real .avi files (CK+ faces scaled up on a larger
 * background), prepared with the CLI, killed part-way and resumed.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import type { Manifest, PrepareSummary } from '../src/prepare/prepare.js';
import { datasetStats } from '../src/data/stats.js';

const run = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CKPLUS = path.resolve(REPO, '../shared/datasets/ckplus48');
const CLI = ['--import', 'tsx', path.join(REPO, 'src/cli/main.ts')];
const EMOTIONS: [string, string][] = [
  ['anger', 'an'],
  ['disgust', 'di'],
  ['fear', 'fe'],
  ['happiness', 'ha'],
  ['sadness', 'sa'],
  ['surprise', 'su'],
];
const SUBJECTS = [1, 2, 3, 4, 5];

let tmp: string;
let src: string;

/** subject N/<emotion>/sentence 1/sN_<code>_1.avi; subject 4 has no sentence level; plus one corrupt and one stray file. */
async function buildTree(root: string): Promise<void> {
  for (const s of SUBJECTS) {
    for (const [emotion, code] of EMOTIONS) {
      const faces = (await fs.readdir(path.join(CKPLUS, emotion))).sort();
      const face = path.join(CKPLUS, emotion, faces[(s * 7) % faces.length]!);
      const dir = s === 4 ? path.join(root, `subject ${s}`, emotion) : path.join(root, `subject ${s}`, emotion, 'sentence 1');
      await fs.mkdir(dir, { recursive: true });
      // The face at 200 px somewhere on a 720x576 frame, 1.2 s at 25 fps.
      const x = 120 + 60 * s;
      const y = 80 + 30 * s;
      await run('ffmpeg', [
        '-v',
        'error',
        '-y',
        '-loop',
        '1',
        '-i',
        face,
        '-t',
        '1.2',
        '-r',
        '25',
        '-vf',
        `scale=200:200,pad=720:576:${x}:${y}:color=0x5a6e82,format=yuvj420p`,
        '-c:v',
        'mjpeg',
        '-q:v',
        '4',
        path.join(dir, `s${s}_${code}_1.avi`),
      ]);
    }
  }
  const corrupt = path.join(root, 'subject 2', 'anger', 'sentence 2');
  await fs.mkdir(corrupt, { recursive: true });
  await fs.writeFile(path.join(corrupt, 's2_an_2.avi'), Buffer.from('RIFF....AVI LIST this is not a video'.repeat(20)));
  await fs.mkdir(path.join(root, 'subject 3', 'extra'), { recursive: true });
  await run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'color=c=gray:s=64x64:d=0.2',
    '-c:v',
    'mjpeg',
    path.join(root, 'subject 3', 'extra', 'take2.avi'),
  ]);
}

const OPTS = ['--frames-per-video', '2', '--skip-start', '0.2', '--detector', 'tiny', '--size', '64', '--split', 'subject', '--seed', '3', '--json'];

async function prepareCli(out: string, extra: string[] = []): Promise<PrepareSummary> {
  // execFile rejects on a non-zero exit: a failed video (the corrupt one) makes it 1, with the summary on stdout.
  const r = (await run('node', [...CLI, 'prepare', src, '--out', out, ...OPTS, ...extra], { cwd: REPO }).catch((err: { code?: number }) => {
    if (err.code !== 1) throw err;
    return err;
  })) as { code?: number; stdout: string };
  const summary = JSON.parse(r.stdout) as PrepareSummary;
  assert.equal(r.code ?? 0, summary.failed.length > 0 ? 1 : 0, 'the exit status says whether a unit failed');
  return summary;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await fs.readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)).map((f) => `${e.name}/${f}`));
    else out.push(e.name);
  }
  return out;
}

before(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'visemo-prepare-'));
  src = path.join(tmp, 'enterface');
  await buildTree(src);
});
after(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

test('prepare reads the tree leniently, keeps subjects apart, augments training only, and resumes after a kill', async () => {
  const out = path.join(tmp, 'dataset');
  // First run: one worker, killed once two videos are recorded as finished.
  const child = spawn('node', [...CLI, 'prepare', src, '--out', out, ...OPTS, '--workers', '1'], { cwd: REPO, stdio: 'ignore' });
  const unitsDir = path.join(out, '.prepare', 'units');
  const t0 = Date.now();
  while ((await fs.readdir(unitsDir).catch(() => [])).filter((f) => f.endsWith('.json')).length < 2) {
    assert.ok(Date.now() - t0 < 60_000, 'first run made no progress');
    assert.equal(child.exitCode, null, 'first run ended before it could be killed');
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const finishedBefore = (await fs.readdir(unitsDir)).filter((f) => f.endsWith('.json')).length;
  assert.ok(finishedBefore < 30, 'the kill came too late to test resumption');

  const summary = await prepareCli(out);
  assert.equal(summary.kind, 'enterface');
  assert.equal(summary.units, 31, '30 good videos and the corrupt one');
  assert.equal(summary.resumed, finishedBefore, 'finished videos are not redone');
  assert.equal(summary.processed, 30 - finishedBefore);
  assert.deepEqual(
    summary.failed.map((f) => f.source),
    ['subject 2/anger/sentence 2/s2_an_2.avi'],
  );
  assert.deepEqual(
    summary.unparsed.map((u) => u.file),
    ['subject 3/extra/take2.avi'],
  );
  assert.equal(summary.frames, 60);
  assert.ok(summary.faces >= 54, `faces found in only ${summary.faces} of 60 frames`);

  const manifest = JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
  // Nothing half-written survives, and disk and manifest agree exactly.
  const onDisk = (await listFiles(out)).filter((f) => !f.startsWith('.prepare/') && f !== 'manifest.json').sort();
  assert.deepEqual(onDisk, manifest.images.map((i) => i.file).sort());
  assert.ok(!onDisk.some((f) => f.endsWith('.tmp')));

  // Labels and subjects from folders and codes, including subject 4 without the sentence level.
  for (const img of manifest.images) {
    const [, emotionFolder] = img.source.split('/');
    assert.equal(img.label, emotionFolder);
    assert.equal(img.subject, `s${/^subject (\d+)/.exec(img.source)![1]}`);
    assert.ok(img.file.startsWith(`${img.split}/${img.label}/`));
    assert.ok(img.box && img.box.width > 100 && img.box.width < 400, `odd face box ${JSON.stringify(img.box)}`);
  }
  assert.ok(manifest.images.some((i) => i.source === 'subject 4/fear/s4_fe_1.avi'));

  // Subject split: no subject and no video on two sides; every split used.
  const sides = new Map<string, Set<string>>();
  for (const img of manifest.images) for (const key of [img.subject!, img.video!]) sides.set(key, (sides.get(key) ?? new Set()).add(img.split));
  for (const [key, s] of sides) assert.equal(s.size, 1, `${key} is in ${[...s].join(' and ')}`);
  assert.deepEqual(new Set(manifest.images.map((i) => i.split)), new Set(['train', 'val', 'test']));

  // Augmented copies only in training, each with a rotated and a noisy copy of a base image.
  const augmented = manifest.images.filter((i) => i.augmentation);
  assert.ok(augmented.length > 0);
  assert.ok(augmented.every((i) => i.split === 'train'));
  const bases = manifest.images.filter((i) => !i.augmentation && i.split === 'train');
  assert.equal(augmented.length, 2 * bases.length);

  // A rotated copy really is rotated: it matches its base turned by the recorded angle much better than the base itself.
  const rotated = augmented.find((i) => i.augmentation!.type === 'rotate')!;
  const degrees = (rotated.augmentation as { degrees: number }).degrees;
  const base = bases.find((b) => b.source === rotated.source && b.frameTime === rotated.frameTime)!;
  const gray = async (f: string) => new Uint8Array(await sharp(path.join(out, f)).grayscale().raw().toBuffer());
  const [rot, orig] = [await gray(rotated.file), await gray(base.file)];
  const turned = rotateNearest(orig, 64, degrees);
  const turnedBack = rotateNearest(orig, 64, -degrees);
  const centre = (a: Uint8Array, b: Uint8Array) => meanAbsDiff(a, b, 64, 16);
  assert.ok(centre(rot, turned) < 0.6 * centre(rot, orig), `rotated copy vs turned base ${centre(rot, turned)}, vs base ${centre(rot, orig)}`);
  assert.ok(centre(rot, turned) < centre(rot, turnedBack), 'rotated the wrong way');

  // A changed option set is refused.
  await assert.rejects(
    prepareCli(out, ['--size', '48']),
    (err: { code: number; stderr: string }) => err.code === 2 && /other options \(size differ\)/.test(err.stderr),
  );

  // stats agrees with the manifest.
  const stats = await datasetStats(out, { channels: 1 });
  for (const split of ['train', 'val', 'test']) {
    for (const [cls, n] of Object.entries(stats.counts[split]!)) {
      assert.equal(n, manifest.images.filter((i) => i.split === split && i.label === cls).length);
    }
  }
});

/** Rotates a square gray image clockwise by `degrees` about its centre (nearest neighbour). */
function rotateNearest(src: Uint8Array, size: number, degrees: number): Uint8Array {
  const out = new Uint8Array(size * size);
  const a = (degrees * Math.PI) / 180;
  const c = (size - 1) / 2;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      // Inverse map: the source pixel that lands on (x, y).
      const sx = Math.round(Math.cos(a) * (x - c) + Math.sin(a) * (y - c) + c);
      const sy = Math.round(-Math.sin(a) * (x - c) + Math.cos(a) * (y - c) + c);
      out[y * size + x] = sx >= 0 && sy >= 0 && sx < size && sy < size ? src[sy * size + sx]! : 0;
    }
  }
  return out;
}

/** Mean absolute difference over the central part of two square images, leaving `border` pixels out. */
function meanAbsDiff(a: Uint8Array, b: Uint8Array, size: number, border: number): number {
  let sum = 0;
  let n = 0;
  for (let y = border; y < size - border; y++) for (let x = border; x < size - border; x++, n++) sum += Math.abs(a[y * size + x]! - b[y * size + x]!);
  return sum / n;
}

test('prepare keeps the subject of each video (its main track), not a larger face passing by', async () => {
  const root = path.join(tmp, 'passer-by');
  const dir = path.join(root, 'subject 9', 'happiness', 'sentence 1');
  await fs.mkdir(dir, { recursive: true });
  const faces = (await fs.readdir(path.join(CKPLUS, 'happiness'))).sort();
  const [subject, passer] = [faces[3]!, faces[40]!].map((f) => path.join(CKPLUS, 'happiness', f));
  // The subject at 200 px on the left for 2 s; another face, larger (280 px), on the right from 0.8 to 1.4 s.
  await run('ffmpeg', [
    '-v',
    'error',
    '-y',
    '-f',
    'lavfi',
    '-i',
    'color=c=0x5a6e82:s=720x576:d=2:r=25',
    '-loop',
    '1',
    '-i',
    subject!,
    '-loop',
    '1',
    '-i',
    passer!,
    '-filter_complex',
    "[1]scale=200:200[a];[2]scale=280:280[b];[0][a]overlay=60:150[v];[v][b]overlay=400:100:enable='between(t,0.8,1.4)',format=yuvj420p",
    '-t',
    '2',
    '-c:v',
    'mjpeg',
    '-q:v',
    '4',
    path.join(dir, 's9_ha_1.avi'),
  ]);
  const out = path.join(tmp, 'passer-by-dataset');
  const r = await run(
    'node',
    [
      ...CLI,
      'prepare',
      root,
      '--out',
      out,
      '--frames-per-video',
      '8',
      '--skip-start',
      '0',
      '--detector',
      'ssd',
      '--size',
      '48',
      '--split',
      'random',
      '--seed',
      '1',
      '--augment',
      'none',
      '--workers',
      '1',
      '--json',
    ],
    { cwd: REPO },
  );
  const summary = JSON.parse(r.stdout) as PrepareSummary;
  assert.equal(summary.frames, 8);
  const manifest = JSON.parse(await fs.readFile(path.join(out, 'manifest.json'), 'utf8')) as Manifest;
  const times = manifest.images.map((i) => i.frameTime!);
  assert.ok(
    times.some((t) => t >= 0.8 && t <= 1.4),
    `no sampled frame shows the passer-by: ${times}`,
  );
  assert.equal(manifest.images.length, 8, 'the subject is in every frame');
  for (const img of manifest.images)
    assert.ok(img.box!.x < 200 && img.box!.x + img.box!.width < 400, `frame at ${img.frameTime} s kept the face at ${JSON.stringify(img.box)}`);
});
