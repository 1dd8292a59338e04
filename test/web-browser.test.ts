/**
 * The web app in headless Chromium (Debian's chromium driven by playwright-core): its webcam is
 * Chromium's fake capture playing a y4m made with ffmpeg from a CK+ face, and the page must show
 * the face with a box and per-emotion bars, in the browser, with frames per second. Then an
 * uploaded two-face image must agree with Node's recogniser, and an uploaded video must play
 * through the same analysis. Saves screenshots under
 * build/test-artifacts/ and prints the frames per second reached.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_MODEL, EmotionRecognizer } from '../src/index.js';
import { startServer, type RunningServer } from '../src/server/server.js';
import { ckFace, composite, hasBundled, hasDatasets, iou, REPO, testModel, hasFfmpeg } from './predict-helpers.js';

const CHROMIUM = process.env.VISEMO_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = path.join(REPO, 'build', 'test-artifacts');
const skip = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is not installed (apt-get install chromium, or set VISEMO_CHROMIUM)`
  : !hasFfmpeg
    ? 'ffmpeg is not installed (it makes the fake webcam video)'
    : !hasDatasets
      ? 'the shared datasets are not there'
      : false;

interface PageFace {
  box: { x: number; y: number; width: number; height: number };
  track?: number;
  label?: string;
  smoothed?: Record<string, number>;
  emotion: string;
  confidence: number;
  scores: Record<string, number>;
}
interface PageState {
  ready: boolean;
  backend: string;
  model: string;
  videoDetector: string;
  source: string;
  frames: number;
  fps: number;
  faces: PageFace[];
  tracks: number;
  error: string | null;
}

describe('web app in headless Chromium', { skip, timeout: 240_000 }, () => {
  let root: string;
  let server: RunningServer;
  let modelId: string;
  let modelDir: string;
  let browser: import('playwright-core').Browser;
  let page: import('playwright-core').Page;
  const external: string[] = [];
  const pageErrors: string[] = [];
  // The face in the fake webcam's 640x480 frame.
  const placed = { x: 200, y: 120, width: 240, height: 240 };

  before(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), 'visemo-web-'));
    const runs = path.join(root, 'runs');
    await fs.mkdir(runs);
    const model = await testModel();
    modelDir = model.dir;
    if (model.bundled) {
      modelId = DEFAULT_MODEL;
    } else {
      await fs.cp(model.dir, path.join(runs, 'tiny'), { recursive: true });
      modelId = 'runs/tiny';
    }
    const frame = path.join(root, 'frame.png');
    await fs.writeFile(frame, await composite(640, 480, [{ file: ckFace('happiness'), left: placed.x, top: placed.y, side: placed.width }]));
    const y4m = path.join(root, 'webcam.y4m');
    execFileSync('ffmpeg', ['-v', 'error', '-y', '-loop', '1', '-i', frame, '-t', '2', '-r', '10', '-pix_fmt', 'yuv420p', y4m]);
    server = await startServer({ port: 0, runsDir: runs });
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--headless',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--use-fake-ui-for-media-stream',
        '--use-fake-device-for-media-stream',
        `--use-file-for-fake-video-capture=${y4m}`,
      ],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('request', (r) => {
      if (!r.url().startsWith(server.url) && !/^(blob|data):/.test(r.url())) external.push(r.url());
    });
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await fs.mkdir(ARTIFACTS, { recursive: true });
  });

  after(async () => {
    await browser?.close();
    await server?.close();
    await fs.rm(root, { recursive: true, force: true });
  });

  const state = () => page.evaluate(() => (window as unknown as { visemo: PageState }).visemo);

  it('shows the webcam face with a box, per-emotion bars and frames per second', async () => {
    await page.goto(`${server.url}?model=${encodeURIComponent(modelId)}`);
    await page.waitForFunction(
      () => {
        const s = (window as unknown as { visemo?: PageState }).visemo;
        return s?.ready || s?.error;
      },
      null,
      { timeout: 60_000 },
    );
    const ready = await state();
    assert.equal(ready.error, null);
    assert.equal(ready.model, modelId);
    await page.click('#webcam');
    await page.waitForFunction(
      () => {
        const s = (window as unknown as { visemo: PageState }).visemo;
        return s.frames >= 12 || s.error;
      },
      null,
      { timeout: 120_000 },
    );
    const s = await state();
    assert.equal(s.error, null);
    assert.equal(s.source, 'webcam');
    // Live video is detected with BlazeFace by default, fetched from this server like the other nets.
    assert.equal(s.videoDetector, 'blazeface');
    assert.equal(s.faces.length, 1, `faces: ${JSON.stringify(s.faces)}`);
    assert.ok(iou(s.faces[0]!.box, placed) > 0.4, `box ${JSON.stringify(s.faces[0]!.box)} far from the face at ${JSON.stringify(placed)}`);
    assert.ok(s.fps > 0);
    // The live video goes through the tracker: one id for the one face over all frames, smoothed scores beside the raw.
    assert.equal(s.faces[0]!.track, 1);
    assert.equal(s.tracks, 1, `${s.tracks} track ids over ${s.frames} frames of one still face`);
    assert.ok(s.faces[0]!.smoothed && s.faces[0]!.label && Object.keys(s.faces[0]!.smoothed).length === Object.keys(s.faces[0]!.scores).length);

    const card = page.locator('.face-card');
    assert.equal(await card.count(), 1);
    assert.equal(await card.getAttribute('data-track'), '1');
    // The live timeline strip: coloured in the label's colour where it has history.
    const strip = await card.locator('canvas.strip').evaluate((el) => {
      const c = el as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(c.width - 2, 7, 1, 1).data;
      return { w: c.width, rgb: [d[0], d[1], d[2]] };
    });
    assert.equal(strip.w, 240);
    assert.notDeepEqual(strip.rgb, [238, 238, 238], 'the strip has no recent label');
    const bars = card.locator('.bar-row');
    assert.equal(await bars.count(), Object.keys(s.faces[0]!.scores).length);
    const widths = await bars.locator('.bar > span').evaluateAll((spans) => spans.map((e) => parseFloat((e as HTMLElement).style.width)));
    assert.ok(Math.abs(widths.reduce((a, b) => a + b, 0) - 100) < 1, `bar widths ${widths}`);
    assert.match((await page.textContent('#fps')) ?? '', /^\d+\.\d fps$/);
    // The canvas shows the frame with the box: not blank.
    const drawn = await page.evaluate(() => {
      const c = document.getElementById('canvas') as HTMLCanvasElement;
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      let sum = 0;
      for (let i = 0; i < d.length; i += 4) sum += d[i]!;
      return { w: c.width, h: c.height, mean: sum / (d.length / 4) };
    });
    assert.deepEqual([drawn.w, drawn.h], [640, 480]);
    assert.ok(drawn.mean > 20, 'canvas is blank');
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-webcam.png'), fullPage: true });
    console.log(`web app: ${s.fps.toFixed(1)} frames per second on the fake webcam (${s.frames} frames, backend ${s.backend}, model ${s.model})`);
  });

  it('recognises an uploaded image as Node does, with nothing fetched from outside', async () => {
    const file = path.join(root, 'two.png');
    await fs.writeFile(
      file,
      await composite(640, 400, [
        { file: ckFace('happiness'), left: 20, top: 100, side: 200 },
        { file: ckFace('surprise'), left: 380, top: 100, side: 200 },
      ]),
    );
    await page.setInputFiles('#file', file);
    await page.waitForFunction(() => (window as unknown as { visemo: PageState }).visemo.source === 'image', null, { timeout: 60_000 });
    const s = await state();
    assert.equal(s.faces.length, 2);
    await page.screenshot({ path: path.join(ARTIFACTS, 'web-upload.png'), fullPage: true });

    // Node's recogniser on the same file: same boxes, close probabilities (the page resizes with an
    // area filter where sharp uses lanczos3, so not bit-identical).
    const recognizer = await EmotionRecognizer.load({ model: modelDir });
    const node = await recognizer.recognize(file);
    recognizer.dispose();
    assert.equal(node.length, 2);
    for (const f of s.faces) {
      const twin = node.find((n) => iou(n.box, f.box) > 0.8);
      assert.ok(twin, `no Node face matches the page's box ${JSON.stringify(f.box)}`);
      const diff = Object.keys(f.scores).reduce((m, c) => Math.max(m, Math.abs(f.scores[c]! - twin.scores[c]!)), 0);
      assert.ok(diff < 0.1, `page and Node probabilities differ by ${diff.toFixed(3)} (${JSON.stringify(f.scores)} vs ${JSON.stringify(twin.scores)})`);
      if (hasBundled) assert.equal(f.emotion, twin.emotion);
    }

    // An uploaded video plays and is analysed frame after frame like the webcam.
    const clip = path.join(root, 'two.webm');
    execFileSync('ffmpeg', [
      '-v',
      'error',
      '-y',
      '-loop',
      '1',
      '-i',
      file,
      '-t',
      '3',
      '-r',
      '10',
      '-c:v',
      'libvpx-vp9',
      '-deadline',
      'realtime',
      '-pix_fmt',
      'yuv420p',
      clip,
    ]);
    await page.setInputFiles('#file', clip);
    await page.waitForFunction(
      () => {
        const v = (window as unknown as { visemo: PageState }).visemo;
        // Past the second full detection (every 10th frame): a face the first missed is found by then.
        return (v.source === 'video' && v.frames >= 12) || v.error;
      },
      null,
      { timeout: 60_000 },
    );
    const played = await state();
    assert.equal(played.error, null);
    assert.equal(played.faces.length, 2);

    assert.deepEqual(external, [], 'the page fetched from outside the server');
    assert.deepEqual(pageErrors, []);
  });

  it('aligns faces by landmarks for a model trained on aligned faces, as Node does', async () => {
    // The same weights, declared as trained on aligned faces: the page must load the landmark net and cut aligned squares.
    const runs = path.join(root, 'runs');
    await fs.cp(modelDir, path.join(runs, 'aligned'), { recursive: true });
    const metaFile = path.join(runs, 'aligned', 'metadata.json');
    await fs.writeFile(metaFile, JSON.stringify({ ...JSON.parse(await fs.readFile(metaFile, 'utf8')), faceCut: { method: 'landmarks' } }));
    const landmarkRequests: string[] = [];
    page.on('request', (r) => {
      if (/face_landmark_68/.test(r.url())) landmarkRequests.push(r.url());
    });
    await page.goto(`${server.url}?model=${encodeURIComponent('runs/aligned')}`);
    await page.waitForFunction(
      () => {
        const v = (window as unknown as { visemo?: PageState }).visemo;
        return v?.ready || v?.error;
      },
      null,
      { timeout: 60_000 },
    );
    const file = path.join(root, 'tilted.png');
    await fs.writeFile(file, await composite(640, 400, [{ file: ckFace('surprise'), left: 200, top: 80, side: 240 }]));
    await page.setInputFiles('#file', file);
    await page.waitForFunction(() => (window as unknown as { visemo: PageState }).visemo.source === 'image', null, { timeout: 60_000 });
    const s = await state();
    assert.equal(s.error, null);
    assert.equal(s.faces.length, 1);
    assert.ok(landmarkRequests.length > 0, 'the landmark net was not loaded');
    const recognizer = await EmotionRecognizer.load({ model: path.join(runs, 'aligned') });
    assert.deepEqual(recognizer.faceCut, { method: 'landmarks' });
    const [node] = await recognizer.recognize(file);
    recognizer.dispose();
    // Node refines its landmarks in a second pass and resizes with lanczos3: close, not identical.
    const diff = Object.keys(s.faces[0]!.scores).reduce((m, c) => Math.max(m, Math.abs(s.faces[0]!.scores[c]! - node!.scores[c]!)), 0);
    assert.ok(diff < 0.15, `page and Node probabilities differ by ${diff.toFixed(3)}`);
    assert.deepEqual(pageErrors, []);
  });
});
