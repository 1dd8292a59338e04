/**
 * predict and the EmotionRecognizer: zero, one and several faces (composited from shared CK+
 * crops), a video made with ffmpeg, annotated copies, the three output formats, bad inputs and
 * exit codes. Uses the bundled model when present, else a tiny model trained in os.tmpdir().
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { decodeItems } from '../src/data/decoded-set.js';
import { tf } from '../src/engine/tf.js';
import { loadModel } from '../src/model/model-io.js';
import { predictSet } from '../src/model/predict-set.js';
import { readRunMetadata, resolveModel, type RunMetadata } from '../src/model/run-folder.js';
import { datasetFaceCut, TIGHT_CROP_MARGIN } from '../src/data/face-cut.js';
import { EmotionRecognizer } from '../src/index.js';
import { runPredict, summariseVideo, type ImageResult, type VideoResult } from '../src/inference/predict.js';
import { formatCsv, formatJson, formatTextTable } from '../src/inference/predict-format.js';
import { ckFace, composite, hasDatasets, iou, REPO, testModel, hasFfmpeg } from './predict-helpers.js';

const execFileAsync = promisify(execFile);

const skip = hasDatasets ? false : 'the shared datasets (../shared/datasets/ckplus48) are not there';

describe('predict', { skip }, () => {
  let dir: string;
  let modelDir: string;
  let recognizer: EmotionRecognizer;
  // Where the two faces of two.png were pasted.
  const placed = [
    { file: ckFace('happiness'), left: 40, top: 120, side: 220 },
    { file: ckFace('surprise'), left: 400, top: 110, side: 220 },
  ];

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'visemo-predict-'));
    modelDir = (await testModel()).dir;
    recognizer = await EmotionRecognizer.load({ model: modelDir });
    await fs.mkdir(path.join(dir, 'in', 'sub'), { recursive: true });
    await fs.writeFile(path.join(dir, 'in', 'two.png'), await composite(680, 440, placed));
    await fs.writeFile(
      path.join(dir, 'in', 'sub', 'one.jpg'),
      await composite(640, 480, [{ file: ckFace('happiness', 1), left: 200, top: 120, side: 240 }], 'jpeg'),
    );
    await fs.writeFile(path.join(dir, 'in', 'none.png'), await composite(320, 240, []));
  });

  after(async () => {
    recognizer.dispose();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('finds every face, where it was placed, with a probability per class', async () => {
    const faces = await recognizer.recognize(path.join(dir, 'in', 'two.png'));
    assert.equal(faces.length, 2, `expected 2 faces, got ${JSON.stringify(faces.map((f) => f.box))}`);
    for (const p of placed) {
      const target = { x: p.left, y: p.top, width: p.side, height: p.side };
      assert.ok(
        faces.some((f) => iou(f.box, target) > 0.4),
        `no face found near ${JSON.stringify(target)}`,
      );
    }
    for (const f of faces) {
      assert.deepEqual(Object.keys(f.scores), recognizer.classes);
      const sum = Object.values(f.scores).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs(sum - 1) < 1e-4, `probabilities sum to ${sum}`);
      assert.equal(f.confidence, Math.max(...Object.values(f.scores)));
      assert.equal(f.scores[f.emotion], f.confidence);
      assert.ok(f.faceScore >= 0.5 && f.faceScore <= 1);
    }
    assert.deepEqual(await recognizer.recognize(path.join(dir, 'in', 'none.png')), []);
  });

  it('finds faces in a large photo (detected on a shrunk copy) at full-resolution coordinates', async () => {
    const target = { x: 900, y: 700, width: 900, height: 900 };
    const big = await composite(3200, 2400, [{ file: ckFace('happiness', 3), left: target.x, top: target.y, side: target.width }], 'jpeg');
    const faces = await recognizer.recognize(big);
    assert.equal(faces.length, 1);
    assert.ok(iou(faces[0]!.box, target) > 0.4, `box ${JSON.stringify(faces[0]!.box)} far from ${JSON.stringify(target)}`);
  });

  it('accepts file paths, encoded buffers, raw pixels and tensors alike, without leaking tensors', async () => {
    const file = path.join(dir, 'in', 'two.png');
    const fromPath = await recognizer.recognize(file);
    const bytes = await fs.readFile(file);
    const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const raw = { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 as const };
    const tensor = tf.tensor3d(raw.data, [info.height, info.width, 3], 'int32');
    const before = tf.memory().numTensors;
    for (const input of [bytes, raw, tensor]) {
      const faces = await recognizer.recognize(input);
      assert.deepEqual(
        faces.map((f) => f.box),
        fromPath.map((f) => f.box),
      );
      faces.forEach((f, i) => assert.ok(Math.abs(f.confidence - fromPath[i]!.confidence) < 1e-5));
    }
    assert.equal(tf.memory().numTensors, before, 'recognize leaked tensors');
    tensor.dispose();
  });

  it('classifies an already-cropped face exactly as evaluate does (same preprocessing as training)', async () => {
    const meta = JSON.parse(await fs.readFile(path.join(modelDir, 'metadata.json'), 'utf8')) as RunMetadata;
    const files = ['anger', 'happiness', 'surprise'].map((c) => ckFace(c, 2));
    const { set } = await decodeItems(
      files.map((f) => ({ path: f, rel: path.basename(f), label: meta.classes[0]!, file: path.basename(f) })),
      meta.classes,
      meta.inputSize,
    );
    const model = await loadModel(modelDir);
    const expected = predictSet(model, set, meta.normalisation, meta.channels);
    model.dispose();
    const got = await recognizer.recognizeMany(files, { detect: false });
    got.forEach((faces, i) => {
      assert.equal(faces.length, 1);
      // Same pixels, same batch, same model: bit-identical probabilities.
      meta.classes.forEach((c, k) => assert.equal(faces[0]!.scores[c], expected[i]![k], `${c}: ${faces[0]!.scores[c]} vs ${expected[i]![k]}`));
    });
  });

  it('resolves the default, named and path models, and names the folder when one is missing', async () => {
    const own = await resolveModel(modelDir);
    assert.equal(own.dir, path.resolve(modelDir));
    assert.equal(own.bundled, false);
    await assert.rejects(
      resolveModel(path.join(dir, 'no-such-run')),
      (err: Error) => err.message.includes(path.join(dir, 'no-such-run')) && /does not exist/.test(err.message),
    );
    await assert.rejects(resolveModel(path.join(dir, 'in')), /has no model\.json, weights\.bin, metadata\.json/);
  });

  it('takes the face cut from the dataset a model was trained on (prepare margin, align), else the tight public crops', async () => {
    const prepared = path.join(dir, 'prepared');
    await fs.mkdir(path.join(prepared, 'train'), { recursive: true });
    await fs.writeFile(path.join(prepared, 'manifest.json'), JSON.stringify({ tool: 'visemo prepare', options: { margin: 0.3, detect: true } }));
    const cutOf = async (p: string) => (await datasetFaceCut(p)).cut;
    assert.deepEqual(await cutOf(prepared), { method: 'box', margin: 0.3 });
    assert.deepEqual(await cutOf(path.join(prepared, 'train')), { method: 'box', margin: 0.3 });
    assert.deepEqual(await cutOf(path.join(dir, 'in')), { method: 'box', margin: TIGHT_CROP_MARGIN });
    await fs.writeFile(path.join(prepared, 'manifest.json'), JSON.stringify({ tool: 'visemo prepare', options: { margin: 0.3, detect: false } }));
    assert.deepEqual(await cutOf(prepared), { method: 'box', margin: TIGHT_CROP_MARGIN });
    await fs.writeFile(path.join(prepared, 'manifest.json'), JSON.stringify({ tool: 'visemo prepare', options: { margin: 0.3, detect: true, align: true } }));
    assert.deepEqual(await cutOf(prepared), { method: 'landmarks' });
    const aligned = path.join(dir, 'aligned');
    await fs.mkdir(path.join(aligned, 'anger'), { recursive: true });
    await fs.writeFile(path.join(aligned, 'align-manifest.json'), '{}');
    assert.deepEqual(await cutOf(aligned), { method: 'landmarks' });
    // The recogniser uses the model's metadata unless told otherwise.
    const { faceCut } = await readRunMetadata(modelDir);
    assert.equal(recognizer.margin, faceCut.method === 'box' ? faceCut.margin : null);
    const wide = await EmotionRecognizer.load({ model: modelDir, margin: 0.5 });
    assert.equal(wide.margin, 0.5);
    wide.dispose();
  });

  it('runs over folders and a video, batching faces, and reports bad inputs by name', { skip: hasFfmpeg ? false : 'ffmpeg is not installed' }, async () => {
    const video = path.join(dir, 'clip.mp4');
    // 2 s at 10 fps of the two-face picture.
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-loop',
      '1',
      '-i',
      path.join(dir, 'in', 'two.png'),
      '-t',
      '2',
      '-r',
      '10',
      '-c:v',
      'libx264',
      '-pix_fmt',
      'yuv420p',
      video,
    ]);
    await fs.writeFile(path.join(dir, 'in', 'notes.txt'), 'not an image');
    await fs.writeFile(path.join(dir, 'in', 'broken.png'), 'not a png either');
    await fs.mkdir(path.join(dir, 'empty'));
    const annotate = path.join(dir, 'annotated');
    const seen: string[] = [];
    const report = await runPredict([path.join(dir, 'in'), video, path.join(dir, 'empty'), path.join(dir, 'missing.jpg')], {
      recognizer,
      fps: 5,
      annotate,
      batch: 4,
      onResult: (r) => seen.push(r.file),
    });
    const images = report.results.filter((r): r is ImageResult => r.kind === 'image');
    assert.deepEqual(images.map((r) => path.relative(dir, r.file)).sort(), ['in/none.png', 'in/sub/one.jpg', 'in/two.png']);
    assert.equal(images.find((r) => r.file.endsWith('two.png'))!.faces.length, 2);
    assert.equal(images.find((r) => r.file.endsWith('one.jpg'))!.faces.length, 1);
    assert.equal(images.find((r) => r.file.endsWith('none.png'))!.faces.length, 0);

    const failed = Object.fromEntries(
      report.results.filter((r) => r.kind === 'error').map((r) => [path.relative(dir, r.file), (r as { reason: string }).reason]),
    );
    assert.deepEqual(Object.keys(failed).sort(), ['empty', 'in/broken.png', 'in/notes.txt', 'missing.jpg']);
    assert.match(failed['in/notes.txt']!, /not an image or video/);
    assert.match(failed['in/broken.png']!, /not a readable image/);
    assert.match(failed.empty!, /no images or videos/);
    assert.match(failed['missing.jpg']!, /does not exist/);
    assert.equal(seen.length, report.results.length);

    const v = report.results.find((r): r is VideoResult => r.kind === 'video')!;
    assert.ok(v.timeline.length >= 9 && v.timeline.length <= 11, `expected ~10 frames at 5 fps over 2 s, got ${v.timeline.length}`);
    for (const frame of v.timeline) assert.equal(frame.faces.length, 2, `frame at ${frame.time}s`);
    assert.equal(v.summary.framesWithFaces, v.timeline.length);
    assert.ok(Math.abs(Object.values(v.summary.shares).reduce((a, b) => a + b, 0) - 1) < 1e-9);
    assert.equal(v.summary.dominant, summariseVideo(v.timeline, recognizer.classes).dominant);
    assert.ok(recognizer.classes.includes(v.summary.dominant!));

    const s = report.stats;
    assert.equal(s.faces, 2 + 1 + 2 * v.timeline.length);
    assert.equal(s.failed, 4);
    assert.ok(s.facesPerSecond > 0 && s.modelFacesPerSecond > s.facesPerSecond);

    // Annotated copies: same size, the face box drawn in the emotion's colour.
    const copy = path.join(annotate, 'two.png');
    const meta = await sharp(copy).metadata();
    assert.deepEqual([meta.width, meta.height], [680, 440]);
    const before = await sharp(path.join(dir, 'in', 'two.png'))
      .removeAlpha()
      .raw()
      .toBuffer();
    const afterPx = await sharp(copy).removeAlpha().raw().toBuffer();
    const box = images.find((r) => r.file.endsWith('two.png'))!.faces[0]!.box;
    const at = (buf: Buffer, x: number, y: number) => [...buf.subarray((y * 680 + x) * 3, (y * 680 + x) * 3 + 3)];
    const edge = { x: box.x + Math.round(box.width / 2), y: box.y + box.height - 1 };
    assert.notDeepEqual(at(afterPx, edge.x, edge.y), at(before, edge.x, edge.y), 'no box drawn on the face');
    await fs.access(path.join(annotate, 'sub', 'one.jpg'));
    const { stdout } = await execFileAsync('ffprobe', [
      '-v',
      'error',
      '-count_frames',
      '-show_entries',
      'stream=nb_read_frames,width,height',
      '-of',
      'csv=p=0',
      path.join(annotate, 'clip.annotated.mp4'),
    ]);
    assert.equal(stdout.trim(), `680,440,${v.timeline.length}`);

    // Output formats: JSON round-trips, CSV has a row per face, per face-less image and per failure.
    const json = JSON.parse(formatJson(report)) as typeof report;
    assert.equal(json.results.length, report.results.length);
    const csv = formatCsv(report).trim().split('\n');
    assert.equal(csv[0]!.split(',').length, 13 + recognizer.classes.length);
    assert.equal(csv.length - 1, s.faces + 1 + 4);
    const table = formatTextTable(report);
    assert.match(table, /none\.png\s+-\s+no face found/);
    assert.match(table, /dominant emotion/);
  });
});

describe('visemo predict (command line)', { skip }, () => {
  let dir: string;
  let modelDir: string;
  const cli = (args: string[]) =>
    execFileAsync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli/main.ts'), 'predict', ...args], { cwd: REPO }).then(
      ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
      (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
    );

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'visemo-predict-cli-'));
    modelDir = (await testModel()).dir;
    await fs.writeFile(
      path.join(dir, 'two.png'),
      await composite(640, 400, [
        { file: ckFace('happiness'), left: 20, top: 100, side: 200 },
        { file: ckFace('surprise'), left: 380, top: 100, side: 200 },
      ]),
    );
    await fs.writeFile(path.join(dir, 'bad.jpg'), 'garbage');
  });

  after(() => fs.rm(dir, { recursive: true, force: true }));

  it('prints CSV and a faces-per-second summary; exits 1 naming a skipped file, 0 when all were read', async () => {
    const bad = await cli([path.join(dir, 'two.png'), path.join(dir, 'bad.jpg'), '--model', modelDir, '--format', 'csv']);
    assert.equal(bad.code, 1, bad.stderr);
    assert.match(bad.stderr, /skipped .*bad\.jpg: not a readable image/);
    assert.match(bad.stderr, /1 image, 2 faces, 1 skipped in [\d.]+ s: [\d.]+ faces\/s end to end/);
    const rows = bad.stdout.trim().split('\n');
    assert.equal(rows.filter((r) => r.includes('two.png')).length, 2);

    const good = await cli([path.join(dir, 'two.png'), '--model', modelDir, '--format', 'json']);
    assert.equal(good.code, 0, good.stderr);
    const parsed = JSON.parse(good.stdout) as { results: { faces: unknown[] }[] };
    assert.equal(parsed.results[0]!.faces.length, 2);
  });

  it('exits 2 with the path and what to do when the model folder is missing', async () => {
    const r = await cli([path.join(dir, 'two.png'), '--model', path.join(dir, 'nope')]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /nope does not exist — train one with `visemo train/);
  });

  it('--annotate never writes into its inputs: inside an input folder, an input itself, or a non-empty folder are refused; equal names stay apart', async () => {
    const inputs = path.join(dir, 'inputs');
    await fs.mkdir(path.join(inputs, 'a'), { recursive: true });
    await fs.mkdir(path.join(inputs, 'b'), { recursive: true });
    await fs.copyFile(path.join(dir, 'two.png'), path.join(inputs, 'a', 'face.png'));
    await fs.copyFile(path.join(dir, 'two.png'), path.join(inputs, 'b', 'face.png'));
    const original = await fs.readFile(path.join(inputs, 'a', 'face.png'));
    for (const [args, re] of [
      [[path.join(inputs, 'a'), '--annotate', path.join(inputs, 'a')], /--annotate .* is the input/],
      [[inputs, '--annotate', path.join(inputs, 'a', 'out')], /is inside the input/],
      [[path.join(inputs, 'a', 'face.png'), '--annotate', path.join(inputs, 'a', 'face.png')], /is the input .*replace it/],
    ] as [string[], RegExp][]) {
      const r = await cli([...args, '--model', modelDir]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, re);
    }
    assert.deepEqual(await fs.readFile(path.join(inputs, 'a', 'face.png')), original, 'an input was changed');
    assert.deepEqual((await fs.readdir(path.join(inputs, 'a'))).sort(), ['face.png']);
    // Two inputs named alike from different folders: two copies.
    const out = path.join(dir, 'copies');
    const r = await cli([path.join(inputs, 'a', 'face.png'), path.join(inputs, 'b', 'face.png'), '--model', modelDir, '--annotate', out, '--format', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await fs.readdir(out)).sort(), ['face-2.png', 'face.png']);
    const annotated = (JSON.parse(r.stdout) as { results: { annotated: string }[] }).results.map((x) => path.basename(x.annotated)).sort();
    assert.deepEqual(annotated, ['face-2.png', 'face.png']);
    // The folder now holds copies: again only with --force.
    const again = await cli([path.join(inputs, 'a', 'face.png'), '--model', modelDir, '--annotate', out]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /is not empty — .*--force/);
    assert.equal((await cli([path.join(inputs, 'a', 'face.png'), '--model', modelDir, '--annotate', out, '--force'])).code, 0);
  });
});
