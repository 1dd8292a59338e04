import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { CKPLUS, FER_TRAIN, hasShared, runCli, tempDir, writeGrayPng } from '../../test/helpers.js';
import { decodeGray } from '../image/decode.js';
import { alignFolder, formatAlignSummary, type AlignManifest } from './align-folder.js';
import { ALIGN_MANIFEST } from '../data/face-cut.js';
import { loadLandmarkNet } from './landmarks.js';

/** Every temporary folder made here, removed at the end (they hold copies derived from the shared datasets). */
const temps: string[] = [];
const temp = (prefix: string) => {
  const dir = tempDir(prefix);
  temps.push(dir);
  return dir;
};
after(async () => {
  for (const dir of temps) await fs.rm(dir, { recursive: true, force: true });
});

/**
 * train/{happiness,sadness}/ and test/happiness/: real faces (links into the shared datasets, when
 * present), a blank image (no face: written unaligned), and a corrupt file (unreadable).
 */
async function smallDataset(): Promise<{ src: string; faces: string[]; blank: string; broken: string }> {
  const src = temp('visemo-align-src-');
  const faces: string[] = [];
  const link = async (from: string, rel: string) => {
    await fs.mkdir(path.dirname(path.join(src, rel)), { recursive: true });
    await fs.symlink(from, path.join(src, rel));
    faces.push(rel);
  };
  if (hasShared) {
    await link(path.join(CKPLUS, 'happiness', 'S010_006_00000013.png'), 'train/happiness/S010_006_00000013.png');
    await link(path.join(FER_TRAIN, 'happiness', 'Training_10019449.jpg'), 'train/happiness/Training_10019449.jpg');
    await link(path.join(CKPLUS, 'sadness', (await fs.readdir(path.join(CKPLUS, 'sadness'))).sort()[0]!), 'train/sadness/ck-sad.png');
    await link(path.join(FER_TRAIN, 'happiness', 'Training_10046809.jpg'), 'test/happiness/Training_10046809.jpg');
  } else {
    await writeGrayPng(path.join(src, 'train', 'happiness', 'dots.png'), 48, 48, (x, y) => (((x >> 2) + (y >> 2)) % 2 ? 200 : 60));
    await writeGrayPng(path.join(src, 'test', 'happiness', 'stripes.png'), 48, 48, (x) => ((x >> 3) % 2 ? 220 : 30));
  }
  const blank = 'train/sadness/blank.png';
  await writeGrayPng(path.join(src, blank), 60, 60, () => 128);
  const broken = 'train/sadness/broken.png';
  await fs.writeFile(path.join(src, broken), Buffer.from('\x89PNG\r\n\x1a\n not really a png'));
  return { src, faces, blank, broken };
}

const pngName = (rel: string) => rel.replace(/\.[^./]+$/, '.png');

test('alignFolder: refuses an output inside the source or a foreign non-empty folder; writes every readable image; resumes; --force starts over', async () => {
  const net = await loadLandmarkNet();
  const { src, faces, blank, broken } = await smallDataset();
  await assert.rejects(alignFolder({ src, out: src, net }), /is the source folder/);
  await assert.rejects(alignFolder({ src, out: path.join(src, 'train', 'aligned'), net }), /inside the source folder/);
  const foreign = temp('visemo-align-foreign-');
  await fs.writeFile(path.join(foreign, 'notes.txt'), 'mine');
  await assert.rejects(alignFolder({ src, out: foreign, net }), /not empty and was not written by visemo align/);
  assert.deepEqual(await fs.readdir(foreign), ['notes.txt']);

  const out = path.join(temp('visemo-align-out-'), 'aligned');
  const progress: [number, number][] = [];
  const s = await alignFolder({ src, out, net, onProgress: (done, total) => progress.push([done, total]) });
  const total = faces.length + 2;
  assert.equal(s.images, total);
  assert.equal(s.unreadable, 1);
  assert.equal(s.aligned + s.fallback, total - 1);
  if (hasShared) assert.equal(s.aligned, faces.length, JSON.stringify(s.problems));
  assert.equal(s.resumed, 0);
  assert.deepEqual(progress.at(-1), [total, total]);
  // The problems name the corrupt file and the blank image, in the dataset's order.
  const named = Object.fromEntries(s.problems.map((p) => [p.source, p]));
  assert.equal(named[broken]?.status, 'unreadable');
  assert.equal(named[blank]?.status, 'fallback');
  assert.match(named[blank].reason, /eyes-too-close|angle-too-large|eyes-not-above-mouth/);
  assert.match(formatAlignSummary(s), /unreadable \(not written\): 1/);

  // Same relative paths, as 48×48 one-channel PNG; nothing for the corrupt file.
  for (const rel of [...faces, blank]) {
    const meta = await sharp(path.join(out, pngName(rel))).metadata();
    assert.equal(meta.format, 'png', rel);
    assert.deepEqual([meta.width, meta.height, meta.channels], [48, 48, 1], rel);
  }
  await assert.rejects(fs.access(path.join(out, broken)));
  // The blank image is kept unaligned: just resized, as training would read it.
  assert.deepEqual(await decodeGray(path.join(out, blank), 48), await decodeGray(path.join(src, blank), 48));

  const manifest = JSON.parse(await fs.readFile(path.join(out, ALIGN_MANIFEST), 'utf8')) as AlignManifest;
  assert.equal(manifest.complete, true);
  assert.equal(manifest.size, 48);
  assert.deepEqual(Object.keys(manifest.images).sort(), [...faces, blank, broken].sort());
  for (const rel of faces.filter(() => hasShared)) {
    const e = manifest.images[rel]!;
    assert.equal(e.status, 'aligned', rel);
    assert.equal(e.file, pngName(rel));
    assert.ok(typeof e.angle === 'number' && Math.abs(e.angle) < 45, rel);
  }
  assert.equal(manifest.images[blank]!.status, 'fallback');
  assert.equal(typeof manifest.images[blank]!.angle, 'number');
  assert.equal(manifest.images[broken]!.status, 'unreadable');
  assert.equal(manifest.images[broken]!.file, undefined);

  // A re-run resumes: what is written stays untouched; a missing image is written again.
  const kept = path.join(out, pngName(faces[0]!));
  const keptTime = (await fs.stat(kept)).mtimeMs;
  await fs.rm(path.join(out, blank));
  await new Promise((r) => setTimeout(r, 20));
  const again = await alignFolder({ src, out, net });
  assert.equal(again.resumed, total - 2);
  assert.equal(again.aligned, s.aligned);
  assert.equal(again.fallback, s.fallback);
  assert.equal((await fs.stat(kept)).mtimeMs, keptTime, 'a finished image was rewritten');
  await fs.access(path.join(out, blank));

  // Other settings: refused without --force, so nothing is overwritten; with it, started over.
  await assert.rejects(alignFolder({ src, out, size: 32, net }), /other settings \(--size 48\)/);
  assert.deepEqual((await sharp(kept).metadata()).width, 48);
  const forced = await alignFolder({ src, out, size: 32, force: true, net });
  assert.equal(forced.resumed, 0);
  assert.deepEqual([(await sharp(kept).metadata()).width, (await sharp(kept).metadata()).height], [32, 32]);
});

test('visemo align: the command writes the copy and prints the summary; a refused --out exits 2', () => {
  const src = temp('visemo-align-cli-');
  return (async () => {
    await writeGrayPng(path.join(src, 'anger', 'a.png'), 48, 48, () => 90);
    await writeGrayPng(path.join(src, 'fear', 'b.png'), 48, 48, (x, y) => (x + y) * 2);
    const out = path.join(temp('visemo-align-cli-out-'), 'copy');
    const ok = runCli(['align', src, '-o', out, '--size', '24']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /aligned: \d+, fallbacks \(written unaligned\): \d+, unreadable \(not written\): 0/);
    assert.match(ok.stdout, /time: [\d.]+ s/);
    assert.equal((await sharp(path.join(out, 'anger', 'a.png')).metadata()).width, 24);
    const refused = runCli(['align', src, '--out', path.join(src, 'anger')]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /inside the source folder .* — choose an --out outside the dataset/);
  })();
});
